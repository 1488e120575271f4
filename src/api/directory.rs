//! The directory: each org has exactly one, whose id is the org's id (`-`, "every directory",
//! names it too). The v1 forms (`/admin/v1/orgs/{orgId}/directory/users/...`) and the v2
//! forms (`/admin/v2/orgs/{orgId}/directories/...`) suspend, restore and remove members and
//! read them.

use actix_web::{HttpRequest, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::error::ApiError;
use super::orgs::PageLinks;
use super::origin;
use super::reply::{NoContent, Reply};
use super::users::{self, DirectoryUser, ProductAccess, SearchPage, lenient};
use crate::auth::api_key::Caller;
use crate::domain::UserId;
use crate::service::people::{self, Acting};
use crate::state::AppState;
use crate::store;
use crate::store::memberships::MemberFilter;

/// The account id in a path: anything that is not a member's id is the same 404.
pub fn account_id(raw: &str) -> Result<Uuid, ApiError> {
    raw.parse().map_err(|_| user_not_found())
}

pub fn user_not_found() -> ApiError {
    ApiError::not_found(
        "ADMIN-404-8",
        "User not found",
        "No user with this account id in this organization.",
    )
}

/// The org's one directory, named in the path by its id or by `-`.
fn directory(caller: &Caller, raw: &str) -> Result<(), ApiError> {
    if raw == "-" || raw.parse::<Uuid>().ok() == Some(caller.org_id) {
        Ok(())
    } else {
        Err(ApiError::not_found(
            "ADMIN-404-1",
            "Directory not found",
            "No directory with this id in this organization.",
        ))
    }
}

fn acting<'a>(caller: &Caller, origin: &'a store::audit::Origin) -> Acting<'a> {
    Acting {
        org_id: caller.org_id,
        actor: crate::domain::actor::Actor::Key(caller.key_id),
        origin,
    }
}

#[derive(Serialize, ToSchema)]
pub struct LastActiveDates {
    pub data: LastActive,
}

#[derive(Serialize, ToSchema)]
pub struct LastActive {
    pub product_access: Vec<ProductAccess>,
    /// When the person became a member of the org.
    pub added_to_org: DateTime<Utc>,
}

