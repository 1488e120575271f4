//! What every request handler shares: the database pool, the key verifier, the shared CSRF
//! key and the instance's settings. Built once by `startup`, read by `api` and `console`.

use std::sync::Arc;

use sqlx::PgPool;

use crate::auth::api_key::KeyVerifier;
use crate::auth::argon2id::Argon2Pool;
use crate::auth::csrf::CsrfKey;
use crate::metrics::Metrics;
use crate::operations::Operations;

/// Everything a request handler may need, shared by all workers.
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub csrf: CsrfKey,
    pub public_base: String,
    pub https: bool,
    /// argon2 budget for people (setup, sign-in, creating keys), apart from the API's.
    pub people_argon2: Argon2Pool,
    pub verifier: KeyVerifier,
    pub metrics: Arc<Metrics>,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The OpenAPI document, rendered once at start for this instance's public URL.
    pub openapi: bytes::Bytes,
    /// The admin API's operations, for the console's scope explainer.
    pub operations: Operations,
}
