//! The API-key middleware in front of every admin API route: it verifies the bearer token
//! (see `auth::api_key`) and hands the handlers a `Caller`.

use std::future::{Ready, ready};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, ResponseError, web};

use super::error::ApiError;
use crate::auth::api_key::{Caller, Refusal};
use crate::auth::client_ip::client_ip;
use crate::startup::AppState;

pub async fn require_key(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(req.error_response(ApiError::Internal("application state missing".into())));
    };
    let peer = req
        .peer_addr()
        .map(|a| a.ip())
        .unwrap_or(std::net::Ipv4Addr::UNSPECIFIED.into());
    let ip = client_ip(peer, req.headers(), &state.trusted_proxies);
    let authorization = req.headers().get("authorization").and_then(|v| v.to_str().ok());
    match state.verifier.verify(authorization, ip).await {
        Ok(caller) => {
            req.extensions_mut().insert(caller);
            Ok(next.call(req).await?.map_into_boxed_body())
        }
        Err(refusal) => {
            state.metrics.auth(refusal.outcome());
            let error = match refusal {
                Refusal::Malformed => ApiError::Unauthorized("Missing or malformed API key."),
                Refusal::Invalid(_) => ApiError::Unauthorized("Invalid API key."),
                Refusal::Revoked => ApiError::Unauthorized("This API key has been revoked."),
                Refusal::Expired => ApiError::Unauthorized("This API key has expired."),
                Refusal::Throttled { retry_after_secs } => ApiError::Throttled { retry_after_secs },
                Refusal::Unavailable => ApiError::Unavailable,
            };
            let response = error.error_response();
            Ok(req.into_response(response))
        }
    }
}

/// Handlers take the verified caller as an argument.
impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Caller, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<Caller>()
                .cloned()
                .ok_or(ApiError::Unauthorized("Missing or malformed API key.")),
        )
    }
}
