//! What handlers answer: a typed body serialized as JSON with the content type clients want, or
//! no content. The OpenAPI document describes the same types, so it says what is really sent.

use actix_web::body::BoxBody;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, Responder};
use serde::Serialize;

use super::error::{ApiError, JSON};

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

impl<T: Serialize> Responder for Reply<T> {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        match serde_json::to_vec(&self.body) {
            Ok(json) => HttpResponse::build(self.status).content_type(JSON).body(json),
            Err(err) => actix_web::ResponseError::error_response(&ApiError::Internal(err.to_string())),
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
