//! The admin REST API v1: JSON, in the wire format of Atlassian's Cloud Admin APIs for the
//! endpoints it covers, behind the API-key middleware. Every endpoint is one entry of the
//! endpoint table (`endpoints`), from which the routes, the scope checks and the OpenAPI
//! document are made.

pub mod api_keys;
pub mod endpoints;
pub mod error;
pub mod key;
pub mod middleware;
pub mod openapi;
pub mod orgs;
pub mod reply;
pub mod router;

pub use router::routes;
