//! The API-key middleware in front of every admin API route: it asks the key verifier for the
//! request's admission (`auth::api_key::admission`: proof, validity, allowlist and the key's
//! rate, decided in one sequence), answers a refusal in the API's error shape, and hands an
//! admitted request to the routes with its `Caller`; every answer to an admitted key carries its
//! rate budget (`key_rate_headers`). The outcome of every keyed request is counted through
//! `auth_metrics`, from here only.
//!
//! A request admitted or refused without waiting (a proof in the cache, or a refusal that needs
//! no I/O) goes straight to the handler, with no future of its own; only a request that waits
//! for the database (a miss, an unconfirmed entry, an allowlist to read) is a boxed future.

use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header;
use actix_web::{Error, FromRequest, HttpMessage, HttpRequest, ResponseError, web};
use pin_project_lite::pin_project;

use super::auth_metrics;
use super::error::ApiError;
use super::key_rate_headers;
use super::router::Authorization;
use crate::auth::api_key::key_rate::Budget;
use crate::auth::api_key::{Admission, Admitted, Caller, Decision, Refusal};
use crate::auth::client_ip::client_ip;
use crate::state::AppState;

/// Wrap a scope in this to require a valid API key on every route in it.
pub struct RequireKey;

impl<S, B> Transform<S, ServiceRequest> for RequireKey
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = Error;
    type Transform = RequireKeyService<S>;
    type InitError = ();
    type Future = Ready<Result<RequireKeyService<S>, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RequireKeyService {
            service: Rc::new(service),
        }))
    }
}

pub struct RequireKeyService<S> {
    service: Rc<S>,
}

/// What an admitted request carries in its extensions: its caller, for the handlers, and what
/// its route's guard found (steps 5 and 6), for the count when the answer leaves.
pub struct KeyedRequest {
    pub caller: Caller,
    pub authorization: Option<Authorization>,
}

type Slow = Pin<Box<dyn Future<Output = Result<ServiceResponse<BoxBody>, Error>>>>;

pin_project! {
    /// The three ways a request leaves the middleware.
    #[project = KeyedProj]
    pub enum Keyed<F> {
        /// The key was admitted: the handler's own future, and the key's budget for the
        /// answer's rate-limit headers.
        Forward { #[pin] inner: F, budget: Budget, state: web::Data<AppState> },
        /// Refused without waiting.
        Refused { response: Option<ServiceResponse<BoxBody>> },
        /// Waiting for the database or argon2id, then the handler.
        Waiting { inner: Slow },
    }
}

impl<F, B> Future for Keyed<F>
where
    F: Future<Output = Result<ServiceResponse<B>, Error>>,
    B: MessageBody + 'static,
{
    type Output = Result<ServiceResponse<BoxBody>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let answered = match self.project() {
            KeyedProj::Forward { inner, budget, state } => {
                let budget = *budget;
                inner.poll(cx).map_ok(|response| {
                    if let Some(authorization) = authorization_of(&response) {
                        auth_metrics::authorized(&state.metrics, authorization);
                    }
                    key_rate_headers::with_budget(response.map_into_boxed_body(), budget)
                })
            }
            KeyedProj::Refused { response } => match response.take() {
                Some(response) => Poll::Ready(Ok(response)),
                None => Poll::Ready(Err(ApiError::Internal(anyhow::anyhow!("response taken twice")).into())),
            },
            KeyedProj::Waiting { inner } => inner.as_mut().poll(cx),
        };
        answered.map_ok(no_store)
    }
}

/// Every admin API answer describes keys, people or orgs: no browser or proxy cache may keep
/// one. Set here, where every answer of `/admin` and `/users` passes, refusals included; a
/// handler that sets its own Cache-Control keeps it.
fn no_store(mut response: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let headers = response.headers_mut();
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    }
    response
}

impl<S, B> Service<ServiceRequest> for RequireKeyService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = Error;
    type Future = Keyed<S::Future>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
            let response = req.error_response(ApiError::Internal(anyhow::anyhow!("application state missing")));
            return Keyed::Refused {
                response: Some(response),
            };
        };
        let peer = req
            .peer_addr()
            .map(|a| a.ip())
            .unwrap_or(std::net::Ipv4Addr::UNSPECIFIED.into());
        let ip = client_ip(peer, req.headers(), &state.trusted_proxies);
        // Read as text without `to_str`'s check of every byte: the token parser admits only
        // base62 and its separators, so anything else in the header is refused there anyway.
        let authorization = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| std::str::from_utf8(v.as_bytes()).ok());
        let user_agent = req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok());
        match state.verifier.admit(authorization, ip, user_agent) {
            Admission::Decided(decision) => answer(&*self.service, state, req, decision),
            Admission::Waiting(waiting) => {
                let service = self.service.clone();
                Keyed::Waiting {
                    inner: Box::pin(async move {
                        let decision = state.verifier.finish(waiting).await;
                        answer(&*service, state, req, decision).await
                    }),
                }
            }
        }
    }
}

/// Hands an admitted request to the routes, or answers its refusal.
fn answer<S, B>(service: &S, state: web::Data<AppState>, req: ServiceRequest, decision: Decision) -> Keyed<S::Future>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
{
    match decision {
        Ok(Admitted { caller, budget }) => {
            req.extensions_mut().insert(KeyedRequest {
                caller,
                authorization: None,
            });
            Keyed::Forward {
                inner: service.call(req),
                budget,
                state,
            }
        }
        Err(refusal) => Keyed::Refused {
            response: Some(refuse(&state, req, refusal)),
        },
    }
}

/// What the route's guard found for the request answered, if a guard judged it (a path no
/// endpoint answers has none).
fn authorization_of<B>(response: &ServiceResponse<B>) -> Option<Authorization> {
    response
        .request()
        .extensions()
        .get::<KeyedRequest>()
        .and_then(|keyed| keyed.authorization)
}

/// Counts the refusal and answers it in the API's error shape.
fn refuse(state: &AppState, req: ServiceRequest, refusal: Refusal) -> ServiceResponse<BoxBody> {
    auth_metrics::refused(&state.metrics, refusal);
    let error = match refusal {
        Refusal::Malformed => ApiError::Unauthorized("Missing or malformed API key."),
        Refusal::Invalid(_) => ApiError::Unauthorized("Invalid API key."),
        Refusal::Revoked => ApiError::Unauthorized("This API key has been revoked."),
        Refusal::Expired => ApiError::Unauthorized("This API key has expired."),
        Refusal::TooManyFailures { retry_after_secs } | Refusal::FillBudgetSpent { retry_after_secs } => {
            ApiError::Throttled { retry_after_secs }
        }
        Refusal::Unavailable => ApiError::Unavailable,
        Refusal::AddressNotAllowed => ApiError::address_not_allowed(),
        Refusal::OverRate(over) => return key_rate_headers::refuse(req, over),
    };
    req.into_response(error.error_response())
}

/// Handlers take the verified caller as an argument.
impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Caller, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<KeyedRequest>()
                .map(|keyed| keyed.caller.clone())
                .ok_or(ApiError::Unauthorized("Missing or malformed API key.")),
        )
    }
}
