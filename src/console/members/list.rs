//! The members list: name, email, role, membership status, whether this org manages the
//! account, last sign-in and the active keys each answers for, with search, a role filter and
//! keyset pagination; and the org's pending invitations, each with a new link and revocation.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::{MemberView, messages};
use crate::console::catalog::invitations::{self as invitations_catalog, Messages as InvitationMessages};
use crate::console::catalog::members::Messages;
use crate::console::session::OrgAdmin;
use crate::console::{OrgLayout, PageError, render};
use crate::domain::member::Role;
use crate::state::AppState;
use crate::store;
use crate::store::invitations::{Invitation, State};
use crate::store::memberships::MemberCursor;

const PAGE_SIZE: i64 = 50;
/// The most pending invitations the page lists, newest first.
const INVITATIONS_SHOWN: i64 = 200;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    after: String,
    #[serde(default)]
    revoked: String,
}

/// The list's filters as the page shows them again.
pub struct Filters {
    pub q: String,
    pub role: String,
}

impl Filters {
    /// The query string of these filters, without a cursor.
    pub fn query(&self) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in [("q", &self.q), ("role", &self.role)] {
            if !value.is_empty() {
                query.append_pair(name, value);
            }
        }
        query.finish()
    }
}

pub struct Row {
    pub view: MemberView,
    pub active_keys: i64,
}

#[derive(Template)]
#[template(path = "members/list.html")]
struct ListPage {
    layout: OrgLayout,
    m: &'static Messages,
    i: &'static InvitationMessages,
    filters: Filters,
    rows: Vec<Row>,
    next: Option<String>,
    first_page: bool,
    invitations: Vec<Invitation>,
    revoked: bool,
}

impl ListPage {
    fn role_of(&self, invitation: &Invitation) -> &'static str {
        match invitation.role {
            Role::Admin => self.m.role_admin,
            Role::Member => self.m.role_member,
        }
    }

    fn expired(&self, invitation: &Invitation) -> bool {
        invitation.state == State::Expired
    }
}

/// The page after this cursor; one that is not ours, or names a time the database cannot
/// hold, is the first page.
fn parse_cursor(input: &str) -> Option<MemberCursor> {
    let (micros, id) = input.split_once('_')?;
    Some((store::timestamps::from_micros(micros.parse().ok()?)?, id.parse().ok()?))
}

pub async fn show(
    state: web::Data<AppState>,
    admin: OrgAdmin,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let query = query.into_inner();
    let text: String = query.q.trim().chars().take(100).collect();
    let role = match query.role.as_str() {
        "admin" => Some(Role::Admin),
        "member" => Some(Role::Member),
        _ => None,
    };
    let filters = Filters {
        q: text.clone(),
        role: role
            .map(|r| if r == Role::Admin { "admin" } else { "member" }.to_owned())
            .unwrap_or_default(),
    };
    let after = parse_cursor(&query.after);
    let mut conn = state.pool.acquire().await?;
    let mut rows = store::memberships::console_page(
        &mut conn,
        admin.org_id,
        (!text.is_empty()).then_some(text.as_str()),
        role,
        after,
        PAGE_SIZE + 1,
    )
    .await?;
    let more = rows.len() > usize::try_from(PAGE_SIZE).unwrap_or(usize::MAX);
    rows.truncate(usize::try_from(PAGE_SIZE).unwrap_or(usize::MAX));
    let next = match (more, rows.last()) {
        (true, Some(last)) => {
            let cursor = format!("{}_{}", last.member.joined_at.timestamp_micros(), last.member.user_id);
            let filters = filters.query();
            Some(if filters.is_empty() {
                format!("after={cursor}")
            } else {
                format!("{filters}&after={cursor}")
            })
        }
        _ => None,
    };
    let invitations = store::invitations::pending(&mut conn, admin.org_id, None, INVITATIONS_SHOWN).await?;
    let page = ListPage {
        layout: admin.layout.clone(),
        m: messages(admin.lang),
        filters,
        rows: rows
            .into_iter()
            .map(|row| Row {
                view: MemberView { member: row.member },
                active_keys: row.active_keys,
            })
            .collect(),
        next,
        first_page: after.is_none(),
        invitations,
        // Says only that a revocation happened: a crafted link shows no text of its own.
        revoked: query.revoked.parse::<Uuid>().is_ok(),
        i: invitations_catalog::of(admin.lang),
    };
    render(StatusCode::OK, &page)
}
