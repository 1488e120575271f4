//! API keys API (`/admin/api-access/v1/orgs/{orgId}/api-keys`): list and revoke.

use actix_web::http::header::USER_AGENT;
use actix_web::{HttpRequest, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::error::ApiError;
use super::orgs::PageLinks;
use super::reply::{NoContent, Reply};
use crate::auth::api_key::Caller;
use crate::domain::UserAgent;
use crate::keys;
use crate::state::AppState;
use crate::store;
use crate::store::api_keys::{ApiKey, KeyCursor, Revocation};
use crate::store::audit::{Actor, Origin};

const PAGE: i64 = 50;
const MAX_PAGE: i64 = 100;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Where the previous page ended, from its `links.next`.
    cursor: Option<String>,
    /// Page size, 1 to 100 (default 50).
    limit: Option<i64>,
}

/// A page of keys: `{"data":[key], "links":{...}}`.
#[derive(Serialize, ToSchema)]
pub struct KeyPage {
    pub data: Vec<KeyItem>,
    pub links: PageLinks,
}

/// A key as the list shows it: never any part of its secret beyond the public id.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeyItem {
    pub id: Uuid,
    pub public_id: String,
    pub label: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub last_active_at: Option<DateTime<Utc>>,
    pub last_active_ip: Option<String>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// `active`, `expired` or `revoked`.
    pub status: &'static str,
    pub org_id: Uuid,
    pub created_by: CreatedBy,
    pub scoped: bool,
    pub scopes: Vec<&'static str>,
}

/// Who created a key: a person, another key (created through the API), or keyward itself.
#[derive(Serialize, ToSchema)]
pub struct CreatedBy {
    pub id: Option<Uuid>,
    pub name: Option<String>,
    pub email: Option<String>,
    /// `user`, `api_key` or `system`.
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// Cursors are opaque to clients: the keyset (created_at, id) of the last item, hex encoded.
fn encode_cursor(key: &ApiKey) -> String {
    hex::encode(format!("{}|{}", key.created_at.timestamp_micros(), key.id))
}

fn decode_cursor(cursor: &str) -> Option<KeyCursor> {
    let text = String::from_utf8(hex::decode(cursor).ok()?).ok()?;
    let (micros, id) = text.split_once('|')?;
    Some((
        DateTime::<Utc>::from_timestamp_micros(micros.parse().ok()?)?,
        id.parse().ok()?,
    ))
}

fn key_item(key: &ApiKey, now: DateTime<Utc>) -> KeyItem {
    let (id, kind) = match key.created_by {
        Actor::User(id) => (Some(id), "user"),
        Actor::Key(id) => (Some(id), "api_key"),
        Actor::System => (None, "system"),
    };
    let created_by = match key.created_by {
        Actor::System => CreatedBy {
            id,
            name: Some("keyward".into()),
            email: None,
            kind,
        },
        _ => CreatedBy {
            id,
            name: key.creator_name.clone(),
            email: key.creator_email.clone(),
            kind,
        },
    };
    KeyItem {
        id: key.id,
        public_id: key.public_id.clone(),
        label: key.name.clone(),
        created_at: key.created_at,
        expires_at: key.expires_at,
        last_active_at: key.last_used_at,
        last_active_ip: key.last_used_ip.map(|ip| ip.to_string()),
        revoked_at: key.revoked_at,
        status: key.status(now).as_str(),
        org_id: key.org_id,
        created_by,
        scoped: key.scoped,
        scopes: key.scopes.iter().map(|s| s.name()).collect(),
    }
}

pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ListQuery>,
) -> Result<Reply<KeyPage>, ApiError> {
    let after = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(cursor) => Some(decode_cursor(cursor).ok_or_else(|| {
            ApiError::bad_request(
                "ADMIN-400-1",
                "Invalid cursor",
                "The cursor is not one this API returned.",
            )
        })?),
        None => None,
    };
    let limit = query.limit.unwrap_or(PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad_request(
            "ADMIN-400-24",
            "Invalid limit",
            format!("limit must be 1 to {MAX_PAGE}."),
        ));
    }
    let mut conn = state.pool.acquire().await?;
    let mut keys = store::api_keys::list(&mut conn, caller.org_id, after, limit + 1).await?;
    let more = keys.len() as i64 > limit;
    keys.truncate(limit as usize);
    let base = format!(
        "{}/admin/api-access/v1/orgs/{}/api-keys",
        state.public_base, caller.org_id
    );
    let next = match (more, keys.last()) {
        (true, Some(last)) => Some(format!("{base}?cursor={}&limit={limit}", encode_cursor(last))),
        _ => None,
    };
    let now = Utc::now();
    Ok(Reply::ok(KeyPage {
        data: keys.iter().map(|key| key_item(key, now)).collect(),
        links: PageLinks {
            self_: base,
            prev: None,
            next,
        },
    }))
}

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
    let origin = Origin {
        ip: Some(caller.ip),
        user_agent: req
            .headers()
            .get(USER_AGENT)
            .and_then(|v| UserAgent::parse(v.as_bytes())),
    };
    let outcome = keys::revoke(
        &state.pool,
        Some(&state.verifier),
        caller.org_id,
        key_id,
        Actor::Key(caller.key_id),
        &origin,
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
    fn cursors_round_trip_and_garbage_is_refused() {
        let at = DateTime::<Utc>::from_timestamp_micros(1_790_000_000_123_456).expect("time");
        let id = Uuid::new_v4();
        let text = hex::encode(format!("{}|{}", at.timestamp_micros(), id));
        assert_eq!(decode_cursor(&text), Some((at, id)));
        for garbage in ["", "zz", "00", &hex::encode("12|not-a-uuid")] {
            assert_eq!(decode_cursor(garbage), None, "{garbage}");
        }
    }
}
