//! Policies API (`/admin/v1/orgs/{orgId}/policies`, also under `/admin/control/v2/`): list,
//! create, get, update, delete the org's policies. keyward enforces two types: `ip-allowlist`
//! (the org's keys are refused from any other address, on every instance at once) and
//! `api-key-lifetime` (new keys of the org live at most that many days); any other type is a 400.

use actix_web::{HttpRequest, web};
use chrono::{DateTime, Utc};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::cursor;
use super::error::ApiError;
use super::orgs::{PageLinks, SelfLink};
use super::reply::{NoContent, Reply};
use crate::auth::api_key::Caller;
use crate::domain::PolicyName;
use crate::domain::actor::Actor;
use crate::domain::policy::{PolicyKind, PolicyRule, PolicyStatus};
use crate::service::policies::{Change, PolicyChangeError, PolicyInput};
use crate::state::AppState;
use crate::store;
use crate::store::audit::Acting;
use crate::store::policies::PolicyRow;

const PAGE: i64 = 50;

/// `{"data": [policy], "links": {...}, "meta": {...}}`, oldest first.
#[derive(Serialize, ToSchema)]
pub struct PolicyPage {
    pub data: Vec<PolicyItem>,
    pub links: PageLinks,
    pub meta: PolicyPageMeta,
}

#[derive(Serialize, ToSchema)]
pub struct PolicyPageMeta {
    /// The cursor of the next page; null on the last.
    pub next: Option<String>,
    pub page_size: i64,
}

/// `{"data": policy}`.
#[derive(Serialize, ToSchema)]
pub struct PolicyBody {
    pub data: PolicyItem,
}

