//! "Revoke every active key created by …": the offboarding case from the keys list or a member's
//! page. The confirmation lists the keys active now; the POST revokes every key of theirs still
//! unrevoked when it arrives (created in the meantime too), and its answer lists them all.

use crate::console::form::{ConsoleForm, Form};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::Utc;
use serde::Deserialize;
use uuid::Uuid;

use super::messages;
use super::offboard::{DonePage, revoked_list};
use crate::console::api_keys::view::KeyView;
use crate::console::catalog::members::Messages;
use crate::console::session::OrgAdmin;
use crate::console::{OrgLayout, PageError, origin, render};
use crate::domain::UserId;
use crate::domain::actor::Actor;
use crate::service::keys;
use crate::state::AppState;
use crate::store;

#[derive(Debug, Default, Deserialize)]
pub struct BulkForm {
    #[serde(default)]
    user: String,
}

impl ConsoleForm for BulkForm {}

#[derive(Template)]
#[template(path = "members/bulk_revoke.html")]
struct ConfirmPage {
    layout: OrgLayout,
    m: &'static Messages,
    user_id: Uuid,
    name: String,
    keys: Vec<KeyView>,
}

/// The person named by `user`, when they answer for keys of this org (or are its member);
/// anyone else is 404.
async fn person(state: &AppState, admin: &OrgAdmin, user: &str) -> Result<(Uuid, String), PageError> {
    let user_id = user.parse::<Uuid>().map_err(|_| PageError::NotFound)?;
    let mut conn = state.pool.acquire().await?;
    if let Some(member) = store::memberships::find(&mut conn, admin.org_id, user_id).await? {
        return Ok((user_id, member.display_name));
    }
    store::api_keys::creators(&mut conn, admin.org_id)
        .await?
        .into_iter()
        .find(|(id, _)| *id == user_id)
        .ok_or(PageError::NotFound)
}

pub async fn confirm(
    state: web::Data<AppState>,
    admin: OrgAdmin,
    query: web::Query<BulkForm>,
) -> Result<HttpResponse, PageError> {
    let (user_id, name) = person(&state, &admin, &query.user).await?;
    let keys = {
        let mut conn = state.pool.acquire().await?;
        store::api_keys::active_answered_for(&mut conn, admin.org_id, user_id).await?
    };
    let now = Utc::now();
    let page = ConfirmPage {
        layout: admin.layout.clone(),
        m: messages(admin.lang),
        user_id,
        name,
        keys: keys.into_iter().map(|key| KeyView::new(key, now)).collect(),
    };
    render(StatusCode::OK, &page)
}

pub async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: OrgAdmin,
    form: Form<BulkForm>,
) -> Result<HttpResponse, PageError> {
    let (user_id, name) = person(&state, &admin, &form.user).await?;
    let revoked = keys::revoke_by_creator(
        &state.pool,
        Some(&state.verifier),
        admin.org(),
        UserId::from(user_id),
        Actor::User(admin.session.user_id()),
        &origin(&req, &state),
    )
    .await?;
    tracing::info!(org_id = %admin.org_id, user_id = %user_id, revoked = revoked.len(), "keys bulk-revoked in the console");
    let m = messages(admin.lang);
    let layout = admin.layout.clone();
    let page = DonePage {
        title: layout.fill(m.bulk_done_title, "name", &name),
        changed: true,
        revoked: revoked_list(&state, admin.org_id, &revoked).await?,
        back: admin.urls().keys().to_string(),
        back_label: layout.t.api_keys,
        layout,
        m,
    };
    render(StatusCode::OK, &page)
}
