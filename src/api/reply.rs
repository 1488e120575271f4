//! What handlers answer: a typed body serialized as JSON with the content type clients want, or
//! no content. The OpenAPI document describes the same types, so it says what is really sent.

use actix_web::body::BoxBody;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, Responder};
use serde::Serialize;

use super::error::{ApiError, json_content_type};

/// A JSON answer with its status.
pub struct Reply<T> {
    status: StatusCode,
    body: T,
}

impl<T: Serialize> Reply<T> {
    pub fn ok(body: T) -> Reply<T> {
        Reply {
            status: StatusCode::OK,
            body,
        }
    }

    pub fn created(body: T) -> Reply<T> {
        Reply {
            status: StatusCode::CREATED,
            body,
        }
    }
}

/// The buffer a reply is written into starts this large: a page of 50 users (about 17 KB) fits, so the
/// commonest answers are written without growing (and copying) the buffer on the way.
const REPLY_BUFFER: usize = 32 * 1024;

impl<T: Serialize> Responder for Reply<T> {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        let mut json = Vec::with_capacity(REPLY_BUFFER);
        match serde_json::to_writer(&mut json, &self.body) {
            Ok(()) => HttpResponse::build(self.status)
                .content_type(json_content_type())
                .body(json),
            Err(err) => actix_web::ResponseError::error_response(&ApiError::Internal(err.into())),
        }
    }
}

/// 204: done, nothing to say.
pub struct NoContent;

impl Responder for NoContent {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        HttpResponse::NoContent().finish()
    }
}
