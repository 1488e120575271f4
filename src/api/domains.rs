//! Domains API (`/admin/v1/orgs/{orgId}/domains`, and the same under `/admin/v2/`): the
//! domains the organization claims, verified or not, in pages with a keyset cursor.

use actix_web::web;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::cursor;
use super::error::ApiError;
use super::orgs::{PageLinks, SelfLink};
use super::reply::Reply;
use super::users::lenient;
use crate::auth::api_key::Caller;
use crate::domain::domain_name::{ClaimType, DomainStatus};
use crate::state::AppState;
use crate::store;
use crate::store::domains::Domain;

const PAGE: i64 = 50;
const MAX_PAGE: i64 = 100;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DomainsQuery {
    /// Where the previous page ended, from its `links.next`.
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 50).
    #[serde(default, deserialize_with = "lenient::int")]
    pub limit: Option<i64>,
}

/// A page of domains, oldest claim first.
#[derive(Serialize, ToSchema)]
pub struct DomainPage {
    pub data: Vec<DomainItem>,
    pub links: PageLinks,
}

/// `{"data": domain}`.
#[derive(Serialize, ToSchema)]
pub struct DomainBody {
    pub data: DomainItem,
}

#[derive(Serialize, ToSchema)]
pub struct DomainItem {
    pub id: Uuid,
    /// Always `domains`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub attributes: DomainAttributes,
    pub links: SelfLink,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DomainAttributes {
    /// The DNS name, lower case.
    pub name: String,
    pub claim: DomainClaim,
    /// keyward: when the claim was made.
    pub created_at: DateTime<Utc>,
    /// keyward: when the operator attested the claim (`keyward domains verify`); null while
    /// unverified.
    pub verified_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct DomainClaim {
    /// How the claim is proven: `dns` (a TXT record) or `http` (a served file).
    #[serde(rename = "type")]
    pub kind: ClaimKind,
    pub status: ClaimStatus,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ClaimKind {
    Dns,
    Http,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ClaimStatus {
    Verified,
    Unverified,
}

/// The answer for an unknown domain, another org's, and an id that is no id alike.
pub fn domain_not_found() -> ApiError {
    ApiError::not_found(
        "ADMIN-404-3",
        "Domain not found",
        "No domain with this id in this organization.",
    )
}

fn domains_url(state: &AppState, version: &str, org_id: Uuid) -> String {
    format!("{}/admin/{version}/orgs/{org_id}/domains", state.public_base)
}

fn item(base: &str, domain: &Domain) -> DomainItem {
    DomainItem {
        id: domain.id,
        kind: "domains",
        attributes: DomainAttributes {
            name: domain.name.clone(),
            claim: DomainClaim {
                kind: match domain.claim {
                    ClaimType::Dns => ClaimKind::Dns,
                    ClaimType::Http => ClaimKind::Http,
                },
                status: match domain.status {
                    DomainStatus::Verified => ClaimStatus::Verified,
                    DomainStatus::Unverified => ClaimStatus::Unverified,
                },
            },
            created_at: domain.created_at,
            verified_at: domain.verified_at,
        },
        links: SelfLink {
            self_: format!("{base}/{}", domain.id),
        },
    }
}

async fn list(
    state: &AppState,
    caller: &Caller,
    query: &DomainsQuery,
    version: &str,
) -> Result<Reply<DomainPage>, ApiError> {
    let after = cursor::parse(query.cursor.as_deref())?;
    let limit = query.limit.unwrap_or(PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad_request(
            "ADMIN-400-24",
            "Invalid limit",
            format!("limit must be 1 to {MAX_PAGE}."),
        ));
    }
    let mut conn = state.pool.acquire().await?;
    let mut domains = store::domains::page(&mut conn, caller.org_id, after, limit + 1).await?;
    drop(conn);
    let more = domains.len() as i64 > limit;
    domains.truncate(limit as usize);
    let base = domains_url(state, version, caller.org_id);
    let next = domains.last().filter(|_| more).map(|last| {
        format!(
            "{base}?cursor={}&limit={limit}",
            cursor::encode(last.created_at, last.id)
        )
    });
    let self_ = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(cursor) => format!("{base}?cursor={cursor}&limit={limit}"),
        None => format!("{base}?limit={limit}"),
    };
    Ok(Reply::ok(DomainPage {
        data: domains.iter().map(|d| item(&base, d)).collect(),
        links: PageLinks {
            self_,
            prev: None,
            next,
        },
    }))
}

async fn get(state: &AppState, caller: &Caller, domain: &str, version: &str) -> Result<Reply<DomainBody>, ApiError> {
    let id: Uuid = domain.parse().map_err(|_| domain_not_found())?;
    let mut conn = state.pool.acquire().await?;
    let domain = store::domains::get(&mut conn, caller.org_id, id)
        .await?
        .ok_or_else(domain_not_found)?;
    Ok(Reply::ok(DomainBody {
        data: item(&domains_url(state, version, caller.org_id), &domain),
    }))
}

/// `GET /admin/v1/orgs/{orgId}/domains`.
pub async fn list_v1(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<DomainsQuery>,
) -> Result<Reply<DomainPage>, ApiError> {
    list(&state, &caller, &query, "v1").await
}

/// `GET /admin/v2/orgs/{orgId}/domains`.
pub async fn list_v2(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<DomainsQuery>,
) -> Result<Reply<DomainPage>, ApiError> {
    list(&state, &caller, &query, "v2").await
}

/// `GET /admin/v1/orgs/{orgId}/domains/{domainId}`.
pub async fn get_v1(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<Reply<DomainBody>, ApiError> {
    get(&state, &caller, &path.1, "v1").await
}

/// `GET /admin/v2/orgs/{orgId}/domains/{domainId}`.
pub async fn get_v2(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<Reply<DomainBody>, ApiError> {
    get(&state, &caller, &path.1, "v2").await
}
