//! The API-key middleware in front of every admin API route: it verifies the bearer token
//! (see `auth::api_key`), counts the request against the key's rate limit (`key_rate_headers`), and
//! hands the handlers a `Caller`.
//!
//! A request whose key is decided without waiting (a proof in the cache, or a refusal that
//! needs no I/O) goes straight to the handler, with no future of its own; only a miss or an
//! unconfirmed entry waits for the database in a boxed future.

use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header;
use actix_web::{Error, FromRequest, HttpMessage, HttpRequest, ResponseError, web};
use pin_project_lite::pin_project;

use super::error::ApiError;
use super::key_rate_headers;
use crate::auth::api_key::key_rate::Budget;
use crate::auth::api_key::{AddressCheck, Caller, Check, Refusal};
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

type Slow = Pin<Box<dyn Future<Output = Result<ServiceResponse<BoxBody>, Error>>>>;

pin_project! {
    /// The three ways a request leaves the middleware.
    #[project = KeyedProj]
    pub enum Keyed<F> {
        /// The key was proven from the cache: the handler's own future, and the key's budget
        /// for the answer's rate-limit headers.
        Forward { #[pin] inner: F, budget: Budget },
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
            KeyedProj::Forward { inner, budget } => {
                let budget = *budget;
                inner
                    .poll(cx)
                    .map_ok(|response| key_rate_headers::with_budget(response.map_into_boxed_body(), budget))
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
        match state.verifier.check(authorization, ip, user_agent) {
            // Step 4, the org's IP allowlist, from the cache while the listener keeps it current.
            Check::Done(Ok(caller)) => match state.verifier.address(&caller, user_agent) {
                // Then the key's own rate limit (per instance).
                AddressCheck::Done(Ok(())) => match key_rate_headers::admit(&state, &caller) {
                    Ok(budget) => {
                        req.extensions_mut().insert(caller);
                        Keyed::Forward {
                            inner: self.service.call(req),
                            budget,
                        }
                    }
                    Err(over) => Keyed::Refused {
                        response: Some(key_rate_headers::refuse(req, over)),
                    },
                },
                AddressCheck::Done(Err(refusal)) => Keyed::Refused {
                    response: Some(refuse(&state, req, refusal)),
                },
                AddressCheck::Pending => {
                    let (service, user_agent) = (self.service.clone(), user_agent.map(str::to_owned));
                    Keyed::Waiting {
                        inner: Box::pin(async move {
                            match state.verifier.read_address(&caller, user_agent.as_deref()).await {
                                Ok(()) => forward(&state, &*service, req, caller).await,
                                Err(refusal) => Ok(refuse(&state, req, refusal)),
                            }
                        }),
                    }
                }
            },
            Check::Done(Err(refusal)) => Keyed::Refused {
                response: Some(refuse(&state, req, refusal)),
            },
            Check::Pending(pending) => {
                let (service, user_agent) = (self.service.clone(), user_agent.map(str::to_owned));
                Keyed::Waiting {
                    inner: Box::pin(async move {
                        let checked = match state.verifier.finish(pending).await {
                            Ok(caller) => match state.verifier.address(&caller, user_agent.as_deref()) {
                                AddressCheck::Done(admitted) => admitted.map(|()| caller),
                                AddressCheck::Pending => state
                                    .verifier
                                    .read_address(&caller, user_agent.as_deref())
                                    .await
                                    .map(|()| caller),
                            },
                            Err(refusal) => Err(refusal),
                        };
                        match checked {
                            Ok(caller) => forward(&state, &*service, req, caller).await,
                            Err(refusal) => Ok(refuse(&state, req, refusal)),
                        }
                    }),
                }
            }
        }
    }
}

/// Hands a request whose key passed steps 1 to 4 to the routes, within the key's rate limit.
async fn forward<S, B>(
    state: &AppState,
    service: &S,
    req: ServiceRequest,
    caller: Caller,
) -> Result<ServiceResponse<BoxBody>, Error>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody + 'static,
{
    match key_rate_headers::admit(state, &caller) {
        Ok(budget) => {
            req.extensions_mut().insert(caller);
            let response = service.call(req).await?.map_into_boxed_body();
            Ok(key_rate_headers::with_budget(response, budget))
        }
        Err(over) => Ok(key_rate_headers::refuse(req, over)),
    }
}

/// Counts the refusal and answers it in the API's error shape.
fn refuse(state: &AppState, req: ServiceRequest, refusal: Refusal) -> ServiceResponse<BoxBody> {
    state.metrics.auth(refusal.outcome());
    let error = match refusal {
        Refusal::Malformed => ApiError::Unauthorized("Missing or malformed API key."),
        Refusal::Invalid(_) => ApiError::Unauthorized("Invalid API key."),
        Refusal::Revoked => ApiError::Unauthorized("This API key has been revoked."),
        Refusal::Expired => ApiError::Unauthorized("This API key has expired."),
        Refusal::Throttled { retry_after_secs } => ApiError::Throttled { retry_after_secs },
        Refusal::Unavailable => ApiError::Unavailable,
        Refusal::AddressNotAllowed => ApiError::address_not_allowed(),
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
                .get::<Caller>()
                .cloned()
                .ok_or(ApiError::Unauthorized("Missing or malformed API key.")),
        )
    }
}
