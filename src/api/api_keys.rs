//! API keys API (`/admin/api-access/v1/orgs/{orgId}/api-keys`): list and count with filters,
//! create, revoke. A key created here can do no more than the key that created it, and lives
//! no longer.

use actix_web::{HttpRequest, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::cursor;
use super::error::ApiError;
use super::orgs::PageLinks;
use super::reply::{NoContent, Reply};
use crate::auth::api_key::Caller;
use crate::domain::actor::Actor;
use crate::domain::api_key::ApiKey;
use crate::domain::api_key::{AskedExpiry, KeyName, KeyStatus, Limit};
use crate::domain::{KeyId, KeyScopes, Scope};
use crate::service::keys::{self, KeyError, KeyRequest};
use crate::state::AppState;
use crate::store;
use crate::store::api_keys::{KeyCursor, KeyFilter, Revocation};

const PAGE: i64 = 50;
const MAX_PAGE: i64 = 100;

/// A key as the list shows it: never any part of its secret beyond the public id.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeyItem {
    pub id: Uuid,
    /// keyward: the non-secret part of the token, as the console shows it.
    pub public_id: String,
    pub label: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub last_active_at: Option<DateTime<Utc>>,
    /// keyward: the client address of the key's last use.
    pub last_active_ip: Option<String>,
    /// keyward: when the key was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    pub status: StatusName,
    pub org_id: Uuid,
    pub created_by: CreatedBy,
    /// keyward: false for a key without scopes, which may call everything.
    pub scoped: bool,
    pub scopes: Vec<&'static str>,
}

/// A key's status at the time of the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StatusName {
    Active,
    Expired,
    Revoked,
}

impl From<KeyStatus> for StatusName {
    fn from(status: KeyStatus) -> StatusName {
        match status {
            KeyStatus::Active => StatusName::Active,
            KeyStatus::Expired => StatusName::Expired,
            KeyStatus::Revoked => StatusName::Revoked,
        }
    }
}

/// Who created a key: a person, a key (then name and email are of the person that key answers
/// for), or keyward itself (the command line).
#[derive(Serialize, ToSchema)]
pub struct CreatedBy {
    pub id: Option<Uuid>,
    pub name: Option<String>,
    pub email: Option<String>,
    #[serde(rename = "type")]
    pub kind: CreatorKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CreatorKind {
    User,
    ApiKey,
    System,
}

impl CreatedBy {
    fn of(key: &ApiKey) -> CreatedBy {
        match key.created_by {
            Actor::User(id) => CreatedBy {
                id: Some(id),
                name: key.creator_name.clone(),
                email: key.creator_email.clone(),
                kind: CreatorKind::User,
            },
            Actor::Key(id) => CreatedBy {
                id: Some(id),
                name: key.creator_name.clone(),
                email: key.creator_email.clone(),
                kind: CreatorKind::ApiKey,
            },
            Actor::System => CreatedBy {
                id: None,
                name: Some("keyward".to_owned()),
                email: None,
                kind: CreatorKind::System,
            },
        }
    }
}

fn scope_names(scopes: &[Scope]) -> Vec<&'static str> {
    scopes.iter().map(|scope| scope.name()).collect()
}

impl KeyItem {
    fn of(key: &ApiKey, now: DateTime<Utc>) -> KeyItem {
        KeyItem {
            id: key.id,
            public_id: key.public_id.to_string(),
            label: key.name.clone(),
            created_at: key.created_at,
            expires_at: key.expires_at,
            last_active_at: key.last_used_at,
            last_active_ip: key.last_used_ip.map(|ip| ip.to_string()),
            revoked_at: key.revoked_at,
            status: key.status(now).into(),
            org_id: key.org_id,
            created_by: CreatedBy::of(key),
            scoped: key.scoped(),
            scopes: scope_names(key.scope_list()),
        }
    }
}

/// A page of keys: `{"data":[key], "links":{...}}`; `links.next` keeps the page's filters.
#[derive(Serialize, ToSchema)]
pub struct KeyPage {
    pub data: Vec<KeyItem>,
    pub links: PageLinks,
}

/// The list's and the count's query. Read from the query string by `from_query_string`, not
/// by serde: statuses arrive repeated (`status=a&status=b`) and comma-joined (`status=a,b`).
#[derive(Debug, Default, PartialEq, Eq, utoipa::IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct ListQuery {
    /// Where the previous page ended, from its `links.next` (the list only).
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 50; the list only). Also read from `pageSize`, as
    /// go-atlassian sends it.
    #[param(value_type = Option<i64>)]
    pub limit: Option<String>,
    /// A case-insensitive substring of the key's name or public id (`%` and `_` match
    /// themselves).
    pub q: Option<String>,
    /// `active`, `expired` or `revoked`, repeated or comma-joined: keys in any of them.
    #[param(required = false, explode = true)]
    pub status: Vec<String>,
    /// RFC 3339: keys expiring after this time.
    #[param(value_type = Option<DateTime<Utc>>)]
    pub expires_after: Option<String>,
    /// RFC 3339: keys expiring before this time.
    #[param(value_type = Option<DateTime<Utc>>)]
    pub expires_before: Option<String>,
}