#[derive(Serialize, ToSchema)]
pub struct PolicyItem {
    pub id: Uuid,
    /// Always `policy`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub attributes: PolicyAttributes,
    pub links: SelfLink,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyAttributes {
    /// `ip-allowlist` or `api-key-lifetime`.
    #[serde(rename = "type")]
    pub kind: PolicyTypeName,
    pub name: String,
    pub status: PolicyStatusName,
    pub rule: RuleBody,
    /// As sent; keyward applies every policy to the whole organization.
    pub resources: Vec<PolicyResource>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub enum PolicyTypeName {
    #[serde(rename = "ip-allowlist")]
    IpAllowlist,
    #[serde(rename = "api-key-lifetime")]
    ApiKeyLifetime,
}

impl From<PolicyKind> for PolicyTypeName {
    fn from(kind: PolicyKind) -> PolicyTypeName {
        match kind {
            PolicyKind::IpAllowlist => PolicyTypeName::IpAllowlist,
            PolicyKind::KeyLifetime => PolicyTypeName::ApiKeyLifetime,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PolicyStatusName {
    Enabled,
    Disabled,
}

/// A policy's rule: `{"in": [CIDR, ...]}` for an allowlist, `{"maxDays": N}` for a lifetime.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum RuleBody {
    Allowlist(AllowlistRuleBody),
    Lifetime(LifetimeRuleBody),
}

#[derive(Serialize, ToSchema)]
pub struct AllowlistRuleBody {
    /// CIDR ranges (single addresses as /32 or /128); a key of the org is admitted only from
    /// an address one of them holds.
    #[serde(rename = "in")]
    pub ranges: Vec<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LifetimeRuleBody {
    /// New keys of the organization live at most this many days (1 to 365).
    pub max_days: u16,
}

/// A resource a client named for the policy.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyResource {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_status: Option<String>,
}

/// The list's query: `cursor`, `type` (one policy type), `limit` (1 to 50).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    pub cursor: Option<String>,
    /// Only policies of this type.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<String>,
    /// Page size, 1 to 50 (default 50).
    pub limit: Option<i64>,
}

/// A create or update, wrapped (`{"data": {...}}`) or bare (`{"type": "policy", "attributes":
/// {...}}`, or the attributes alone).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum PolicyRequest {
    Wrapped(WrappedPolicy),
    Resource(PolicyData),
    Attributes(PolicyFields),
}

/// `{"data": {...}}` and nothing beside it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WrappedPolicy {
    data: PolicyData,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyData {
    /// Ignored (the path names the policy).
    #[serde(rename = "id", default)]
    #[schema(value_type = Option<String>)]
    _id: Option<IgnoredAny>,
    /// `policy`, when sent.
    #[serde(rename = "type", default)]
    kind: Option<String>,
    attributes: PolicyFields,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyFields {
    /// `ip-allowlist` or `api-key-lifetime`.
    #[serde(rename = "type")]
    #[schema(required = true, value_type = String)]
    kind: Option<String>,
    /// 1 to 100 characters.
    #[schema(required = true, value_type = String)]
    name: Option<String>,
    /// `enabled` (the default) or `disabled`.
    status: Option<String>,
    /// The type's rule.
    #[schema(required = true, value_type = Object)]
    rule: Option<serde_json::Value>,
    resources: Option<Vec<PolicyResource>>,
    /// Ignored, as clients send a zero time here.
    #[serde(rename = "createdAt", default)]
    #[schema(value_type = Option<String>)]
    _created_at: Option<IgnoredAny>,
    /// Ignored.
    #[serde(rename = "updatedAt", default)]
    #[schema(value_type = Option<String>)]
    _updated_at: Option<IgnoredAny>,
}

impl PolicyRequest {
    fn fields(self) -> Result<PolicyFields, ApiError> {
        let data = match self {
            PolicyRequest::Wrapped(WrappedPolicy { data }) | PolicyRequest::Resource(data) => data,
            PolicyRequest::Attributes(fields) => return Ok(fields),
        };
        match data.kind.as_deref().map(str::trim) {
            None | Some("policy" | "policies") => Ok(data.attributes),
            Some(other) => Err(invalid(format!("type must be \"policy\", not {other:?}."))),
        }
    }
}

impl PolicyFields {
    fn parse(self) -> Result<PolicyInput, ApiError> {
        let kind = self
            .kind
            .as_deref()
            .ok_or_else(|| invalid("attributes.type is required: ip-allowlist or api-key-lifetime."))?;
        let kind = PolicyKind::parse(kind).map_err(|e| invalid(format!("attributes.type: {e}")))?;
        let name = PolicyName::parse(self.name.as_deref().unwrap_or_default())
            .map_err(|e| invalid(format!("attributes.name: {e}")))?;
        let status = match self.status.as_deref() {
            Some(status) => PolicyStatus::parse(status).map_err(|e| invalid(format!("attributes.status: {e}")))?,
            None => PolicyStatus::Enabled,
        };
        let rule = self
            .rule
            .as_ref()
            .ok_or_else(|| invalid("attributes.rule is required."))?;
        let rule = PolicyRule::parse(kind, rule).map_err(|e| invalid(format!("attributes.rule: {e}")))?;
        let resources =
            serde_json::to_value(self.resources.unwrap_or_default()).map_err(|e| ApiError::Internal(e.into()))?;
        Ok(PolicyInput {
            name,
            status,
            rule,
            resources,
        })
    }
}

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::bad_request("ADMIN-400-24", "Invalid policy", detail)
}

pub fn policy_not_found() -> ApiError {
    ApiError::not_found(
        "ADMIN-404-5",
        "Policy not found",
        "No policy with this id in this organization.",
    )
}

impl From<PolicyChangeError> for ApiError {
    fn from(err: PolicyChangeError) -> ApiError {
        match err {
            PolicyChangeError::NotFound => policy_not_found(),
            PolicyChangeError::TypeChange(_) => invalid(format!("attributes.type: {err}.")),
            PolicyChangeError::Standing(standing) => standing.into(),
            PolicyChangeError::Database(db) => db.into(),
        }
    }
}

/// The policies collection this request was made under (v1 or control v2), as a full URL.
fn collection_url(state: &AppState, req: &HttpRequest, caller: &Caller) -> String {
    let family = if req.path().starts_with("/admin/control/") {
        "/admin/control/v2"
    } else {
        "/admin/v1"
    };
    format!("{}{family}/orgs/{}/policies", state.public_base, caller.org_id)
}

fn item(collection: &str, row: &PolicyRow) -> Result<PolicyItem, ApiError> {
    let damaged = || ApiError::Internal(anyhow::anyhow!("policy {} cannot be read", row.id));
    let kind = PolicyKind::parse(&row.kind).map_err(|_| damaged())?;
    let rule = match PolicyRule::parse(kind, &row.rule).map_err(|_| damaged())? {
        PolicyRule::IpAllowlist(list) => RuleBody::Allowlist(AllowlistRuleBody {
            ranges: list.ranges().iter().map(ToString::to_string).collect(),
        }),
        PolicyRule::KeyLifetime(lifetime) => RuleBody::Lifetime(LifetimeRuleBody {
            max_days: lifetime.max_days(),
        }),
    };
    let status = match PolicyStatus::parse(&row.status).map_err(|_| damaged())? {
        PolicyStatus::Enabled => PolicyStatusName::Enabled,
        PolicyStatus::Disabled => PolicyStatusName::Disabled,
    };
    Ok(PolicyItem {
        id: row.id,
        kind: "policy",
        attributes: PolicyAttributes {
            kind: kind.into(),
            name: row.name.clone(),
            status,
            rule,
            resources: serde_json::from_value(row.resources.clone()).unwrap_or_default(),
            created_at: row.created_at,
            updated_at: row.updated_at,
        },
        links: SelfLink {
            self_: format!("{collection}/{}", row.id),
        },
    })
}

fn policy_id(raw: &str) -> Result<Uuid, ApiError> {
    raw.parse().map_err(|_| policy_not_found())
}

fn change<'a>(state: &'a AppState, caller: &Caller, origin: &'a crate::store::audit::Origin) -> Change<'a> {
    Change {
        pool: &state.pool,
        verifier: Some(&state.verifier),
        acting: Acting {
            org_id: caller.org_id,
            actor: Actor::Key(caller.key_id),
            origin,
        },
    }
}

/// `GET .../policies`: the org's policies, oldest first, in pages of at most 50.
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ListQuery>,
    req: HttpRequest,
) -> Result<Reply<PolicyPage>, ApiError> {
    let limit = match query.limit {
        None => PAGE,
        Some(limit) if (1..=PAGE).contains(&limit) => limit,
        Some(_) => {
            return Err(ApiError::bad_request(
                "ADMIN-400-24",
                "Invalid limit",
                format!("limit is a page size from 1 to {PAGE}."),
            ));
        }
    };
    let kind = match query.kind.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
        Some(kind) => Some(
            PolicyKind::parse(kind)
                .map_err(|e| ApiError::bad_request("ADMIN-400-24", "Invalid type", e.to_string()))?,
        ),
        None => None,
    };
    let after = cursor::parse(query.cursor.as_deref())?;
    let mut conn = state.pool.acquire().await?;
    let mut rows =
        store::policies::list(&mut conn, caller.org_id, kind.map(PolicyKind::name), after, limit + 1).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or_default());
    let collection = collection_url(&state, &req, &caller);
    let link = |cursor: Option<&str>| {
        let mut url = url::Url::parse(&collection).ok();
        if let Some(url) = url.as_mut() {
            let mut pairs = url.query_pairs_mut();
            if let Some(kind) = kind {
                pairs.append_pair("type", kind.name());
            }
            if limit != PAGE {
                pairs.append_pair("limit", &limit.to_string());
            }
            if let Some(cursor) = cursor {
                pairs.append_pair("cursor", cursor);
            }
        }
        url.map_or_else(
            || collection.clone(),
            |url| url.to_string().trim_end_matches('?').to_owned(),
        )
    };
    let next_cursor = match (more, rows.last()) {
        (true, Some(last)) => Some(cursor::encode(last.created_at, last.id)),
        _ => None,
    };
    Ok(Reply::ok(PolicyPage {
        data: rows
            .iter()
            .map(|row| item(&collection, row))
            .collect::<Result<_, _>>()?,
        links: PageLinks {
            self_: link(query.cursor.as_deref().filter(|c| !c.is_empty())),
            prev: None,
            next: next_cursor.as_deref().map(|cursor| link(Some(cursor))),
        },
        meta: PolicyPageMeta {
            next: next_cursor,
            page_size: limit,
        },
    }))
}

