//! Typed answers of the admin API: a serialized body with its status, or 204.
//! (Stand-in until the endpoint table's module of the same name lands; the same interface.)

use actix_web::body::BoxBody;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, Responder};
use serde::Serialize;

use super::error::JSON;

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
            Ok(body) => HttpResponse::build(self.status).content_type(JSON).body(body),
            Err(_) => HttpResponse::InternalServerError().finish(),
        }
    }
}

pub struct NoContent;

impl Responder for NoContent {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        HttpResponse::NoContent().finish()
    }
}
