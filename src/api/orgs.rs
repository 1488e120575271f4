//! Organizations API: a key sees its own organization only.

use actix_web::{HttpResponse, web};
use serde_json::{Value, json};

use super::error::{ApiError, JSON};
use crate::auth::api_key::Caller;
use crate::domain::Scope;
use crate::state::AppState;
use crate::store;
use crate::store::orgs::Org;

fn org_json(base: &str, org: &Org) -> Value {
    let url = format!("{base}/admin/v1/orgs/{}", org.id);
    json!({
        "id": org.id,
        "type": "orgs",
        "attributes": { "name": org.name },
        "relationships": {
            "domains": { "links": { "related": format!("{url}/domains") } },
            "users": { "links": { "related": format!("{url}/users") } },
        },
        "links": { "self": url },
    })
}

async fn own_org(state: &AppState, caller: &Caller) -> Result<Org, ApiError> {
    let mut conn = state.pool.acquire().await?;
    store::orgs::get(&mut conn, caller.org_id)
        .await?
        .ok_or_else(ApiError::org_not_found)
}

pub async fn list(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    super::authorize(&state, &caller, None, Some(Scope::ReadOrgs))?;
    let org = own_org(&state, &caller).await?;
    let body = json!({
        "data": [org_json(&state.public_base, &org)],
        "links": { "self": format!("{}/admin/v1/orgs", state.public_base), "prev": null, "next": null },
    });
    Ok(HttpResponse::Ok().content_type(JSON).body(body.to_string()))
}

pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    super::authorize(&state, &caller, Some(&path), Some(Scope::ReadOrgs))?;
    let org = own_org(&state, &caller).await?;
    let body = json!({ "data": org_json(&state.public_base, &org) });
    Ok(HttpResponse::Ok().content_type(JSON).body(body.to_string()))
}
