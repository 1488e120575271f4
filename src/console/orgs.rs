//! The organization selection screen: every org the user administers, with search by name and
//! each org's number of active keys. A user with exactly one org goes straight in.

use crate::console::urls::{OrgUrls, Site};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::session::SignedIn;
use super::{Layout, PageError, render};
use crate::state::AppState;
use crate::store;
use crate::store::memberships::AdministeredOrg;

#[derive(Template)]
#[template(path = "orgs.html")]
struct OrgsPage {
    layout: Layout,
    search: String,
    orgs: Vec<AdministeredOrg>,
    /// Each org's revoked or expired keys presented lately (the audit log's notice), if any.
    forgotten: std::collections::HashMap<uuid::Uuid, super::audit_log::forgotten::ForgottenNotice>,
}

impl OrgsPage {
    fn forgotten_of(&self, org: &uuid::Uuid) -> Option<&super::audit_log::forgotten::ForgottenNotice> {
        self.forgotten.get(org)
    }
}

#[derive(Deserialize)]
pub struct OrgsQuery {
    #[serde(default)]
    q: String,
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: SignedIn,
    query: web::Query<OrgsQuery>,
) -> Result<HttpResponse, PageError> {
    let search: String = query.q.trim().chars().take(100).collect();
    let mut conn = state.pool.acquire().await?;
    let orgs = store::memberships::administered(
        &mut conn,
        user.session.user_id(),
        (!search.is_empty()).then_some(&*search),
    )
    .await?;
    let layout = Layout::signed_in(user.lang, &user.session, &state, &req);
    let org_ids: Vec<uuid::Uuid> = orgs.iter().map(|org| org.id).collect();
    let forgotten = super::audit_log::forgotten::notices(&mut conn, &org_ids, layout.zone, user.lang).await?;
    let page = OrgsPage {
        layout,
        search,
        orgs,
        forgotten,
    };
    render(StatusCode::OK, &page)
}

/// Where `/` sends a signed-in user: straight to their only org, otherwise to the selection.
pub async fn landing(state: &AppState, user: &SignedIn) -> Result<String, PageError> {
    let mut conn = state.pool.acquire().await?;
    let orgs = store::memberships::administered(&mut conn, user.session.user_id(), None).await?;
    Ok(match orgs.as_slice() {
        [only] => OrgUrls::of(only.id).keys().to_string(),
        _ => Site.orgs().to_string(),
    })
}
