//! A member's page: their membership, the active keys they answer for, and what can be done:
//! change role, suspend or restore, remove, revoke all their keys, and, for an account this org
//! manages (other than the admin's own), issue a set-password link.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::Utc;
use serde::Deserialize;

use super::{MemberView, is_last_admin, member_of_org, messages};
use crate::console::api_keys::view::KeyView;
use crate::console::catalog::members::Messages;
use crate::console::session::OrgAdmin;
use crate::console::{OrgLayout, PageError, render};
use crate::state::AppState;
use crate::store;

#[derive(Debug, Default, Deserialize)]
pub struct DetailQuery {
    #[serde(default)]
    done: String,
}

#[derive(Template)]
#[template(path = "members/detail.html")]
struct DetailPage {
    layout: OrgLayout,
    m: &'static Messages,
    view: MemberView,
    keys: Vec<KeyView>,
    last_admin: bool,
    managed_here: bool,
    /// The signed-in admin's own membership: their account is changed on the account page.
    own: bool,
    notice: Option<&'static str>,
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: OrgAdmin,
    query: web::Query<DetailQuery>,
) -> Result<HttpResponse, PageError> {
    let view = member_of_org(&state, &admin, &req).await?;
    let m = messages(admin.lang);
    let keys = {
        let mut conn = state.pool.acquire().await?;
        store::api_keys::active_answered_for(&mut conn, admin.org_id, view.member.user_id).await?
    };
    let now = Utc::now();
    let page = DetailPage {
        layout: admin.layout.clone(),
        m,
        last_admin: is_last_admin(&state, admin.org_id, view.member.user_id).await?,
        managed_here: view.managed_by(admin.org_id),
        own: view.member.user_id == admin.session.user_id(),
        keys: keys.into_iter().map(|key| KeyView::new(key, now)).collect(),
        view,
        notice: match query.done.as_str() {
            "restored" => Some(m.restored_notice),
            "role" => Some(m.role_changed_notice),
            _ => None,
        },
    };
    render(StatusCode::OK, &page)
}
