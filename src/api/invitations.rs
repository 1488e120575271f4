//! `POST /admin/v2/orgs/{orgId}/users/invite`: invitations in the body and answer of Atlassian's
//! organizations API. Each invited address gets a one-time link, which the answer carries in
//! keyward's own field `invitationLink` (keyward sends no mail: the caller hands the link
//! over). The answer is the same whether an address has an account or not, so it leaves out
//! Atlassian's `id`. Invitations through the API are for members only: `permissionRules` name
//! product roles keyward does not have, admin is granted afterwards, and `additionalGroups`
//! name groups keyward does not have yet; a non-empty list of either is a 400 that says so.

use actix_web::{HttpRequest, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::ApiError;
use super::origin;
use super::reply::Reply;
use crate::auth::api_key::Caller;
use crate::domain::Email;
use crate::domain::actor::Actor;
use crate::domain::member::Role;
use crate::service::people::Acting;
use crate::service::people::invitations;
use crate::state::AppState;

/// The most addresses one request invites.
pub const MAX_EMAILS: usize = 25;

/// Atlassian's invitation request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InviteRequest {
    /// The addresses to invite: 1 to 25, each a valid email; repeats (under keyward's email
    /// rule) are invited once.
    pub emails: Vec<String>,
    /// Product roles to grant. keyward has none: must be empty or absent. Invitees join as
    /// members; an admin role is granted after they accept.
    #[serde(default)]
    pub permission_rules: Vec<PermissionRule>,
    /// Groups to add invitees to. keyward has no groups yet: must be empty or absent.
    #[serde(default)]
    pub additional_groups: Vec<String>,
    /// Accepted for compatibility; keyward sends no mail. Hand over `invitationLink`.
    #[serde(default)]
    pub send_notification: bool,
    /// Accepted for compatibility, and not kept: keyward sends no mail.
    #[serde(default)]
    pub notification_text: Option<String>,
}

/// A product role on a resource, as Atlassian's invitations name them.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PermissionRule {
    pub resource: String,
    pub role: String,
}

/// Atlassian's answer to an invitation: one entry per address. Not `Debug`: it carries links.
#[derive(Serialize, ToSchema)]
pub struct InviteAnswer {
    pub data: Vec<InvitedUser>,
}

/// One invited address. Atlassian's `id` (the account's id) is left out: it would tell whether
/// the address has an account. Not `Debug`: it carries a link.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvitedUser {
    pub email: String,
    /// Role and group assignments: none, since keyward invites members only.
    pub results: Vec<InviteResult>,
    /// keyward's field: the one-time link that accepts this invitation, valid 7 days. It is
    /// shown only in this answer; a new one can be issued in the console.
    pub invitation_link: String,
}

/// Atlassian's per-user assignment result (keyward has no roles or groups to assign).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InviteResult {
    pub role_assignment_result: Vec<serde_json::Value>,
    pub group_assignment_result: Vec<serde_json::Value>,
}

fn bad_request(detail: impl Into<String>) -> ApiError {
    ApiError::bad_request("ADMIN-UAM-400-1", "Bad Request", detail.into())
}

/// The request's addresses, parsed and without repeats; the first problem is the 400.
pub fn parse(request: &InviteRequest) -> Result<Vec<Email>, ApiError> {
    if !request.permission_rules.is_empty() {
        return Err(ApiError::bad_request(
            "ADMIN-UAM-400-3",
            "Invalid Role for Resource",
            "keyward has no product roles: leave permissionRules empty. Invitees join as members; \
             make one an admin after they accept."
                .to_owned(),
        ));
    }
    if !request.additional_groups.is_empty() {
        return Err(bad_request("keyward has no groups: leave additionalGroups empty."));
    }
    if request.emails.is_empty() || request.emails.len() > MAX_EMAILS {
        return Err(bad_request(format!(
            "emails must list 1 to {MAX_EMAILS} addresses; it lists {}.",
            request.emails.len()
        )));
    }
    let mut emails: Vec<Email> = Vec::with_capacity(request.emails.len());
    for (index, raw) in request.emails.iter().enumerate() {
        let email = Email::parse(raw).map_err(|e| bad_request(format!("emails[{index}]: {e}")))?;
        if !emails.iter().any(|seen| seen.normalized() == email.normalized()) {
            emails.push(email);
        }
    }
    Ok(emails)
}

/// `POST /admin/v2/orgs/{orgId}/users/invite`.
pub async fn invite(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: web::Json<InviteRequest>,
) -> Result<Reply<InviteAnswer>, ApiError> {
    let emails = parse(&body)?;
    let origin = origin(&caller, &req);
    let acting = Acting {
        org_id: caller.org_id,
        actor: Actor::Key(caller.key_id),
        origin: &origin,
    };
    let links = invitations::invite_all(&state.pool, &acting, &emails, Role::Member).await?;
    tracing::info!(org_id = %caller.org_id, invitations = links.len(), "invitations sent through the API");
    Ok(Reply::ok(InviteAnswer {
        data: links
            .into_iter()
            .map(|link| InvitedUser {
                invitation_link: link.url(&state.public_base),
                email: link.email,
                results: Vec::new(),
            })
            .collect(),
    }))
}
