//! The admin REST API v1: JSON, in the wire format of Atlassian's Cloud Admin APIs for the
//! endpoints it covers, behind the API-key middleware.

pub mod api_keys;
pub mod error;
pub mod key;
pub mod middleware;
pub mod orgs;

use actix_web::web;

use crate::auth::api_key::Caller;
use crate::domain::Scope;
use crate::metrics::AuthOutcome;
use crate::state::AppState;
use error::ApiError;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/admin")
            .wrap(middleware::RequireKey)
            .route("/v1/key", web::get().to(key::show))
            .route("/v1/orgs", web::get().to(orgs::list))
            .route("/v1/orgs/{org_id}", web::get().to(orgs::get))
            .route("/api-access/v1/orgs/{org_id}/api-keys", web::get().to(api_keys::list))
            .route(
                "/api-access/v1/orgs/{org_id}/api-keys",
                web::post().to(api_keys::create),
            )
            .route(
                "/api-access/v1/orgs/{org_id}/api-keys/count",
                web::get().to(api_keys::count),
            )
            .route(
                "/api-access/v1/orgs/{org_id}/api-keys/revoke/{key_id}",
                web::patch().to(api_keys::revoke),
            )
            .default_service(web::to(not_found)),
    )
    .service(
        web::scope("/users")
            .wrap(middleware::RequireKey)
            .default_service(web::to(not_found)),
    );
}

async fn not_found() -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::not_found(
        "ADMIN-404-1",
        "Not found",
        "There is no such resource.",
    ))
}

/// Steps 5 and 6 of the key middleware, in one place for every handler: the key acts only
/// inside its own org (a path naming any other org, or an org that does not exist, is the same
/// 404), and a scoped key only within its scopes (403 naming the scope needed).
pub fn authorize(
    state: &AppState,
    caller: &Caller,
    org_in_path: Option<&str>,
    scope: Option<Scope>,
) -> Result<(), ApiError> {
    if let Some(org) = org_in_path
        && org.parse::<uuid::Uuid>().ok() != Some(caller.org_id)
    {
        state.metrics.auth(AuthOutcome::ForeignOrg);
        return Err(ApiError::org_not_found());
    }
    if let Some(scope) = scope
        && !caller.has_scope(scope)
    {
        state.metrics.auth(AuthOutcome::InsufficientScope);
        return Err(ApiError::InsufficientScope(scope));
    }
    state.metrics.auth(AuthOutcome::Ok);
    Ok(())
}
