//! API keys API (`/admin/api-access/v1/orgs/{orgId}/api-keys`): list and count with filters,
//! create, revoke. A key created here can do no more than the key that created it, and lives
//! no longer.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::cursor;
use super::error::ApiError;
use super::orgs::PageLinks;
use super::reply::{NoContent, Reply};
use crate::auth::api_key::Caller;
use crate::domain::Scope;
use crate::domain::api_key::{Expiry, KeyName, KeyStatus};
use crate::keys::{self, KeyRequest, Lifetime};
use crate::state::AppState;
use crate::store;
use crate::store::api_keys::{ApiKey, KeyCursor, KeyFilter, Revocation};
use crate::store::audit::Actor;

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
            public_id: key.public_id.clone(),
            label: key.name.clone(),
            created_at: key.created_at,
            expires_at: key.expires_at,
            last_active_at: key.last_used_at,
            last_active_ip: key.last_used_ip.map(|ip| ip.to_string()),
            revoked_at: key.revoked_at,
            status: key.status(now).into(),
            org_id: key.org_id,
            created_by: CreatedBy::of(key),
            scoped: key.scoped,
            scopes: scope_names(&key.scopes),
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
    /// RFC 3339 time (or a date: its start in UTC); absent or null: 30 days from now, or the
    /// calling key's own expiry when that is sooner.
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub expires_at: Option<String>,
    /// Absent or null: a key without scopes (only a key without scopes may make one). An array
    /// (or a comma-joined string) of scope names: a subset of the calling key's. `[]` is refused.
    pub scopes: Option<ScopeList>,
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
    pub scopes: Vec<&'static str>,
    /// keyward: the non-secret part of the token.
    pub public_id: String,
    /// keyward
    pub org_id: Uuid,
    /// keyward: false for a key without scopes.
    pub scoped: bool,
}

fn invalid_scopes(detail: impl Into<String>) -> ApiError {
    ApiError::bad_request("ADMIN-400-2", "Invalid scopes", detail)
}

fn invalid_expiry(detail: impl Into<String>) -> ApiError {
    ApiError::bad_request("ADMIN-400-3", "Invalid expiry", detail)
}

fn not_allowed(detail: impl Into<String>) -> ApiError {
    ApiError::Application {
        status: StatusCode::FORBIDDEN,
        code: "ADMIN-403-3",
        title: "Not allowed",
        detail: detail.into(),
    }
}

