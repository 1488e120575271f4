//! Enabling, disabling and deleting a policy: POST buttons on the list (delete through a
//! confirmation page), each through `policies::Change`, so it reaches every instance at once and
//! writes its audit event.

use crate::console::form::{Button, Form};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::view::{Policy, back_to_list, change, policy_of_org};
use crate::console::catalog;
use crate::console::session::OrgAdmin;
use crate::console::{OrgLayout, PageError, origin, render};
use crate::domain::policy::PolicyStatus;
use crate::state::AppState;

/// `POST .../policies/{policyId}/enable`. A policy already enabled is a success that changes
/// nothing.
pub async fn enable(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: OrgAdmin,
    _: Form<Button>,
) -> Result<HttpResponse, PageError> {
    let policy = policy_of_org(&state, &admin, &req).await?;
    if !policy.enabled {
        let input = policy.with_status(PolicyStatus::Enabled)?;
        let origin = origin(&req, &state);
        change(&state, &admin, &origin).update(policy.row.id, &input).await?;
        tracing::info!(org_id = %admin.org_id, policy_id = %policy.row.id, "policy enabled in the console");
    }
    Ok(back_to_list(&admin, "enabled"))
}

/// `POST .../policies/{policyId}/disable`: the rule stays, it just stops applying.
pub async fn disable(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: OrgAdmin,
    _: Form<Button>,
) -> Result<HttpResponse, PageError> {
    let policy = policy_of_org(&state, &admin, &req).await?;
    let origin = origin(&req, &state);
    change(&state, &admin, &origin).disable(policy.row.id).await?;
    tracing::info!(org_id = %admin.org_id, policy_id = %policy.row.id, "policy disabled in the console");
    Ok(back_to_list(&admin, "disabled"))
}

#[derive(Template)]
#[template(path = "policies/delete.html")]
struct DeletePage {
    layout: OrgLayout,
    m: &'static catalog::policies::Messages,
    policy: Policy,
}

/// `GET .../policies/{policyId}/delete`: what will be deleted, and that it cannot be undone.
pub async fn confirm(req: HttpRequest, state: web::Data<AppState>, admin: OrgAdmin) -> Result<HttpResponse, PageError> {
    let policy = policy_of_org(&state, &admin, &req).await?;
    let page = DeletePage {
        layout: admin.layout.clone(),
        m: catalog::policies::of(admin.lang),
        policy,
    };
    render(StatusCode::OK, &page)
}

/// `POST .../policies/{policyId}/delete`.
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: OrgAdmin,
    _: Form<Button>,
) -> Result<HttpResponse, PageError> {
    let policy = policy_of_org(&state, &admin, &req).await?;
    let origin = origin(&req, &state);
    change(&state, &admin, &origin).delete(policy.row.id).await?;
    tracing::info!(org_id = %admin.org_id, policy_id = %policy.row.id, "policy deleted in the console");
    Ok(back_to_list(&admin, "deleted"))
}
