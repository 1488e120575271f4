//! Set-password links: how a member whose account the org manages gets a new password when they
//! lost theirs (only from the org that verified the account's email domain, never for the
//! admin's own account: an admin of one org must never take over an account another org
//! manages, nor skip their own current password), and how the last admin who forgot theirs gets
//! one from the CLI. The link carries a random token; only its SHA-256 is stored, it is valid
//! 24 hours and works once, and only while the account is active and still managed by the org
//! that issued it and its issuer is still that org's admin (offboarding an admin retires the
//! links they issued). Setting the password ends every session of the account.

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{Acting, PeopleError, event, managed_account};
use crate::domain::actor::Actor;
use crate::domain::{Action, Email};
use crate::store;
use crate::store::audit::{NewEvent, Origin};
use crate::store::users::UserStatus;

/// The path a link opens, before its token.
pub const PATH: &str = "/welcome?token=";

/// A freshly issued link's token: shown once, to the admin who issued it. Not `Debug`.
pub struct PasswordLink {
    token: SecretString,
    pub expires_at: DateTime<Utc>,
}

impl PasswordLink {
    /// The whole link under the instance's public address.
    pub fn url(&self, public_base: &str) -> String {
        format!("{public_base}{PATH}{}", self.token.expose_secret())
    }
}

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Issues a link for `user_id`, retiring their earlier ones, with its audit event, inside the
/// caller's transaction.
pub(super) async fn issue(
    conn: &mut PgConnection,
    acting: &Acting<'_>,
    user_id: Uuid,
) -> Result<PasswordLink, PeopleError> {
    let token = crate::random::token();
    let issued_by = match acting.actor {
        Actor::User(id) => Some(id),
        _ => None,
    };
    let expires_at =
        store::password_links::issue(conn, user_id, Some(acting.org_id), issued_by, &token_hash(&token)).await?;
    let details = serde_json::json!({ "expires_at": expires_at });
    store::audit::record(conn, event(acting, Action::PasswordLinkIssued, user_id, details)).await?;
    Ok(PasswordLink {
        token: token.into(),
        expires_at,
    })
}

/// A new link for a member whose account the acting org manages (`NotManaged` otherwise), that
/// is not the actor's own (`OwnAccount`) and that may sign in (`Disabled` otherwise).
#[tracing::instrument(skip_all, fields(org_id = %acting.org_id), err(level = "debug"))]
pub async fn reissue(pool: &PgPool, acting: &Acting<'_>, user_id: Uuid) -> Result<PasswordLink, PeopleError> {
    let mut tx = pool.begin().await?;
    super::govern(&mut tx, acting, user_id).await?;
    if managed_account(&mut tx, acting, user_id).await?.status != UserStatus::Active {
        return Err(PeopleError::Disabled);
    }
    let link = issue(&mut tx, acting, user_id).await?;
    tx.commit().await?;
    Ok(link)
}

/// For `keyward admin reset-password`: a link for the account with this email, whichever org
/// manages it, recorded as keyward's own act (in the managing org's log, when there is one).
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn reset_from_cli(pool: &PgPool, email: &Email) -> Result<PasswordLink, PeopleError> {
    let mut tx = pool.begin().await?;
    let user = store::users::find_by_email(&mut tx, email)
        .await?
        .ok_or(PeopleError::NotFound)?;
    let profile = store::users::profile(&mut tx, user.id, true)
        .await?
        .ok_or(PeopleError::NotFound)?;
    if profile.status != UserStatus::Active {
        return Err(PeopleError::Disabled);
    }
    let token = crate::random::token();
    let expires_at =
        store::password_links::issue(&mut tx, user.id, profile.managed_by_org, None, &token_hash(&token)).await?;
    store::audit::record(
        &mut tx,
        NewEvent {
            org_id: profile.managed_by_org,
            actor: Actor::System,
            action: Action::PasswordLinkIssued,
            target_kind: Some("user"),
            target_id: Some(user.id.to_string()),
            ip: None,
            user_agent: None,
            details: serde_json::json!({ "expires_at": expires_at, "via": "cli" }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(PasswordLink {
        token: token.into(),
        expires_at,
    })
}

/// Uses the link: sets the password (already hashed), ends every session of the account and
/// records it, in one transaction. None when the link is unknown, used or expired.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn use_link(
    pool: &PgPool,
    token: &str,
    password_hash: &str,
    origin: &Origin,
) -> Result<Option<Uuid>, PeopleError> {
    let mut tx = pool.begin().await?;
    let Some(consumed) = store::password_links::consume(&mut tx, &token_hash(token), password_hash).await? else {
        return Ok(None);
    };
    let sessions = store::sessions::delete_for_user(&mut tx, consumed.user_id).await?;
    store::audit::record(
        &mut tx,
        NewEvent {
            org_id: consumed.org_id,
            actor: Actor::User(consumed.user_id),
            action: Action::PasswordSet,
            target_kind: Some("user"),
            target_id: Some(consumed.user_id.to_string()),
            ip: origin.ip,
            user_agent: origin.user_agent(),
            details: serde_json::json!({ "sessions_ended": sessions }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Some(consumed.user_id))
}
