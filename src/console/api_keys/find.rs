//! "Found a leaked key?": an admin pastes a key value (a POST, never a URL) and gets the key it
//! belongs to, whichever tab it is on, with the way to revoke it. Only the value's public id is
//! used to look it up; the value itself is never logged, stored or sent back.

use crate::console::form::{ConsoleForm, Form};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::Utc;
use serde::Deserialize;

use super::list;
use super::view::KeyView;
use crate::console::session::OrgAdmin;
use crate::console::{OrgLayout, PageError, render};
use crate::domain::token::KeyToken;
use crate::state::AppState;
use crate::store;

#[derive(Template)]
#[template(path = "api_keys/found.html")]
struct FoundPage {
    layout: OrgLayout,
    view: KeyView,
}

/// Carries a key value: deliberately not `Debug`.
#[derive(Deserialize)]
pub struct FindForm {
    #[serde(default)]
    key: String,
}

impl ConsoleForm for FindForm {}

pub async fn find(
    state: web::Data<AppState>,
    admin: OrgAdmin,
    form: Form<FindForm>,
) -> Result<HttpResponse, PageError> {
    let t = admin.lang.messages();
    let Ok(token) = KeyToken::parse(form.key.trim()) else {
        return list::with_find_error(&state, &admin, t.leaked_unreadable.to_owned()).await;
    };
    let key = {
        let mut conn = state.pool.acquire().await?;
        store::api_keys::find(&mut conn, admin.org_id, token.public_id().as_str()).await?
    };
    let Some(key) = key.filter(|key| &key.public_id == token.public_id()) else {
        return list::with_find_error(&state, &admin, t.leaked_not_found.to_owned()).await;
    };
    let page = FoundPage {
        layout: admin.layout.clone(),
        view: KeyView::new(key, Utc::now()),
    };
    render(StatusCode::OK, &page)
}