/// `GET /admin/v1/orgs/{orgId}/directory/users/{accountId}/last-active-dates`.
pub async fn last_active_dates(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<Reply<LastActiveDates>, ApiError> {
    let user_id = account_id(&path.1)?;
    let mut conn = state.pool.acquire().await?;
    let member = people::member(&mut conn, caller.org(), UserId::from(user_id)).await?;
    Ok(Reply::ok(LastActiveDates {
        data: LastActive {
            product_access: Vec::new(),
            added_to_org: member.joined_at,
        },
    }))
}

/// The v1 suspend and restore answers.
#[derive(Serialize, ToSchema)]
pub struct ActionMessage {
    pub message: String,
}

/// `POST /admin/v1/orgs/{orgId}/directory/users/{accountId}/suspend-access`.
pub async fn suspend_access(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> Result<Reply<ActionMessage>, ApiError> {
    let user_id = account_id(&path.1)?;
    let origin = origin(&caller, &req);
    people::suspend(
        &state.pool,
        None,
        &acting(&caller, &origin),
        user_id,
        people::KeyHandover::Keep,
    )
    .await?;
    Ok(Reply::ok(ActionMessage {
        message: format!("Access for {user_id} is suspended in this organization."),
    }))
}

/// `POST /admin/v1/orgs/{orgId}/directory/users/{accountId}/restore-access`.
pub async fn restore_access(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> Result<Reply<ActionMessage>, ApiError> {
    let user_id = account_id(&path.1)?;
    let origin = origin(&caller, &req);
    people::restore(&state.pool, &acting(&caller, &origin), user_id).await?;
    Ok(Reply::ok(ActionMessage {
        message: format!("Access for {user_id} is restored in this organization."),
    }))
}

async fn remove_member(state: &AppState, caller: &Caller, raw: &str, req: &HttpRequest) -> Result<NoContent, ApiError> {
    let user_id = account_id(raw)?;
    let origin = origin(caller, req);
    people::remove(&state.pool, Some(&state.verifier), &acting(caller, &origin), user_id).await?;
    Ok(NoContent)
}

/// `DELETE /admin/v1/orgs/{orgId}/directory/users/{accountId}`: removes the person from the
/// org, revoking the keys they answer for.
pub async fn remove(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> Result<NoContent, ApiError> {
    remove_member(&state, &caller, &path.1, &req).await
}

#[derive(Serialize, ToSchema)]
pub struct DirectoryPage {
    pub data: Vec<Directory>,
    pub links: PageLinks,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Directory {
    /// The org's id: one directory per org.
    pub directory_id: Uuid,
    pub name: String,
}

/// `GET /admin/v2/orgs/{orgId}/directories`: the org's one directory.
pub async fn directories(state: web::Data<AppState>, caller: Caller) -> Result<Reply<DirectoryPage>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let org = store::orgs::get(&mut conn, caller.org_id)
        .await?
        .ok_or_else(ApiError::org_not_found)?;
    Ok(Reply::ok(DirectoryPage {
        data: vec![Directory {
            directory_id: org.id,
            name: org.name,
        }],
        links: PageLinks {
            self_: format!("{}/admin/v2/orgs/{}/directories", state.public_base, org.id),
            prev: None,
            next: None,
        },
    }))
}

#[derive(Serialize, ToSchema)]
pub struct DirectoryUserBody {
    pub data: DirectoryUser,
}

/// `GET /admin/v2/orgs/{orgId}/directories/{directoryId}/users/{accountId}`.
pub async fn user(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String, String)>,
) -> Result<Reply<DirectoryUserBody>, ApiError> {
    directory(&caller, &path.1)?;
    let user_id = account_id(&path.2)?;
    let mut conn = state.pool.acquire().await?;
    let member = people::member(&mut conn, caller.org(), UserId::from(user_id)).await?;
    Ok(Reply::ok(DirectoryUserBody {
        data: users::directory_user(caller.org_id, member),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct UserCount {
    pub count: i64,
}

/// `GET /admin/v2/orgs/{orgId}/directories/{directoryId}/users/count`.
pub async fn count(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<Reply<UserCount>, ApiError> {
    directory(&caller, &path.1)?;
    let mut conn = state.pool.acquire().await?;
    let count = store::memberships::count(&mut conn, caller.org_id).await?;
    Ok(Reply::ok(UserCount { count }))
}

/// The v2 directory search's filters.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DirectorySearch {
    #[serde(default, deserialize_with = "lenient::strings")]
    pub account_ids: Option<Vec<String>>,
    #[serde(default, alias = "accountStatuses", deserialize_with = "lenient::strings")]
    pub account_status: Option<Vec<String>>,
    /// active or suspended (no_membership matches nobody: everyone listed is a member).
    #[serde(default, deserialize_with = "lenient::strings")]
    pub membership_status: Option<Vec<String>>,
    /// managed or unmanaged.
    pub claim_status: Option<String>,
    #[serde(default, deserialize_with = "lenient::strings")]
    pub email_domains: Option<Vec<String>>,
    #[serde(default, deserialize_with = "lenient::strings")]
    pub emails: Option<Vec<String>>,
    /// A substring of the name, nickname or email.
    pub search_term: Option<String>,
    pub cursor: Option<String>,
    #[serde(default, deserialize_with = "lenient::int")]
    pub limit: Option<i64>,
    /// Accepted and ignored.
    #[serde(default, deserialize_with = "lenient::strings")]
    pub expand: Option<Vec<String>>,
}

fn invalid(title: &'static str, detail: String) -> ApiError {
    ApiError::bad_request("ADMIN-400-24", title, detail)
}

impl DirectorySearch {
    fn filter(self) -> Result<MemberFilter, ApiError> {
        if self.search_term.is_some() && self.emails.is_some() {
            return Err(invalid(
                "Invalid search",
                "searchTerm and emails cannot be combined.".into(),
            ));
        }
        // None: nobody matches; Some(None): any membership status.
        let suspended = match self.membership_status.as_deref() {
            None | Some([]) => Some(None),
            Some(statuses) => {
                let mut active = false;
                let mut suspended = false;
                for status in statuses {
                    match status.to_ascii_lowercase().as_str() {
                        "active" => active = true,
                        "suspended" => suspended = true,
                        "no_membership" => {}
                        _ => {
                            return Err(invalid(
                                "Invalid membership status",
                                format!(
                                    "{status:?} is not a membership status: use active, suspended or no_membership."
                                ),
                            ));
                        }
                    }
                }
                match (active, suspended) {
                    (true, false) => Some(Some(false)),
                    (false, true) => Some(Some(true)),
                    (true, true) => Some(None),
                    // Only no_membership: everyone listed here is a member.
                    (false, false) => None,
                }
            }
        };
        let managed = match self.claim_status.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None => None,
            Some("managed") => Some(true),
            Some("unmanaged") => Some(false),
            Some(other) => {
                return Err(invalid(
                    "Invalid claim status",
                    format!("{other:?} is not a claim status: use managed or unmanaged."),
                ));
            }
        };
        let user_ids = match suspended {
            None => Some(Vec::new()),
            Some(_) => users::account_ids(self.account_ids),
        };
        Ok(MemberFilter {
            user_ids,
            statuses: users::statuses(self.account_status)?,
            suspended: suspended.flatten(),
            email_domains: self.email_domains,
            emails: self.emails,
            terms: self
                .search_term
                .filter(|t| !t.trim().is_empty())
                .map(|t| vec![t.trim().to_owned()]),
            managed,
            ..MemberFilter::default()
        })
    }
}

/// `POST /admin/v2/orgs/{orgId}/directories/{directoryId}/users/search`.
pub async fn search(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: web::Json<DirectorySearch>,
) -> Result<Reply<SearchPage>, ApiError> {
    directory(&caller, &path.1)?;
    let body = body.into_inner();
    let cursor = body.cursor.clone();
    let limit = body.limit;
    let filter = body.filter()?;
    Ok(Reply::ok(
        users::search_page(&state, caller.org_id, &filter, cursor.as_deref(), limit).await?,
    ))
}

/// `POST /admin/v2/orgs/{orgId}/directories/{directoryId}/users/{accountId}/suspend`.
pub async fn suspend(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String, String)>,
    req: HttpRequest,
) -> Result<NoContent, ApiError> {
    directory(&caller, &path.1)?;
    let user_id = account_id(&path.2)?;
    let origin = origin(&caller, &req);
    people::suspend(
        &state.pool,
        None,
        &acting(&caller, &origin),
        user_id,
        people::KeyHandover::Keep,
    )
    .await?;
    Ok(NoContent)
}

/// `POST /admin/v2/orgs/{orgId}/directories/{directoryId}/users/{accountId}/restore`.
pub async fn restore(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String, String)>,
    req: HttpRequest,
) -> Result<NoContent, ApiError> {
    directory(&caller, &path.1)?;
    let user_id = account_id(&path.2)?;
    let origin = origin(&caller, &req);
    people::restore(&state.pool, &acting(&caller, &origin), user_id).await?;
    Ok(NoContent)
}

/// `DELETE /admin/v2/orgs/{orgId}/directories/{directoryId}/users/{accountId}`: removes the
/// person from the org, revoking the keys they answer for.
pub async fn remove_v2(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String, String)>,
    req: HttpRequest,
) -> Result<NoContent, ApiError> {
    directory(&caller, &path.1)?;
    remove_member(&state, &caller, &path.2, &req).await
}