impl ListQuery {
    /// Reads the query string; parameters it does not know are ignored.
    pub fn from_query_string(query: &str) -> ListQuery {
        let mut parsed = ListQuery::default();
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let value = value.into_owned();
            match name.as_ref() {
                "cursor" => parsed.cursor = Some(value),
                "limit" | "pageSize" => parsed.limit = Some(value),
                "q" => parsed.q = Some(value),
                "status" => parsed.status.extend(
                    value
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned),
                ),
                "expiresAfter" => parsed.expires_after = Some(value),
                "expiresBefore" => parsed.expires_before = Some(value),
                _ => {}
            }
        }
        parsed
    }

    /// The filter it asks for, judged at `now`.
    fn filter(&self, now: DateTime<Utc>) -> Result<KeyFilter, ApiError> {
        let mut statuses = Vec::new();
        for name in &self.status {
            let status = match name.to_ascii_lowercase().as_str() {
                "active" => KeyStatus::Active,
                "expired" => KeyStatus::Expired,
                "revoked" => KeyStatus::Revoked,
                _ => {
                    return Err(ApiError::bad_request(
                        "ADMIN-400-24",
                        "Invalid status",
                        format!("status {name:?} is not one of active, expired, revoked."),
                    ));
                }
            };
            if !statuses.contains(&status) {
                statuses.push(status);
            }
        }
        Ok(KeyFilter {
            text: self.q.clone().filter(|q| !q.is_empty()),
            statuses,
            expires_after: time_parameter("expiresAfter", self.expires_after.as_deref())?,
            expires_before: time_parameter("expiresBefore", self.expires_before.as_deref())?,
            now,
        })
    }

    fn page_size(&self) -> Result<i64, ApiError> {
        let Some(limit) = self.limit.as_deref().filter(|l| !l.is_empty()) else {
            return Ok(PAGE);
        };
        match limit.parse::<i64>() {
            Ok(limit) if (1..=MAX_PAGE).contains(&limit) => Ok(limit),
            _ => Err(ApiError::bad_request(
                "ADMIN-400-24",
                "Invalid limit",
                format!("limit must be 1 to {MAX_PAGE}."),
            )),
        }
    }

    fn after(&self) -> Result<Option<KeyCursor>, ApiError> {
        cursor::parse(self.cursor.as_deref())
    }

    /// This query's filters as URL parameters, for the links of a page.
    fn link(&self, base: &str, cursor: Option<&str>, limit: i64) -> String {
        let mut params = url::form_urlencoded::Serializer::new(String::new());
        if let Some(q) = self.q.as_deref().filter(|q| !q.is_empty()) {
            params.append_pair("q", q);
        }
        if !self.status.is_empty() {
            params.append_pair("status", &self.status.join(","));
        }
        if let Some(after) = &self.expires_after {
            params.append_pair("expiresAfter", after);
        }
        if let Some(before) = &self.expires_before {
            params.append_pair("expiresBefore", before);
        }
        if let Some(cursor) = cursor {
            params.append_pair("cursor", cursor);
        }
        params.append_pair("limit", &limit.to_string());
        format!("{base}?{}", params.finish())
    }
}

fn time_parameter(name: &str, value: Option<&str>) -> Result<Option<DateTime<Utc>>, ApiError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(value) => DateTime::parse_from_rfc3339(value)
            .map(|t| Some(t.to_utc()))
            .map_err(|_| {
                ApiError::bad_request(
                    "ADMIN-400-3",
                    "Invalid time",
                    format!("{name} must be an RFC 3339 time, such as 2027-01-31T09:00:00Z."),
                )
            }),
    }
}

/// Cursors are opaque to clients: the keyset (created_at, id) of the last item, hex encoded.
fn keys_url(state: &AppState, caller: &Caller) -> String {
    format!(
        "{}/admin/api-access/v1/orgs/{}/api-keys",
        state.public_base, caller.org_id
    )
}