/// The scopes asked for, checked against the calling key's: `None` asks for a key without
/// scopes, which only a key without scopes may make (403 otherwise); a scoped key grants only
/// scopes it has itself (403 naming the others).
fn requested_scopes(asked: Option<&ScopeList>, creator: &ApiKey) -> Result<Option<Vec<Scope>>, ApiError> {
    let Some(asked) = asked else {
        if creator.scoped {
            return Err(not_allowed(
                "Only an API key without scopes may create an API key without scopes; give scopes.",
            ));
        }
        return Ok(None);
    };
    let names = asked.names();
    if names.is_empty() {
        return Err(invalid_scopes(
            "Give at least one scope, or leave scopes out for a key without scopes.",
        ));
    }
    let mut scopes = Vec::with_capacity(names.len());
    for name in names {
        let scope: Scope = name
            .parse()
            .map_err(|_| invalid_scopes(format!("{name:?} is not a scope.")))?;
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    scopes.sort();
    if creator.scoped {
        let beyond: Vec<&str> = scopes
            .iter()
            .filter(|scope| !creator.scopes.contains(scope))
            .map(|scope| scope.name())
            .collect();
        if !beyond.is_empty() {
            return Err(not_allowed(format!(
                "An API key may grant only scopes it has; this one lacks {}.",
                beyond.join(", ")
            )));
        }
    }
    Ok(Some(scopes))
}

/// The expiry asked for: absent, 30 days, or the calling key's own expiry when that is sooner;
/// at most 365 days from now; never after the calling key's own expiry (a 400 naming it), so
/// no key can outlive the one that made it. The database's check of the 365 days, against its
/// own clock, is the last word.
fn requested_expiry(asked: Option<&str>, creator: &ApiKey, now: DateTime<Utc>) -> Result<Lifetime, ApiError> {
    // Nothing asked: 30 days, cut to the org's policy and to the calling key's own expiry.
    let Some(asked) = asked.map(str::trim).filter(|a| !a.is_empty()) else {
        return Ok(Lifetime::Default);
    };
    let expiry = Expiry::parse_at(asked).map_err(|e| invalid_expiry(e.to_string()))?;
    let Expiry::At(at) = expiry else {
        return Err(invalid_expiry("expiresAt must be a time."));
    };
    if at <= now {
        return Err(invalid_expiry("expiresAt must be in the future."));
    }
    if at > now + Duration::days(i64::from(Expiry::MAX_DAYS)) {
        return Err(invalid_expiry(format!(
            "An API key lives at most {} days; expiresAt is later.",
            Expiry::MAX_DAYS
        )));
    }
    if at > creator.expires_at {
        return Err(invalid_expiry(format!(
            "A key may not outlive the key that creates it, which expires at {}; give an expiresAt no later.",
            creator.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        )));
    }
    Ok(Lifetime::Asked(expiry))
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
    // The calling key as stored: the person it answers for, and its own expiry.
    let creator = {
        let mut conn = state.pool.acquire().await?;
        store::api_keys::find(&mut conn, caller.org_id, &caller.key_id.to_string()).await?
    };
    let creator = creator
        .filter(|key| key.status(Utc::now()) == KeyStatus::Active)
        .ok_or(ApiError::Unauthorized("Invalid API key."))?;
    let scopes = requested_scopes(asked.scopes.as_ref(), &creator)?;
    let expiry = requested_expiry(asked.expires_at.as_deref(), &creator, Utc::now())?;
    let request = KeyRequest {
        org_id: caller.org_id,
        name,
        scopes,
        expiry,
        created_by: Actor::Key(caller.key_id),
        responsible_user_id: creator.responsible_user_id,
        origin: super::origin(&caller, &req),
    };
    let (id, token) = keys::create(&state.pool, &state.people_argon2, &request).await?;
    let created = {
        let mut conn = state.pool.acquire().await?;
        store::api_keys::find(&mut conn, caller.org_id, &id.to_string()).await?
    }
    .ok_or_else(|| ApiError::Internal("a created key could not be read back".into()))?;
    Ok(Reply::created(CreatedKey {
        id,
        token: token.expose_token(),
        label: created.name.clone(),
        created_by: CreatedBy::of(&created),
        created_at: created.created_at,
        expires_at: created.expires_at,
        scopes: scope_names(&created.scopes),
        public_id: created.public_id.clone(),
        org_id: created.org_id,
        scoped: created.scoped,
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
    let key_id: Uuid = key.parse().map_err(|_| not_found())?;
    let outcome = keys::revoke(
        &state.pool,
        Some(&state.verifier),
        caller.org_id,
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

    fn creator_expiring(at: DateTime<Utc>) -> ApiKey {
        ApiKey {
            id: Uuid::new_v4(),
            org_id: Uuid::new_v4(),
            public_id: "abcdefghijkl".into(),
            name: "maker".into(),
            scoped: false,
            scopes: Vec::new(),
            created_by: Actor::System,
            responsible_user_id: None,
            created_at: at - Duration::days(400),
            expires_at: at,
            last_used_at: None,
            last_used_ip: None,
            revoked_at: None,
            creator_name: None,
            creator_email: None,
        }
    }

    fn at(time: DateTime<Utc>) -> String {
        time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
    }

    #[test]
    fn an_expiry_may_reach_the_creators_own_and_the_365th_day_but_not_pass_them() {
        let now = DateTime::<Utc>::from_timestamp_micros(1_790_000_000_000_000).expect("time");
        let year = now + Duration::days(365);
        let creator = creator_expiring(year + Duration::days(10));
        assert!(
            matches!(requested_expiry(Some(&at(year)), &creator, now), Ok(Lifetime::Asked(Expiry::At(t))) if t == year)
        );
        let later = year + Duration::microseconds(1);
        assert!(
            requested_expiry(Some(&at(later)), &creator, now).is_err(),
            "past 365 days"
        );

        let creator = creator_expiring(now + Duration::days(20));
        let own = creator.expires_at;
        assert!(
            matches!(requested_expiry(Some(&at(own)), &creator, now), Ok(Lifetime::Asked(Expiry::At(t))) if t == own)
        );
        let past_own = own + Duration::microseconds(1);
        assert!(
            requested_expiry(Some(&at(past_own)), &creator, now).is_err(),
            "past the creator's"
        );
    }

    #[test]
    fn no_expiry_asks_for_the_default() {
        let now = DateTime::<Utc>::from_timestamp_micros(1_790_000_000_000_000).expect("time");
        let creator = creator_expiring(now + Duration::days(30));
        assert!(matches!(requested_expiry(None, &creator, now), Ok(Lifetime::Default)));
        assert!(matches!(
            requested_expiry(Some("  "), &creator, now),
            Ok(Lifetime::Default)
        ));
    }
}
