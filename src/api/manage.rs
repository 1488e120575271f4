//! User management (`/users/{accountId}/manage...`): what the key's org may do to an account,
//! the profile, the email and the lifecycle. Only for members of the key's org (anyone else is
//! the same 404); account-level changes only for the org that manages the account.

use actix_web::{HttpRequest, web};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::directory::account_id;
use super::error::{ApiError, user_management};
use super::origin;
use super::reply::{NoContent, Reply};
use super::users::{account_status, lenient};
use crate::auth::api_key::Caller;
use crate::domain::UserId;
use crate::domain::actor::Actor;
use crate::domain::{DisplayName, Email};
use crate::service::people::{self, Acting, ProfileField, ProfilePatch};
use crate::state::AppState;
use crate::store::audit::Origin;
use crate::store::users::Profile;

fn acting<'a>(caller: &Caller, origin: &'a Origin) -> Acting<'a> {
    Acting {
        org_id: caller.org_id,
        actor: Actor::Key(caller.key_id),
        origin,
    }
}

#[derive(Serialize, ToSchema)]
pub struct Grant {
    pub allowed: bool,
    /// Why not, when not allowed.
    pub reason: Option<GrantReason>,
}

#[derive(Serialize, ToSchema)]
pub struct GrantReason {
    pub key: &'static str,
}

