//! Text is text in the console (DESIGN.md section 7): every query parameter and every field of
//! every form is checked here, before any page's handler runs, so a NUL or another control
//! character (a line break or tab included), or a line longer than any field takes, is a 400
//! page naming the field, in the viewer's language, and no handler can write or look up
//! anything with it. The fields a person types into forms that answer beside them are left to
//! those forms (`ANSWERED_BESIDE`).

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, ResponseError};
use bytes::BytesMut;
use futures_util::StreamExt;

use super::PageError;
use crate::domain::text::{Lines, is_text};

/// The largest form the console reads: the form extractor's limit (`form::LIMIT`), enforced
/// here first, since this check reads every form before the extractor does.
const FORM_LIMIT: usize = super::form::LIMIT;

/// The fields a person types whose own form answers a control character or an over-long value
/// beside the field, in the domain type it is parsed into (a name, an email, an IP allowlist's
/// ranges, a time zone or language from the list), or drops it as the redirect rules do (the
/// hidden `next` and `back`): this check leaves them to it, so the message is where they typed.
/// The sweep (`tests/api/system/bad_input.rs`) holds each of them to no 5xx and nothing written.
const ANSWERED_BESIDE: [&str; 9] = [
    "display_name",
    "name",
    "org_name",
    "email",
    "ranges",
    "zone",
    "language",
    "next",
    "back",
];

/// The first field of a query string or form body that is not text, by its name.
pub fn first_bad_field(encoded: &[u8]) -> Option<String> {
    url::form_urlencoded::parse(encoded).find_map(|(name, value)| {
        let beside = ANSWERED_BESIDE.contains(&name.as_ref());
        (!is_text(&name, Lines::One) || (!beside && !is_text(&value, Lines::One))).then(|| shown(&name))
    })
}

/// A field's name as the page may show it: control characters escaped, at most 60 characters.
fn shown(name: &str) -> String {
    name.chars().take(60).flat_map(char::escape_debug).collect()
}

/// The middleware: the query string of every request, and the body of every POST read as the
/// form it is (at most `FORM_LIMIT`, then handed on unchanged).
pub async fn refuse_control_characters(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if let Some(field) = first_bad_field(req.query_string().as_bytes()) {
        return Ok(refuse(req, field));
    }
    if req.method() == Method::POST {
        let mut payload = req.take_payload();
        let mut body = BytesMut::new();
        while let Some(chunk) = payload.next().await {
            body.extend_from_slice(&chunk?);
            if body.len() > FORM_LIMIT {
                return Err(actix_web::error::ErrorPayloadTooLarge("the form is larger than 64 KiB"));
            }
        }
        if let Some(field) = first_bad_field(&body) {
            return Ok(refuse(req, field));
        }
        req.set_payload(Payload::from(body.freeze()));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

fn refuse(req: ServiceRequest, field: String) -> ServiceResponse<BoxBody> {
    req.into_response(PageError::BadInput(field).error_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_first_field_holding_a_control_character() {
        assert_eq!(first_bad_field(b"q=acme&role=admin"), None);
        assert_eq!(first_bad_field("q=%E7%B5%84".as_bytes()), None);
        assert_eq!(first_bad_field(b"q=ok&tab=a%00b"), Some("tab".into()));
        assert_eq!(first_bad_field(b"role=a%09b"), Some("role".into()), "a tab on one line");
        assert_eq!(first_bad_field(b"a%00=1"), Some("a\\0".into()));
        assert_eq!(first_bad_field(b"q=%C2%85"), Some("q".into()), "a C1 control");
        let long = format!("role={}", "A".repeat(crate::domain::text::MAX_LINE_BYTES + 1));
        assert_eq!(first_bad_field(long.as_bytes()), Some("role".into()), "over-long");
    }

    #[test]
    fn a_field_its_form_answers_beside_is_left_to_the_form() {
        assert_eq!(first_bad_field(b"display_name=bell%07"), None);
        assert_eq!(first_bad_field(b"ranges=10.0.0.0%2F8%0D%0A%09192.0.2.0%2F24"), None);
        assert_eq!(first_bad_field(b"display_name=ok&role=a%00"), Some("role".into()));
    }
}