/// `GET .../api-keys`: one page of the org's keys, newest first.
pub async fn list(state: web::Data<AppState>, caller: Caller, req: HttpRequest) -> Result<Reply<KeyPage>, ApiError> {
    let query = ListQuery::from_query_string(req.query_string());
    let now = Utc::now();
    let filter = query.filter(now)?;
    let limit = query.page_size()?;
    let after = query.after()?;
    let mut conn = state.pool.acquire().await?;
    let mut keys = store::api_keys::search(&mut conn, caller.org_id, &filter, after, limit + 1).await?;
    let more = keys.len() as i64 > limit;
    keys.truncate(limit as usize);
    let base = keys_url(&state, &caller);
    let next = match (more, keys.last()) {
        (true, Some(last)) => Some(query.link(&base, Some(&cursor::encode(last.created_at, last.id)), limit)),
        _ => None,
    };
    Ok(Reply::ok(KeyPage {
        data: keys.iter().map(|key| KeyItem::of(key, now)).collect(),
        links: PageLinks {
            self_: query.link(&base, query.cursor.as_deref().filter(|c| !c.is_empty()), limit),
            prev: None,
            next,
        },
    }))
}

/// `GET .../api-keys/count`: how many keys the list's filters select, as a bare integer.
pub async fn count(state: web::Data<AppState>, caller: Caller, req: HttpRequest) -> Result<Reply<i64>, ApiError> {
    let filter = ListQuery::from_query_string(req.query_string()).filter(Utc::now())?;
    let mut conn = state.pool.acquire().await?;
    Ok(Reply::ok(
        store::api_keys::count(&mut conn, caller.org_id, &filter).await?,
    ))
}

/// The create request, wrapped (`{"data":{...}}`) or bare.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum NewKeyBody {
    Wrapped(WrappedNewKey),
    Bare(NewKey),
}

/// `{"data": {...}}` and nothing beside it: a body mixing both forms is refused rather than
/// read as one of them (a `scopes` beside `data` must not be dropped silently).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WrappedNewKey {
    data: NewKey,
}

impl NewKeyBody {
    fn into_inner(self) -> NewKey {
        match self {
            NewKeyBody::Wrapped(WrappedNewKey { data }) | NewKeyBody::Bare(data) => data,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewKey {
    /// The key's name: 1 to 100 characters after trimming. Required; read as optional so a
    /// missing one is answered with a 400 that names it.
    #[schema(required = true, value_type = String)]
    pub label: Option<String>,
    /// RFC 3339 time, or a date: the key works through that whole day in UTC (it expires at
    /// 23:59:59Z; a day a limit falls in ends at the limit, and `expiryLimitedBy` says so).
    /// Absent or null: 30 days from now, cut to the org's key lifetime policy and to the
    /// calling key's own expiry.
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub expires_at: Option<String>,
    /// Absent or null: a key without scopes (only a key without scopes may make one). An array
    /// (or a comma-joined string) of scope names: a subset of the calling key's. `[]` is refused.
    pub scopes: Option<ScopeList>,
}

/// The limit a key's expiry was cut to.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum ExpiryLimit {
    Year,
    Policy,
    CreatingKey,
}

impl ExpiryLimit {
    fn of(limit: Limit) -> ExpiryLimit {
        match limit {
            Limit::Year => ExpiryLimit::Year,
            Limit::Policy(_) => ExpiryLimit::Policy,
            Limit::Creator(_) => ExpiryLimit::CreatingKey,
        }
    }
}

/// Scope names: an array, or one comma-joined string.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ScopeList {
    Names(Vec<String>),
    Joined(String),
}

impl ScopeList {
    fn names(&self) -> Vec<&str> {
        match self {
            ScopeList::Names(names) => names.iter().map(|n| n.trim()).collect(),
            ScopeList::Joined(joined) => joined.split(',').map(str::trim).filter(|n| !n.is_empty()).collect(),
        }
    }
}

/// The answer to a create: the only one that ever carries the token.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedKey {
    pub id: Uuid,
    /// The key's value, shown this once: it cannot be recovered.
    pub token: String,
    pub label: String,
    pub created_by: CreatedBy,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// keyward: present when `expiresAt` was a date whose day passes a limit in force, and the
    /// key ends at that limit instead: `year` (365 days), `policy` (the org's key lifetime
    /// policy) or `creatingKey` (the calling key's own expiry).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiry_limited_by: Option<ExpiryLimit>,
    pub scopes: Vec<&'static str>,
    /// keyward: the non-secret part of the token.
    pub public_id: String,
    /// keyward
    pub org_id: Uuid,
    /// keyward: false for a key without scopes.
    pub scoped: bool,
}

/// The scopes asked for: absent or null for a key without scopes; names, or one comma-joined
/// string.
fn requested_scopes(asked: Option<&ScopeList>) -> Result<KeyScopes, KeyError> {
    Ok(KeyScopes::parse(asked.map(ScopeList::names))?)
}

