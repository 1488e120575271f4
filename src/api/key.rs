//! `GET /admin/v1/key`: what the calling key is (keyward's own extension; any valid key).

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::error::{ApiError, JSON};
use crate::auth::api_key::Caller;
use crate::startup::AppState;

pub async fn show(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    super::authorize(&state, &caller, None, None)?;
    let scopes: Vec<&str> = caller.scopes.iter().map(|s| s.name()).collect();
    let body = json!({ "data": {
        "id": caller.key_id,
        "publicId": caller.public_id,
        "orgId": caller.org_id,
        "label": caller.name,
        "scoped": caller.scoped,
        "scopes": scopes,
        "createdAt": caller.created_at,
        "expiresAt": caller.expires_at,
    }});
    Ok(HttpResponse::Ok().content_type(JSON).body(body.to_string()))
}
