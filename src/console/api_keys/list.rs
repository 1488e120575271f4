//! Settings > API keys: the org's keys in two tabs (with scopes, without scopes), searchable by
//! name or public id, filtered by status and creator, sorted by creation, expiry or last use,
//! in keyset pages.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::Utc;
use serde::Deserialize;
use uuid::Uuid;

use super::view::KeyView;
use crate::console::session::OrgAdmin;
use crate::console::{OrgLayout, PageError, render};
use crate::domain::api_key::KeyStatus;
use crate::state::AppState;
use crate::store;
use crate::store::api_keys::{ConsoleCursor, ConsoleQuery, ConsoleSort, KeyFilter};

/// Keys per page.
const PAGE_SIZE: i64 = 25;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    tab: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    creator: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    after: String,
    #[serde(default)]
    revoked: String,
    /// How many keys made with it were revoked with it.
    #[serde(default)]
    also: String,
}

/// The list's state as its links and forms carry it on.
pub struct Filters {
    pub scoped: bool,
    pub q: String,
    pub status: String,
    pub creator: String,
    pub sort: ConsoleSort,
}

impl Filters {
    fn tab(&self) -> &'static str {
        if self.scoped { "scoped" } else { "unscoped" }
    }

    /// The query string of this list, on the given tab, without a cursor.
    pub fn query(&self, scoped: bool) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("tab", if scoped { "scoped" } else { "unscoped" });
        for (name, value) in [("q", &self.q), ("status", &self.status), ("creator", &self.creator)] {
            if !value.is_empty() {
                query.append_pair(name, value);
            }
        }
        if self.sort != ConsoleSort::Created {
            query.append_pair("sort", self.sort.name());
        }
        query.finish()
    }

    /// This list's own query string (its tab), without a cursor.
    pub fn here(&self) -> String {
        self.query(self.scoped)
    }

    pub fn sort_is(&self, name: &str) -> bool {
        self.sort.name() == name
    }
}

fn parse_cursor(input: &str) -> Option<ConsoleCursor> {
    let (key, id) = input.split_once('_')?;
    Some((key.parse().ok()?, id.parse().ok()?))
}

#[derive(Template)]
#[template(path = "api_keys/list.html")]
struct ListPage {
    layout: OrgLayout,
    filters: Filters,
    tab: &'static str,
    keys: Vec<KeyView>,
    scoped_count: i64,
    unscoped_count: i64,
    creators: Vec<(Uuid, String)>,
    next: Option<String>,
    first_page: bool,
    revoked: Option<String>,
    also_revoked: Option<u32>,
    /// The person the creator filter shows, offered "revoke every active key of …".
    creator_shown: Option<(Uuid, String)>,
    members: &'static crate::console::catalog::members::Messages,
    find_error: Option<String>,
    /// Revoked or expired keys presented lately, if any (the audit log's notice).
    forgotten: Option<crate::console::audit_log::forgotten::ForgottenNotice>,
}

pub async fn show(
    state: web::Data<AppState>,
    admin: OrgAdmin,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let query = query.into_inner();
    let page = list_page(&state, &admin, query, None).await?;
    render(StatusCode::OK, &page)
}

/// The list, with the leaked-key finder's error when it found nothing.
pub async fn with_find_error(state: &AppState, admin: &OrgAdmin, error: String) -> Result<HttpResponse, PageError> {
    let page = list_page(state, admin, ListQuery::default(), Some(error)).await?;
    render(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

async fn list_page(
    state: &AppState,
    admin: &OrgAdmin,
    query: ListQuery,
    find_error: Option<String>,
) -> Result<ListPage, PageError> {
    let now = Utc::now();
    let status = match query.status.as_str() {
        "active" => Some(KeyStatus::Active),
        "expired" => Some(KeyStatus::Expired),
        "revoked" => Some(KeyStatus::Revoked),
        _ => None,
    };
    let text: String = query.q.trim().chars().take(100).collect();
    let creator = query.creator.parse::<Uuid>().ok();
    let filters = Filters {
        scoped: query.tab != "unscoped",
        q: text.clone(),
        status: status.map(|s| s.as_str().to_owned()).unwrap_or_default(),
        creator: creator.map(|c| c.to_string()).unwrap_or_default(),
        sort: ConsoleSort::parse(&query.sort),
    };
    let filter = KeyFilter {
        text: (!text.is_empty()).then_some(text),
        statuses: status.into_iter().collect(),
        ..KeyFilter::everything(now)
    };
    let after = parse_cursor(&query.after);
    let console_query = ConsoleQuery {
        scoped: filters.scoped,
        filter,
        creator,
        sort: filters.sort,
        after,
        limit: PAGE_SIZE + 1,
    };
    let mut conn = state.pool.acquire().await?;
    let mut rows = store::api_keys::console_page(&mut conn, admin.org_id, &console_query).await?;
    let (scoped_count, unscoped_count) =
        store::api_keys::console_counts(&mut conn, admin.org_id, &console_query.filter, creator).await?;
    let creators = store::api_keys::creators(&mut conn, admin.org_id).await?;
    let more = rows.len() > usize::try_from(PAGE_SIZE).unwrap_or(usize::MAX);
    rows.truncate(usize::try_from(PAGE_SIZE).unwrap_or(usize::MAX));
    let next = match (more, rows.last()) {
        (true, Some((_, (key, id)))) => Some(format!("{}&after={key}_{id}", filters.query(filters.scoped))),
        _ => None,
    };
    let revoked = (!query.revoked.is_empty()
        && query.revoked.len() <= 64
        && query.revoked.bytes().all(|b| b.is_ascii_alphanumeric()))
    .then_some(query.revoked);
    let also_revoked = query.also.parse::<u32>().ok().filter(|n| *n > 0);
    let creator_shown = creator.and_then(|id| creators.iter().find(|(c, _)| *c == id).cloned());
    let layout = admin.layout.clone();
    let forgotten =
        crate::console::audit_log::forgotten::notice(&mut conn, admin.org_id, layout.zone, admin.lang).await?;
    Ok(ListPage {
        layout,
        tab: filters.tab(),
        keys: rows.into_iter().map(|(key, _)| KeyView::new(key, now)).collect(),
        filters,
        scoped_count,
        unscoped_count,
        creators,
        next,
        first_page: after.is_none(),
        revoked,
        also_revoked,
        creator_shown,
        members: crate::console::catalog::members::of(admin.lang),
        find_error,
        forgotten,
    })
}
