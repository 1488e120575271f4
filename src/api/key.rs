//! `GET /admin/v1/key`: what the calling key is (keyward's own extension; any valid key).
//! The answer is made of the key's immutable facts alone, so it is rendered once per cached
//! key and kept beside those facts.

use actix_web::HttpResponse;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::error::{ApiError, json_content_type};
use crate::auth::api_key::Caller;
use crate::domain::Scope;

/// `{"data": key}`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct KeyBody<'a> {
    data: KeyView<'a>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeyView<'a> {
    id: Uuid,
    public_id: &'a str,
    org_id: Uuid,
    label: &'a str,
    scoped: bool,
    #[serde(serialize_with = "scope_names")]
    #[schema(value_type = Vec<String>)]
    scopes: &'a [Scope],
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

fn scope_names<S: serde::Serializer>(scopes: &&[Scope], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(scopes.iter().map(|scope| scope.name()))
}

pub async fn show(caller: Caller) -> Result<HttpResponse, ApiError> {
    let body = match caller.description.get() {
        Some(body) => body.clone(),
        None => {
            let body = render(&caller)?;
            caller.description.get_or_init(|| body).clone()
        }
    };
    Ok(HttpResponse::Ok().content_type(json_content_type()).body(body))
}

fn render(caller: &Caller) -> Result<Bytes, ApiError> {
    let body = KeyBody {
        data: KeyView {
            id: caller.key_id,
            public_id: &caller.public_id,
            org_id: caller.org_id,
            label: &caller.name,
            scoped: caller.scoped,
            scopes: &caller.scopes,
            created_at: caller.created_at,
            expires_at: caller.expires_at,
        },
    };
    let json = serde_json::to_vec(&body).map_err(|e| ApiError::Internal(e.into()))?;
    Ok(Bytes::from(json))
}
