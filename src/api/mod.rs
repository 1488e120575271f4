//! The admin REST API v1: JSON, in the wire format of Atlassian's Cloud Admin APIs for the
//! endpoints it covers, behind the API-key middleware. Every endpoint is one entry of the
//! endpoint table (`endpoints`), from which the routes, the scope checks and the OpenAPI
//! document are made.

pub mod api_keys;
pub mod auth_metrics;
pub mod classification_levels;
pub mod cursor;
pub mod directory;
pub mod domains;
pub mod endpoints;
pub mod error;
pub mod events;
pub mod invitations;
pub mod key;
pub mod key_rate_headers;
pub mod manage;
pub mod middleware;
pub mod openapi;
pub mod orgs;
pub mod plain_text;
pub mod policies;
pub mod reply;
pub mod router;
pub mod users;

pub use router::routes;

use actix_web::HttpRequest;
use actix_web::http::header::USER_AGENT;

use crate::auth::api_key::Caller;
use crate::domain::UserAgent;
use crate::store::audit::Origin;

/// Where an API request came from, as the audit events it causes record it: the key
/// middleware's client address and the request's user agent.
pub fn origin(caller: &Caller, req: &HttpRequest) -> Origin {
    Origin {
        ip: Some(caller.ip),
        user_agent: req
            .headers()
            .get(USER_AGENT)
            .and_then(|v| UserAgent::parse(v.as_bytes())),
    }
}
