//! API keys API (`/admin/api-access/v1/orgs/{orgId}/api-keys`): list and revoke.

use actix_web::http::header::USER_AGENT;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::error::{ApiError, JSON};
use crate::auth::api_key::Caller;
use crate::domain::{Scope, UserAgent};
use crate::keys;
use crate::state::AppState;
use crate::store;
use crate::store::api_keys::{ApiKey, KeyCursor, Revocation};
use crate::store::audit::{Actor, Origin};

const PAGE: i64 = 50;
const MAX_PAGE: i64 = 100;

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    cursor: Option<String>,
    limit: Option<i64>,
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

fn key_json(key: &ApiKey) -> Value {
    let scopes: Vec<&str> = key.scopes.iter().map(|s| s.name()).collect();
    let created_by = match key.created_by {
        Actor::User(id) => json!({ "id": id, "name": key.creator_name, "email": key.creator_email }),
        Actor::Key(id) => json!({ "id": id, "name": key.creator_name, "email": key.creator_email, "type": "api_key" }),
        Actor::System => json!({ "id": null, "name": "keyward", "email": null, "type": "system" }),
    };
    json!({
        "id": key.id,
        "publicId": key.public_id,
        "label": key.name,
        "createdAt": key.created_at,
        "expiresAt": key.expires_at,
        "lastActiveAt": key.last_used_at,
        "lastActiveIp": key.last_used_ip.map(|ip| ip.to_string()),
        "revokedAt": key.revoked_at,
        "status": key.status(Utc::now()).as_str(),
        "orgId": key.org_id,
        "createdBy": created_by,
        "scoped": key.scoped,
        "scopes": scopes,
    })
}

pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    super::authorize(&state, &caller, Some(&path), Some(Scope::ReadKeys))?;
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
        (true, Some(last)) => Value::String(format!("{base}?cursor={}&limit={limit}", encode_cursor(last))),
        _ => Value::Null,
    };
    let body = json!({
        "data": keys.iter().map(key_json).collect::<Vec<_>>(),
        "links": { "self": base, "prev": null, "next": next },
    });
    Ok(HttpResponse::Ok().content_type(JSON).body(body.to_string()))
}

pub async fn revoke(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (org, key) = path.into_inner();
    super::authorize(&state, &caller, Some(&org), Some(Scope::DeleteKeys))?;
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
        Revocation::Revoked { .. } | Revocation::AlreadyRevoked => Ok(HttpResponse::NoContent().finish()),
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
