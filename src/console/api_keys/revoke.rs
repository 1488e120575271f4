//! Revoking a key from the console: a confirmation page that says revocation is permanent and
//! immediate, then a POST that revokes through the one path every revocation takes, so this
//! instance refuses the key before the answer leaves and every other instance hears at once.

use crate::console::form::{ConsoleForm, Form};
use crate::console::redirect;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::detail::key_of_org;
use super::view::KeyView;
use crate::console::session::OrgAdmin;
use crate::console::{OrgLayout, PageError, origin, render};
use crate::domain::KeyId;
use crate::domain::actor::Actor;
use crate::service::keys;
use crate::state::AppState;
use crate::store;
use chrono::Utc;

#[derive(Template)]
#[template(path = "api_keys/revoke.html")]
struct RevokePage {
    layout: OrgLayout,
    view: KeyView,
    m: &'static crate::console::catalog::members::Messages,
    /// The active keys made with this one (through the API, directly or by keys made with it),
    /// which the form offers to revoke too.
    children: Vec<KeyView>,
}

pub async fn confirm(req: HttpRequest, state: web::Data<AppState>, admin: OrgAdmin) -> Result<HttpResponse, PageError> {
    let view = key_of_org(&state, &admin, &req).await?;
    let children = {
        let mut conn = state.pool.acquire().await?;
        store::api_keys::descendants(&mut conn, admin.org_id, view.key.id).await?
    };
    let now = Utc::now();
    let page = RevokePage {
        layout: admin.layout.clone(),
        view,
        m: crate::console::catalog::members::of(admin.lang),
        children: children
            .into_iter()
            .map(|key| KeyView::new(key, now))
            .filter(KeyView::is_active)
            .collect(),
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
pub struct RevokeForm {
    /// The "revoke the keys created with it too" checkbox: present when checked.
    #[serde(default)]
    with_created: Option<String>,
}

impl ConsoleForm for RevokeForm {}

pub async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: OrgAdmin,
    form: Form<RevokeForm>,
) -> Result<HttpResponse, PageError> {
    let view = key_of_org(&state, &admin, &req).await?;
    let by = Actor::User(admin.session.user_id());
    let origin = origin(&req, &state);
    let created = if form.with_created.is_some() {
        let (_, created) = keys::revoke_with_created(
            &state.pool,
            Some(&state.verifier),
            admin.org(),
            KeyId::from(view.key.id),
            by,
            &origin,
        )
        .await?;
        created
    } else {
        keys::revoke(
            &state.pool,
            Some(&state.verifier),
            admin.org(),
            KeyId::from(view.key.id),
            by,
            &origin,
        )
        .await?;
        Vec::new()
    };
    tracing::info!(
        org_id = %admin.org_id, key_id = %view.key.id, created_with_it = created.len(),
        "API key revoked in the console"
    );
    let mut to = (admin.urls().keys())
        .with("tab", view.kind_name())
        .with("revoked", &view.key.public_id);
    if !created.is_empty() {
        to = to.with("also", created.len());
    }
    Ok(redirect::to(to))
}
