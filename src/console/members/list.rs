//! The members list: name, email, role, membership status, last sign-in and the active keys
//! each answers for, with search, a role filter and keyset pagination.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::{MemberView, messages};
use crate::console::catalog::members::Messages;
use crate::console::session::OrgAdmin;
use crate::console::{Layout, PageError, render};
use crate::state::AppState;
use crate::store;
use crate::store::memberships::{MemberCursor, Role};

const PAGE_SIZE: i64 = 50;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    after: String,
    #[serde(default)]
    added: String,
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
    layout: Layout,
    m: &'static Messages,
    filters: Filters,
    rows: Vec<Row>,
    next: Option<String>,
    first_page: bool,
    added: Option<String>,
}

/// The page after this cursor; one that is not ours, or names a time the database cannot
/// hold, is the first page.
fn parse_cursor(input: &str) -> Option<MemberCursor> {
    let (micros, id) = input.split_once('_')?;
    Some((store::timestamps::from_micros(micros.parse().ok()?)?, id.parse().ok()?))
}

pub async fn show(
    req: HttpRequest,
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
    // Named by the member's id, so a crafted link shows no text of its own.
    let added = match query.added.parse::<Uuid>() {
        Ok(user_id) => store::memberships::find(&mut conn, admin.org_id, user_id)
            .await?
            .map(|member| member.display_name),
        Err(_) => None,
    };
    let page = ListPage {
        layout: Layout::for_org(&admin, &state, &req),
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
        added,
    };
    render(StatusCode::OK, &page)
}
