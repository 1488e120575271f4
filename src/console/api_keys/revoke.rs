//! Revoking a key from the console: a confirmation page that says revocation is permanent and
//! immediate, then a POST that revokes through the one path every revocation takes, so this
//! instance refuses the key before the answer leaves and every other instance hears at once.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::detail::key_of_org;
use super::view::KeyView;
use crate::console::session::OrgAdmin;
use crate::console::{Layout, PageError, origin, render};
use crate::keys;
use crate::state::AppState;
use crate::store::audit::Actor;

#[derive(Template)]
#[template(path = "api_keys/revoke.html")]
struct RevokePage {
    layout: Layout,
    view: KeyView,
}

pub async fn confirm(req: HttpRequest, state: web::Data<AppState>, admin: OrgAdmin) -> Result<HttpResponse, PageError> {
    let view = key_of_org(&state, &admin, &req).await?;
    let page = RevokePage {
        layout: Layout::for_org(&admin, &state, &req),
        view,
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    csrf: String,
}

pub async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: OrgAdmin,
    form: web::Form<RevokeForm>,
) -> Result<HttpResponse, PageError> {
    admin.session.check_form(&req, &state, &form.csrf)?;
    let view = key_of_org(&state, &admin, &req).await?;
    keys::revoke(
        &state.pool,
        Some(&state.verifier),
        admin.org_id,
        view.key.id,
        Actor::User(admin.session.user_id()),
        &origin(&req, &state),
    )
    .await?;
    tracing::info!(org_id = %admin.org_id, key_id = %view.key.id, "API key revoked in the console");
    let tab = if view.key.scoped { "scoped" } else { "unscoped" };
    let to = format!(
        "/o/{}/settings/api-keys?tab={tab}&revoked={}",
        admin.org_id, view.key.public_id
    );
    Ok(HttpResponse::SeeOther().insert_header(("Location", to)).finish())
}
