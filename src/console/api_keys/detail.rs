//! A key's detail page: its facts, its last use, what it can call (each scope and the endpoints
//! it unlocks, from the endpoint table) and its lifecycle from the audit log.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::Utc;
use uuid::Uuid;

use super::create::ScopeChoice;
use super::view::KeyView;
use crate::console::catalog::Messages;
use crate::console::session::OrgAdmin;
use crate::console::{OrgLayout, PageError, render};
use crate::domain::{Action, Scope};
use crate::operations::Operation;
use crate::state::AppState;
use crate::store;
use crate::store::audit::Event;

/// How many of the key's events the page lists.
const LIFECYCLE_EVENTS: i64 = 100;

#[derive(Template)]
#[template(path = "api_keys/detail.html")]
struct DetailPage {
    layout: OrgLayout,
    view: KeyView,
    can_call: Vec<ScopeChoice>,
    any_key: Vec<Operation>,
    events: Vec<Event>,
    m: &'static crate::console::catalog::members::Messages,
    children: Vec<KeyView>,
}

/// The key of this org that the path names; any other key, or none, is 404.
pub async fn key_of_org(state: &AppState, admin: &OrgAdmin, req: &HttpRequest) -> Result<KeyView, PageError> {
    let key_id = req
        .match_info()
        .get("keyId")
        .and_then(|id| id.parse::<Uuid>().ok())
        .ok_or(PageError::NotFound)?;
    let mut conn = state.pool.acquire().await?;
    let key = store::api_keys::find(&mut conn, admin.org_id, &key_id.to_string())
        .await?
        .filter(|key| key.id == key_id)
        .ok_or(PageError::NotFound)?;
    Ok(KeyView::new(key, Utc::now()))
}

/// What an event of a key's life was, in the viewer's language.
pub fn event_label(t: &'static Messages, event: &Event) -> &'static str {
    let reason = event.details.get("reason").and_then(|r| r.as_str());
    match (event.action.parse::<Action>(), reason) {
        (Ok(Action::ApiKeyCreated), _) => t.event_key_created,
        (Ok(Action::ApiKeyRevoked), _) => t.event_key_revoked,
        (Ok(Action::ApiKeyRejectedUse), Some("revoked")) => t.event_refused_revoked,
        (Ok(Action::ApiKeyRejectedUse), Some("expired")) => t.event_refused_expired,
        (Ok(Action::ApiKeyRejectedUse), Some("address_not_allowed")) => t.event_refused_address,
        (Ok(Action::ApiKeyRejectedUse), _) => t.event_refused,
        _ => t.event_other,
    }
}

pub async fn show(req: HttpRequest, state: web::Data<AppState>, admin: OrgAdmin) -> Result<HttpResponse, PageError> {
    let view = key_of_org(&state, &admin, &req).await?;
    let scopes: Vec<Scope> = if view.key.scoped() {
        view.key.scope_list().to_vec()
    } else {
        Scope::ALL.to_vec()
    };
    let can_call = scopes
        .into_iter()
        .map(|scope| ScopeChoice {
            scope,
            checked: true,
            endpoints: state.operations.unlocked_by(scope).copied().collect(),
        })
        .collect();
    let any_key = state.operations.any_key().copied().collect();
    let (events, children) = {
        let mut conn = state.pool.acquire().await?;
        let events = store::audit::for_target(
            &mut conn,
            admin.org_id,
            "api_key",
            &view.key.id.to_string(),
            LIFECYCLE_EVENTS,
        )
        .await?;
        let children = store::api_keys::created_with(&mut conn, admin.org_id, view.key.id).await?;
        (events, children)
    };
    let now = Utc::now();
    let page = DetailPage {
        layout: admin.layout.clone(),
        view,
        can_call,
        any_key,
        events,
        m: crate::console::catalog::members::of(admin.lang),
        children: children.into_iter().map(|key| KeyView::new(key, now)).collect(),
    };
    render(StatusCode::OK, &page)
}
