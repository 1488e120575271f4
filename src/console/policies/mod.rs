//! Settings > Policies: the org's IP allowlists and API key lifetime policies, viewed, created,
//! edited, enabled, disabled and deleted under the same rules as the admin API, through the same
//! `policies::Change` (so each change reaches every instance at once, with its audit event). The
//! allowlist never applies to the console, so an admin can always undo a list that shuts out
//! every caller.

pub mod actions;
pub mod form;
pub mod list;
mod view;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/o/{orgId}/settings/policies", web::get().to(list::show))
        .route("/o/{orgId}/settings/policies", web::post().to(form::create))
        .route("/o/{orgId}/settings/policies/new", web::get().to(form::new))
        .route("/o/{orgId}/settings/policies/{policyId}", web::get().to(form::edit))
        .route("/o/{orgId}/settings/policies/{policyId}", web::post().to(form::update))
        .route(
            "/o/{orgId}/settings/policies/{policyId}/enable",
            web::post().to(actions::enable),
        )
        .route(
            "/o/{orgId}/settings/policies/{policyId}/disable",
            web::post().to(actions::disable),
        )
        .route(
            "/o/{orgId}/settings/policies/{policyId}/delete",
            web::get().to(actions::confirm),
        )
        .route(
            "/o/{orgId}/settings/policies/{policyId}/delete",
            web::post().to(actions::delete),
        );
}