/// The expiry asked for: absent or null, 30 days cut to the limits in force; an RFC 3339 time;
/// or a date, through the whole of that day in UTC.
fn requested_expiry(asked: Option<&str>) -> Result<AskedExpiry, KeyError> {
    match asked.map(str::trim).filter(|a| !a.is_empty()) {
        None => Ok(AskedExpiry::Default),
        Some(asked) => Ok(AskedExpiry::parse(asked, chrono_tz::Tz::UTC)?),
    }
}

/// `POST .../api-keys`: creates a key on behalf of the calling key and the person it answers
/// for; the token is in this answer only.
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<NewKeyBody>,
    req: HttpRequest,
) -> Result<Reply<CreatedKey>, ApiError> {
    let asked = body.into_inner().into_inner();
    let name = KeyName::parse(asked.label.as_deref().unwrap_or_default())
        .map_err(|e| ApiError::bad_request("ADMIN-400-24", "Invalid label", format!("label: {e}")))?;
    let request = KeyRequest {
        org_id: caller.org(),
        name,
        scopes: requested_scopes(asked.scopes.as_ref())?,
        expiry: requested_expiry(asked.expires_at.as_deref())?,
        created_by: Actor::Key(caller.key_id),
        // The service takes the person the calling key answers for.
        responsible_user_id: None,
        origin: super::origin(&caller, &req),
    };
    let created = keys::create(&state.pool, &state.people_argon2, &request).await?;
    // Read back for the names of the person it answers for; a key revoked in the meantime is
    // still the one created.
    let key = {
        let mut conn = state.pool.acquire().await?;
        store::api_keys::find(&mut conn, caller.org_id, &created.id.to_string()).await?
    }
    .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("a created key could not be read back")))?;
    Ok(Reply::created(CreatedKey {
        id: created.id.uuid(),
        token: created.token.expose_token(),
        label: key.name.clone(),
        created_by: CreatedBy::of(&key),
        created_at: key.created_at,
        expires_at: key.expires_at,
        expiry_limited_by: created.settled.clamped_to.map(ExpiryLimit::of),
        scopes: scope_names(key.scope_list()),
        public_id: key.public_id.to_string(),
        org_id: key.org_id,
        scoped: key.scoped(),
    }))
}

/// `PATCH .../api-keys/revoke/{apiKeyId}` (body `{}` or none): 204, also for a key revoked before.
pub async fn revoke(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> Result<NoContent, ApiError> {
    let (_, key) = path.into_inner();
    let not_found = || {
        ApiError::not_found(
            "ADMIN-404-1",
            "API key not found",
            "No API key with this id in this organization.",
        )
    };
    let key_id: KeyId = key.parse().map_err(|_| not_found())?;
    let outcome = keys::revoke(
        &state.pool,
        Some(&state.verifier),
        caller.org(),
        key_id,
        Actor::Key(caller.key_id),
        &super::origin(&caller, &req),
    )
    .await?;
    match outcome {
        Revocation::Revoked { .. } | Revocation::AlreadyRevoked => Ok(NoContent),
        Revocation::NotFound => Err(not_found()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_arrive_repeated_and_comma_joined() {
        let query = ListQuery::from_query_string("status=active,expired&status=revoked&q=a%25b&pageSize=5");
        assert_eq!(query.status, ["active", "expired", "revoked"]);
        assert_eq!(query.q.as_deref(), Some("a%b"));
        assert_eq!(query.limit.as_deref(), Some("5"));
        let filter = query.filter(Utc::now()).expect("filter");
        assert_eq!(
            filter.statuses,
            [KeyStatus::Active, KeyStatus::Expired, KeyStatus::Revoked]
        );
    }

    #[test]
    fn links_carry_the_filters() {
        let query = ListQuery::from_query_string(
            "q=deploy+bot&status=active&status=expired&expiresBefore=2027-01-01T00:00:00Z",
        );
        assert_eq!(
            query.link("http://h/k", Some("abc"), 10),
            "http://h/k?q=deploy+bot&status=active%2Cexpired&expiresBefore=2027-01-01T00%3A00%3A00Z&cursor=abc&limit=10"
        );
    }

    #[test]
    fn no_expiry_asks_for_the_default_and_a_date_is_that_whole_day_in_utc() {
        assert!(matches!(requested_expiry(None), Ok(AskedExpiry::Default)));
        assert!(matches!(requested_expiry(Some("  ")), Ok(AskedExpiry::Default)));
        assert!(matches!(
            requested_expiry(Some("2027-01-31")),
            Ok(AskedExpiry::Through(_, chrono_tz::Tz::UTC))
        ));
    }
}