/// `GET .../policies/{policyId}`.
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> Result<Reply<PolicyBody>, ApiError> {
    let id = policy_id(&path.1)?;
    let mut conn = state.pool.acquire().await?;
    let row = store::policies::get(&mut conn, caller.org_id, id)
        .await?
        .ok_or_else(policy_not_found)?;
    Ok(Reply::ok(PolicyBody {
        data: item(&collection_url(&state, &req, &caller), &row)?,
    }))
}

/// `POST .../policies`: a new policy of a type keyward enforces, in effect on every instance
/// once this answers (on this one for its very next request).
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<PolicyRequest>,
    req: HttpRequest,
) -> Result<Reply<PolicyBody>, ApiError> {
    let input = body.into_inner().fields()?.parse()?;
    let origin = super::origin(&caller, &req);
    let row = change(&state, &caller, &origin).create(&input).await?;
    Ok(Reply::ok(PolicyBody {
        data: item(&collection_url(&state, &req, &caller), &row)?,
    }))
}

/// `PUT .../policies/{policyId}`: replaces the policy's name, status, rule and resources; its
/// type cannot change.
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: web::Json<PolicyRequest>,
    req: HttpRequest,
) -> Result<Reply<PolicyBody>, ApiError> {
    let id = policy_id(&path.1)?;
    let input = body.into_inner().fields()?.parse()?;
    let origin = super::origin(&caller, &req);
    let row = change(&state, &caller, &origin).update(id, &input).await?;
    Ok(Reply::ok(PolicyBody {
        data: item(&collection_url(&state, &req, &caller), &row)?,
    }))
}

/// `DELETE .../policies/{policyId}`: 204.
pub async fn delete(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> Result<NoContent, ApiError> {
    let id = policy_id(&path.1)?;
    let origin = super::origin(&caller, &req);
    change(&state, &caller, &origin).delete(id).await?;
    Ok(NoContent)
}