/// What the key's org may do to the account. A privilege not asked for (with `privileges`)
/// is left out.
#[derive(Default, Serialize, ToSchema)]
pub struct Privileges {
    #[serde(rename = "profile.read", skip_serializing_if = "Option::is_none")]
    pub profile_read: Option<Grant>,
    #[serde(rename = "profile.write", skip_serializing_if = "Option::is_none")]
    pub profile_write: Option<Grant>,
    #[serde(rename = "email.set", skip_serializing_if = "Option::is_none")]
    pub email_set: Option<Grant>,
    #[serde(rename = "lifecycle.enablement", skip_serializing_if = "Option::is_none")]
    pub lifecycle_enablement: Option<Grant>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PrivilegesQuery {
    /// The privileges to report, comma-joined or repeated; all when absent.
    #[serde(default, deserialize_with = "lenient::strings")]
    pub privileges: Option<Vec<String>>,
}

/// `GET /users/{accountId}/manage`.
pub async fn privileges(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    req: HttpRequest,
) -> Result<Reply<Privileges>, ApiError> {
    let user_id = account_id(&path)?;
    let query: PrivilegesQuery = serde_json::from_value(lenient::query_object(req.query_string()))
        .map_err(|e| ApiError::bad_request("ADMIN-400-24", "Invalid query", e.to_string()))?;
    let profile = people::profile(&state.pool, caller.org(), UserId::from(user_id)).await?;
    let managed = profile.managed_by_org == Some(caller.org_id);
    let grant = |allowed: bool| Grant {
        allowed,
        reason: (!allowed).then_some(GrantReason {
            key: "not-managed-by-org",
        }),
    };
    let wanted = |name: &str| {
        query
            .privileges
            .as_ref()
            .is_none_or(|names| names.iter().any(|n| n == name))
    };
    Ok(Reply::ok(Privileges {
        profile_read: wanted("profile.read").then(|| grant(true)),
        profile_write: wanted("profile.write").then(|| grant(managed)),
        email_set: wanted("email.set").then(|| grant(managed)),
        lifecycle_enablement: wanted("lifecycle.enablement").then(|| grant(managed)),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct ProfileBody {
    pub account: Account,
}

#[derive(Serialize, ToSchema)]
pub struct Account {
    pub account_id: uuid::Uuid,
    pub account_type: &'static str,
    pub account_status: &'static str,
    pub name: String,
    /// keyward keeps no pictures.
    pub picture: Option<String>,
    pub email: String,
    pub nickname: Option<String>,
    pub zoneinfo: Option<String>,
    pub locale: Option<String>,
    pub extended_profile: ExtendedProfile,
}

#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct ExtendedProfile {
    pub job_title: Option<String>,
    pub department: Option<String>,
    pub organization: Option<String>,
    pub location: Option<String>,
}

fn profile_body(profile: Profile) -> ProfileBody {
    ProfileBody {
        account: Account {
            account_id: profile.id,
            account_type: "atlassian",
            account_status: account_status(profile.status),
            name: profile.display_name,
            picture: None,
            email: profile.email,
            nickname: profile.nickname,
            zoneinfo: profile.zoneinfo,
            locale: profile.locale,
            extended_profile: ExtendedProfile {
                job_title: profile.job_title,
                department: profile.department,
                organization: profile.organization,
                location: profile.location,
            },
        },
    }
}

/// `GET /users/{accountId}/manage/profile`.
pub async fn profile(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<Reply<ProfileBody>, ApiError> {
    let user_id = account_id(&path)?;
    let profile = people::profile(&state.pool, caller.org(), UserId::from(user_id)).await?;
    Ok(Reply::ok(profile_body(profile)))
}

/// A field that may be absent (unchanged), null (cleared) or a value (set).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// The profile fields to change; those not sent stay as they are, null clears one.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ProfileChange {
    #[serde(default, deserialize_with = "present")]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub nickname: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub zoneinfo: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub locale: Option<Option<String>>,
    pub extended_profile: Option<ExtendedProfileChange>,
    /// Refused here: the email has an endpoint of its own, which ends the sessions.
    #[serde(default, deserialize_with = "present")]
    pub email: Option<Option<String>>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ExtendedProfileChange {
    #[serde(default, deserialize_with = "present")]
    pub job_title: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub department: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub organization: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub location: Option<Option<String>>,
}

/// The PATCH body: the fields bare, or wrapped as `{"account": {...}}` like the GET answer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ProfilePatchBody {
    Wrapped { account: ProfileChange },
    Bare(ProfileChange),
}

fn invalid_profile(detail: impl Into<String>) -> ApiError {
    ApiError::bad_request("ADMIN-400-24", "Invalid profile", detail)
}

impl ProfileChange {
    fn parse(self) -> Result<ProfilePatch, ApiError> {
        if self.email.is_some() {
            return Err(invalid_profile(
                "Change the email with PUT /users/{accountId}/manage/email.",
            ));
        }
        let name = match self.name {
            None => None,
            Some(None) => return Err(invalid_profile("name cannot be cleared.")),
            Some(Some(name)) => Some(DisplayName::parse(&name).map_err(|e| invalid_profile(format!("name: {e}")))?),
        };
        let extended = self.extended_profile.unwrap_or_default();
        let sent = [
            (ProfileField::Nickname, self.nickname),
            (ProfileField::Zoneinfo, self.zoneinfo),
            (ProfileField::Locale, self.locale),
            (ProfileField::JobTitle, extended.job_title),
            (ProfileField::Department, extended.department),
            (ProfileField::Organization, extended.organization),
            (ProfileField::Location, extended.location),
        ];
        let mut fields = Vec::new();
        for (field, value) in sent {
            match value {
                None => {}
                Some(None) => fields.push((field, None)),
                Some(Some(value)) => fields.push((field, Some(field.parse(&value).map_err(invalid_profile)?))),
            }
        }
        let patch = ProfilePatch { name, fields };
        if patch.is_empty() {
            return Err(invalid_profile("Send at least one profile field to change."));
        }
        Ok(patch)
    }
}

/// `PATCH /users/{accountId}/manage/profile`: answers the profile as it now is.
pub async fn update_profile(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<ProfilePatchBody>,
    req: HttpRequest,
) -> Result<Reply<ProfileBody>, ApiError> {
    let user_id = account_id(&path)?;
    let change = match body.into_inner() {
        ProfilePatchBody::Wrapped { account } => account,
        ProfilePatchBody::Bare(change) => change,
    };
    let patch = change.parse()?;
    let origin = origin(&caller, &req);
    let profile = people::update_profile(&state.pool, &acting(&caller, &origin), user_id, &patch)
        .await
        .map_err(user_management)?;
    Ok(Reply::ok(profile_body(profile)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct EmailChange {
    pub email: String,
}

/// `PUT /users/{accountId}/manage/email`: ends the account's console sessions.
pub async fn set_email(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<EmailChange>,
    req: HttpRequest,
) -> Result<NoContent, ApiError> {
    let user_id = account_id(&path)?;
    let email =
        Email::parse(&body.email).map_err(|e| ApiError::bad_request("ADMIN-400-24", "Invalid email", e.to_string()))?;
    let origin = origin(&caller, &req);
    people::set_email(&state.pool, &acting(&caller, &origin), user_id, &email)
        .await
        .map_err(user_management)?;
    Ok(NoContent)
}

/// The disable body: `{}`, `{"message": "..."}`, or nothing at all.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct DisableRequest {
    /// Why, for the audit log; at most 1000 characters.
    pub message: Option<String>,
}

/// `POST /users/{accountId}/manage/lifecycle/disable`: ends the account's console sessions.
pub async fn disable(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
    req: HttpRequest,
) -> Result<NoContent, ApiError> {
    let user_id = account_id(&path)?;
    let bad_body = |detail: String| ApiError::bad_request("ADMIN-400-24", "Invalid request body", detail);
    let request: DisableRequest = if body.iter().all(u8::is_ascii_whitespace) {
        DisableRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| bad_body(e.to_string()))?
    };
    if request.message.as_ref().is_some_and(|m| m.chars().count() > 1000) {
        return Err(bad_body("message is at most 1000 characters.".into()));
    }
    let origin = origin(&caller, &req);
    people::disable(
        &state.pool,
        Some(&state.verifier),
        &acting(&caller, &origin),
        user_id,
        request.message.as_deref(),
    )
    .await
    .map_err(user_management)?;
    Ok(NoContent)
}

/// `POST /users/{accountId}/manage/lifecycle/enable` (any body is ignored; it often has none).
pub async fn enable(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    req: HttpRequest,
) -> Result<NoContent, ApiError> {
    let user_id = account_id(&path)?;
    let origin = origin(&caller, &req);
    people::enable(&state.pool, &acting(&caller, &origin), user_id)
        .await
        .map_err(user_management)?;
    Ok(NoContent)
}
