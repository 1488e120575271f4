//! Static files, embedded in the binary so keyward runs from any directory.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::PageError;

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "keyward.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../static/keyward.css"),
    },
    Asset {
        name: "copy.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/copy.js"),
    },
];

/// A weak validator from the content, so browsers revalidate cheaply after an upgrade.
fn etag(body: &[u8]) -> String {
    format!("\"{:08x}\"", crc32fast::hash(body))
}

pub async fn serve(req: HttpRequest, file: web::Path<String>) -> Result<HttpResponse, PageError> {
    let asset = ASSETS
        .iter()
        .find(|a| a.name == file.as_str())
        .ok_or(PageError::NotFound)?;
    let tag = etag(asset.body);
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == tag);
    let mut res = if matches {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .insert_header((header::ETAG, tag));
    if matches {
        return Ok(res.finish());
    }
    Ok(res.content_type(asset.content_type).body(asset.body))
}
