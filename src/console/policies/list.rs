//! `GET /o/{orgId}/settings/policies`: the org's IP allowlists and key lifetime policies, what
//! they add up to, who last changed each, and the requester's own address beside the
//! allowlists (with a warning when the enabled lists leave it out).

use std::net::IpAddr;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::view::{Policy, requester_ip};
use crate::console::catalog::{self, fill};
use crate::console::session::OrgAdmin;
use crate::console::{OrgLayout, PageError, render};
use crate::domain::actor::Actor;
use crate::domain::policy::{AddressPolicy, PolicyKind};
use crate::state::AppState;
use crate::store;
use crate::store::keyset as cursor;
use crate::store::policy_changes::LastChange;

/// Policies of one type on one page.
const PAGE: i64 = 50;

/// One policy as the page shows it.
pub struct PolicyItem {
    pub id: Uuid,
    pub name: String,
    pub enabled: bool,
    pub ranges: Vec<String>,
    pub max_days: Option<u16>,
    /// "{time} by {who}", or the time alone when no event names who.
    pub last_changed: String,
    pub excludes_you: bool,
}

/// The policies of one type: a page of them, and where the next page starts.
pub struct Section {
    pub items: Vec<PolicyItem>,
    pub next: Option<String>,
}

#[derive(Template)]
#[template(path = "policies/list.html")]
struct PoliciesPage {
    layout: OrgLayout,
    m: &'static catalog::policies::Messages,
    notice: Option<&'static str>,
    your_ip: Option<String>,
    /// The allowlists section; None when the page shows the other type only.
    allowlists: Option<Section>,
    lifetimes: Option<Section>,
    /// Whether any allowlist is enabled, and whether together they leave out the requester.
    allowlist_enforced: bool,
    excludes_you: bool,
    /// The shortest enabled lifetime, in days.
    lifetime_days: Option<u16>,
    /// One type's later page, rather than the whole overview.
    paged: bool,
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    after: String,
    #[serde(default)]
    done: String,
}

fn who(m: &catalog::policies::Messages, change: &LastChange) -> String {
    match (change.actor, change.actor_name.as_deref()) {
        (Actor::User(_), Some(name)) => name.to_owned(),
        (Actor::User(_), None) => m.changed_by_deleted_user.to_owned(),
        (Actor::Key(_), Some(name)) => fill(m.changed_by_key, &[("name", name)]),
        (Actor::Key(_), None) => m.changed_by_deleted_key.to_owned(),
        (Actor::System, _) => m.changed_by_keyward.to_owned(),
    }
}

async fn section(
    state: &AppState,
    layout: &OrgLayout,
    m: &catalog::policies::Messages,
    org_id: Uuid,
    kind: PolicyKind,
    after: Option<(DateTime<Utc>, Uuid)>,
    your_ip: Option<IpAddr>,
) -> Result<Section, PageError> {
    let mut conn = state.pool.acquire().await?;
    let mut rows = store::policies::list(&mut conn, org_id, Some(kind.name()), after, PAGE + 1).await?;
    let more = rows.len() as i64 > PAGE;
    rows.truncate(PAGE as usize);
    let next = match (more, rows.last()) {
        (true, Some(last)) => Some(format!(
            "type={}&after={}",
            kind.name(),
            cursor::encode(last.created_at, last.id)
        )),
        _ => None,
    };
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let changes = store::policy_changes::last_changes(&mut conn, org_id, &ids).await?;
    let items = rows
        .into_iter()
        .map(|row| {
            let policy = Policy::read(row)?;
            let when = layout.date_time(&policy.row.updated_at);
            let last_changed = match changes.get(&policy.row.id) {
                Some(change) => fill(m.changed_by, &[("when", &when), ("who", &who(m, change))]),
                None => when,
            };
            Ok(PolicyItem {
                id: policy.row.id,
                enabled: policy.enabled,
                ranges: policy.ranges(),
                max_days: policy.max_days(),
                excludes_you: policy.excludes(your_ip),
                last_changed,
                name: policy.row.name,
            })
        })
        .collect::<Result<_, PageError>>()?;
    Ok(Section { items, next })
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: OrgAdmin,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let layout = admin.layout.clone();
    let m = catalog::policies::of(admin.lang);
    let ip = requester_ip(&req, &state);
    // A later page of one type; an unknown type or a cursor this page did not give out is
    // the overview.
    let paged = PolicyKind::parse(&query.kind).ok().zip(cursor::decode(&query.after));
    let (allowlists, lifetimes) = match paged {
        Some((kind, after)) => {
            let page = section(&state, &layout, m, admin.org_id, kind, Some(after), ip).await?;
            match kind {
                PolicyKind::IpAllowlist => (Some(page), None),
                PolicyKind::KeyLifetime => (None, Some(page)),
            }
        }
        None => (
            Some(section(&state, &layout, m, admin.org_id, PolicyKind::IpAllowlist, None, ip).await?),
            Some(section(&state, &layout, m, admin.org_id, PolicyKind::KeyLifetime, None, ip).await?),
        ),
    };
    // What the enabled policies add up to, over all of them, not only this page's.
    let mut conn = state.pool.acquire().await?;
    let allow_rules = store::policies::enabled_rules(&mut conn, admin.org_id, PolicyKind::IpAllowlist.name()).await?;
    let lifetime_rules =
        store::policies::enabled_rules(&mut conn, admin.org_id, PolicyKind::KeyLifetime.name()).await?;
    drop(conn);
    let address_policy = AddressPolicy::of(crate::service::policies::allowlists(&allow_rules));
    let notice = match query.done.as_str() {
        "created" => Some(m.notice_created),
        "updated" => Some(m.notice_updated),
        "enabled" => Some(m.notice_enabled),
        "disabled" => Some(m.notice_disabled),
        "deleted" => Some(m.notice_deleted),
        _ => None,
    };
    let page = PoliciesPage {
        layout,
        m,
        notice,
        your_ip: ip.map(|ip| ip.to_string()),
        allowlists,
        lifetimes,
        allowlist_enforced: address_policy != AddressPolicy::Open,
        excludes_you: ip.is_some_and(|ip| !address_policy.admits(ip)),
        lifetime_days: crate::service::policies::shortest_lifetime(&lifetime_rules).map(|l| l.max_days()),
        paged: paged.is_some(),
    };
    render(StatusCode::OK, &page)
}
