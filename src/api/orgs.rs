//! Organizations API: a key sees its own organization only.

use actix_web::web;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::error::ApiError;
use super::reply::Reply;
use crate::auth::api_key::Caller;
use crate::domain::org::Org;
use crate::state::AppState;
use crate::store;

/// `{"data": [org], "links": {...}}`.
#[derive(Serialize, ToSchema)]
pub struct OrgList {
    pub data: Vec<OrgItem>,
    pub links: PageLinks,
}

/// `{"data": org}`.
#[derive(Serialize, ToSchema)]
pub struct OrgBody {
    pub data: OrgItem,
}

#[derive(Serialize, ToSchema)]
pub struct OrgItem {
    pub id: Uuid,
    /// Always `orgs`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub attributes: OrgAttributes,
    pub relationships: OrgRelationships,
    pub links: SelfLink,
}

#[derive(Serialize, ToSchema)]
pub struct OrgAttributes {
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct OrgRelationships {
    pub domains: Related,
    pub users: Related,
}

#[derive(Serialize, ToSchema)]
pub struct Related {
    pub links: RelatedLink,
}

#[derive(Serialize, ToSchema)]
pub struct RelatedLink {
    pub related: String,
}

#[derive(Serialize, ToSchema)]
pub struct SelfLink {
    #[serde(rename = "self")]
    pub self_: String,
}

/// The links of a page of a list: `next` is a full URL carrying `cursor=`, null on the last page.
#[derive(Serialize, ToSchema)]
pub struct PageLinks {
    #[serde(rename = "self")]
    pub self_: String,
    pub prev: Option<String>,
    pub next: Option<String>,
}

fn org_item(base: &str, org: &Org) -> OrgItem {
    let url = format!("{base}/admin/v1/orgs/{}", org.id);
    OrgItem {
        id: org.id,
        kind: "orgs",
        attributes: OrgAttributes { name: org.name.clone() },
        relationships: OrgRelationships {
            domains: Related {
                links: RelatedLink {
                    related: format!("{url}/domains"),
                },
            },
            users: Related {
                links: RelatedLink {
                    related: format!("{url}/users"),
                },
            },
        },
        links: SelfLink { self_: url },
    }
}

async fn own_org(state: &AppState, caller: &Caller) -> Result<Org, ApiError> {
    let mut conn = state.pool.acquire().await?;
    store::orgs::get(&mut conn, caller.org_id)
        .await?
        .ok_or_else(ApiError::org_not_found)
}

pub async fn list(state: web::Data<AppState>, caller: Caller) -> Result<Reply<OrgList>, ApiError> {
    let org = own_org(&state, &caller).await?;
    Ok(Reply::ok(OrgList {
        data: vec![org_item(&state.public_base, &org)],
        links: PageLinks {
            self_: format!("{}/admin/v1/orgs", state.public_base),
            prev: None,
            next: None,
        },
    }))
}

pub async fn get(state: web::Data<AppState>, caller: Caller) -> Result<Reply<OrgBody>, ApiError> {
    let org = own_org(&state, &caller).await?;
    Ok(Reply::ok(OrgBody {
        data: org_item(&state.public_base, &org),
    }))
}
