//! Invitations: joining an organization is an invitation the person accepts. An admin (in the
//! console, or through the API with a key) invites an email in a role and hands over the link,
//! shown once; the answer is the same whether the address has an account or not. Whoever opens
//! the link sees which of the two it asks for: an existing account signs in as the invited
//! address and accepts, a new person creates the account there. Until then the invitee has no
//! access, is not counted as an admin, and leaves no events in the org.
//!
//! An invitation can be accepted only while it is pending and unexpired and while whoever sent
//! it still has the standing to govern the org (an active admin; through the API, an unrevoked,
//! unexpired key too): offboarding an admin withdraws the invitations they sent.

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{Acting, PeopleError, role_name};
use crate::domain::actor::Actor;
use crate::domain::member::Role;
use crate::domain::{Action, DisplayName, Email};
use crate::service::standing::{self, Power, StandingError};
use crate::store;
use crate::store::audit::{NewEvent, Origin};
use crate::store::invitations::{Invitation, Inviter, State};
use crate::store::users::UserStatus;

/// The path a link opens, before its token (a query, never a path: access logs print paths).
pub const PATH: &str = "/invitations?token=";

/// A freshly issued invitation link: shown once, to whoever issued it. Not `Debug`.
pub struct InvitationLink {
    token: SecretString,
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    pub expires_at: DateTime<Utc>,
}

impl InvitationLink {
    /// The whole link under the instance's public address.
    pub fn url(&self, public_base: &str) -> String {
        format!("{public_base}{PATH}{}", self.token.expose_secret())
    }
}

fn token_hash(token: &str) -> Vec<u8> {
    super::password_links::token_hash(token)
}

/// Who answers for an invitation the actor sends: the person they answer for, and the key.
fn inviter(actor: Actor, holder: Option<Uuid>) -> Inviter {
    Inviter {
        user: holder,
        key: match actor {
            Actor::Key(key) => Some(key),
            Actor::User(_) | Actor::System => None,
        },
    }
}

fn invitation_event<'a>(acting: &Acting<'a>, action: Action, id: Uuid, details: serde_json::Value) -> NewEvent<'a> {
    acting.event(action, "invitation", Some(id.to_string()), details)
}

/// Invites `email` to the acting org in `role`. When the address has a pending invitation
/// already, that one is issued again (its earlier link stops working). A member of the org
/// cannot be invited (`AlreadyMember`); whether the address has an account is never told.
#[tracing::instrument(skip_all, fields(org_id = %acting.org_id), err(level = "debug"))]
pub async fn invite(
    pool: &PgPool,
    acting: &Acting<'_>,
    email: &Email,
    role: Role,
) -> Result<InvitationLink, PeopleError> {
    let links = invite_all(pool, acting, std::slice::from_ref(email), role).await?;
    links.into_iter().next().ok_or(PeopleError::NotFound)
}

/// Invites each address (distinct under the email rule) in one transaction: all or none.
#[tracing::instrument(skip_all, fields(org_id = %acting.org_id), err(level = "debug"))]
pub async fn invite_all(
    pool: &PgPool,
    acting: &Acting<'_>,
    emails: &[Email],
    role: Role,
) -> Result<Vec<InvitationLink>, PeopleError> {
    let mut tx = pool.begin().await?;
    let links = invite_in(&mut tx, acting, emails, role).await?;
    tx.commit().await?;
    Ok(links)
}

async fn invite_in(
    conn: &mut PgConnection,
    acting: &Acting<'_>,
    emails: &[Email],
    role: Role,
) -> Result<Vec<InvitationLink>, PeopleError> {
    let standing = standing::authorize(conn, acting.org_id, acting.actor, Power::Govern).await?;
    let mut links = Vec::with_capacity(emails.len());
    for email in emails {
        if store::invitations::is_member(conn, acting.org_id, email).await? {
            return Err(PeopleError::AlreadyMember);
        }
        let token = crate::random::token();
        let inviter = inviter(acting.actor, standing.holder);
        let issued = store::invitations::issue(conn, acting.org_id, email, role, inviter, &token_hash(&token)).await?;
        let action = if issued.created {
            Action::InvitationSent
        } else {
            Action::InvitationReissued
        };
        let details = serde_json::json!({
            "email": email.as_str(),
            "role": role_name(role),
            "expires_at": issued.expires_at,
        });
        store::audit::record(conn, invitation_event(acting, action, issued.id, details)).await?;
        links.push(InvitationLink {
            token: token.into(),
            id: issued.id,
            email: email.as_str().to_owned(),
            role,
            expires_at: issued.expires_at,
        });
    }
    Ok(links)
}

/// The acting org's pending invitation `id`, or `NotFound`.
async fn pending_one(conn: &mut PgConnection, org_id: Uuid, id: Uuid) -> Result<Invitation, PeopleError> {
    store::invitations::pending(conn, org_id, Some(id), 1)
        .await?
        .into_iter()
        .next()
        .ok_or(PeopleError::NotFound)
}

/// A new link for the acting org's pending invitation `id` (expired or not), sent by the actor
/// from now on; its earlier link stops working.
#[tracing::instrument(skip_all, fields(org_id = %acting.org_id), err(level = "debug"))]
pub async fn reissue(pool: &PgPool, acting: &Acting<'_>, id: Uuid) -> Result<InvitationLink, PeopleError> {
    let mut tx = pool.begin().await?;
    let standing = standing::authorize(&mut tx, acting.org_id, acting.actor, Power::Govern).await?;
    let invitation = pending_one(&mut tx, acting.org_id, id).await?;
    let token = crate::random::token();
    let inviter = inviter(acting.actor, standing.holder);
    let expires_at = store::invitations::reissue(&mut tx, acting.org_id, id, inviter, &token_hash(&token))
        .await?
        .ok_or(PeopleError::NotFound)?;
    let details = serde_json::json!({
        "email": invitation.email,
        "role": role_name(invitation.role),
        "expires_at": expires_at,
    });
    store::audit::record(
        &mut tx,
        invitation_event(acting, Action::InvitationReissued, id, details),
    )
    .await?;
    tx.commit().await?;
    Ok(InvitationLink {
        token: token.into(),
        id,
        email: invitation.email,
        role: invitation.role,
        expires_at,
    })
}

/// Revokes the acting org's pending invitation `id`: its link never works again.
#[tracing::instrument(skip_all, fields(org_id = %acting.org_id), err(level = "debug"))]
pub async fn revoke(pool: &PgPool, acting: &Acting<'_>, id: Uuid) -> Result<Invitation, PeopleError> {
    let mut tx = pool.begin().await?;
    standing::authorize(&mut tx, acting.org_id, acting.actor, Power::Govern).await?;
    let invitation = pending_one(&mut tx, acting.org_id, id).await?;
    if !store::invitations::revoke(&mut tx, acting.org_id, id).await? {
        return Err(PeopleError::NotFound);
    }
    let details = serde_json::json!({ "email": invitation.email, "role": role_name(invitation.role) });
    store::audit::record(
        &mut tx,
        invitation_event(acting, Action::InvitationRevoked, id, details),
    )
    .await?;
    tx.commit().await?;
    Ok(invitation)
}

/// Why a link cannot be accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unusable {
    /// No invitation has this link (or it was issued again: the old link is no longer one).
    Unknown,
    Accepted,
    Revoked,
    Expired,
    /// Whoever sent it no longer governs the org (removed, demoted, suspended, disabled; the
    /// inviting key revoked or expired).
    Withdrawn,
}

#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    #[error("the invitation cannot be accepted: {0:?}")]
    Unusable(Unusable),
    /// The signed-in account is not the invited address's.
    #[error("the invitation is for another email address")]
    WrongAccount,
    /// Creating an account for an address that has one (made meanwhile): sign in instead.
    #[error("an account has this email address")]
    AccountExists,
    /// Creating an account for an address whose domain another org manages: that org's to
    /// invite first.
    #[error("another organization manages this email address's domain")]
    ManagedElsewhere,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// What a link's page shows: the invitation, whether it can be accepted, whether its address
/// has an account (sign in and accept) or not (create it), and whether the account may be made
/// here: not when another org manages the address's domain (its accounts are that org's to
/// invite first, and no other org's inviter may choose their password).
pub struct Opened {
    pub invitation: Invitation,
    pub usable: Result<(), Unusable>,
    pub account_exists: bool,
    pub creatable: bool,
}

/// The invitation behind a link, read for its page; None when no invitation has this link.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn open(pool: &PgPool, token: &str) -> Result<Option<Opened>, sqlx::Error> {
    // A transaction only to read what accepting would check; it changes nothing.
    let mut tx = pool.begin().await?;
    let Some(invitation) = store::invitations::by_token(&mut tx, &token_hash(token)).await? else {
        return Ok(None);
    };
    let email = Email::parse(&invitation.email).map_err(|e| sqlx::Error::Decode(e.into()))?;
    let manager = store::domains::manager_of(&mut tx, &email.domain()).await?;
    let usable = match acceptable(&mut tx, &invitation).await {
        Ok(()) => Ok(()),
        Err(AcceptError::Unusable(why)) => Err(why),
        Err(AcceptError::Database(db)) => return Err(db),
        Err(other) => return Err(sqlx::Error::Protocol(other.to_string())),
    };
    let account_exists = store::users::find_by_email(&mut tx, &email).await?.is_some();
    tx.rollback().await?;
    Ok(Some(Opened {
        creatable: manager.is_none_or(|org| org == invitation.org_id),
        invitation,
        usable,
        account_exists,
    }))
}

/// Refuses an invitation that is no longer pending or has expired.
fn pending(invitation: &Invitation) -> Result<(), AcceptError> {
    match invitation.state {
        State::Pending => Ok(()),
        State::Accepted => Err(AcceptError::Unusable(Unusable::Accepted)),
        State::Revoked => Err(AcceptError::Unusable(Unusable::Revoked)),
        State::Expired => Err(AcceptError::Unusable(Unusable::Expired)),
    }
}

/// Refuses an invitation that is not pending, has expired, or whose sender no longer governs
/// the org; the sender's standing stays locked until the transaction ends.
async fn acceptable(conn: &mut PgConnection, invitation: &Invitation) -> Result<(), AcceptError> {
    pending(invitation)?;
    match standing::authorize(conn, invitation.org_id, invitation.inviter(), Power::Govern).await {
        Ok(_) => Ok(()),
        Err(StandingError::Database(db)) => Err(db.into()),
        Err(StandingError::KeyInvalid | StandingError::NotAdmin | StandingError::OwnHolder) => {
            Err(AcceptError::Unusable(Unusable::Withdrawn))
        }
    }
}

/// The invitation behind a link, read without a lock. Any text is a token to look up: only a
/// link keyward issued has a hash that finds one.
async fn find(conn: &mut PgConnection, token: &str) -> Result<Invitation, AcceptError> {
    store::invitations::by_token(conn, &token_hash(token))
        .await?
        .ok_or(AcceptError::Unusable(Unusable::Unknown))
}

/// The pending, acceptable invitation behind a link, its sender's standing locked until the
/// transaction ends (before `join` writes the invitation: offboarding the sender locks their
/// `users` row, then the invitations it withdraws, in the same order).
async fn take(conn: &mut PgConnection, token: &str) -> Result<Invitation, AcceptError> {
    let invitation = find(conn, token).await?;
    acceptable(conn, &invitation).await?;
    Ok(invitation)
}

/// True when PostgreSQL ended an acceptance to break a deadlock: it can run again.
fn deadlocked(err: &AcceptError) -> bool {
    matches!(err, AcceptError::Database(db) if standing::is_deadlock(db))
}

/// The person joins the org in the invitation's role (a member already keeps their role), the
/// invitation is spent, and the org's log records both, as the person's own acts.
async fn join(
    conn: &mut PgConnection,
    invitation: &Invitation,
    token: &str,
    user_id: Uuid,
    origin: &Origin,
) -> Result<(), AcceptError> {
    let added = store::memberships::add(conn, invitation.org_id, user_id, invitation.role).await?;
    if !store::invitations::accept(conn, invitation.id, &token_hash(token), user_id).await? {
        // Spent, revoked, expired or issued again since it was read: say which, as it is now.
        pending(&find(conn, token).await?)?;
        return Err(AcceptError::Unusable(Unusable::Expired));
    }
    let acting = Acting {
        org_id: invitation.org_id,
        actor: Actor::User(user_id),
        origin,
    };
    let details = serde_json::json!({ "email": invitation.email, "role": role_name(invitation.role) });
    store::audit::record(
        conn,
        invitation_event(&acting, Action::InvitationAccepted, invitation.id, details),
    )
    .await?;
    if added {
        let details = serde_json::json!({ "role": role_name(invitation.role), "invitation": invitation.id });
        store::audit::record(conn, super::event(&acting, Action::MemberAdded, user_id, details)).await?;
    }
    Ok(())
}

/// Accepts the invitation as the signed-in account `user_id`, which must be the invited
/// address's (under the email rule) and active. Returns the org joined.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn accept_signed_in(
    pool: &PgPool,
    token: &str,
    user_id: Uuid,
    origin: &Origin,
) -> Result<Invitation, AcceptError> {
    standing::retrying_deadlocks(deadlocked, || async move {
        let mut tx = pool.begin().await?;
        let invitation = take(&mut tx, token).await?;
        let account = store::users::profile(&mut tx, user_id, false)
            .await?
            .filter(|account| account.status == UserStatus::Active)
            .ok_or(AcceptError::WrongAccount)?;
        if crate::domain::email::normalize(&account.email) != invitation.email_normalized {
            return Err(AcceptError::WrongAccount);
        }
        join(&mut tx, &invitation, token, user_id, origin).await?;
        tx.commit().await?;
        Ok(invitation)
    })
    .await
}

/// Accepts the invitation by creating the invited address's account, with this name and
/// password (already hashed), and joining. Refused when the address has an account (its owner
/// signs in and accepts instead) and when another org manages the address's domain. Returns
/// the org joined and the new account's id.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn accept_with_new_account(
    pool: &PgPool,
    token: &str,
    name: &DisplayName,
    password_hash: &str,
    origin: &Origin,
) -> Result<(Invitation, Uuid), AcceptError> {
    standing::retrying_deadlocks(deadlocked, || async move {
        let mut tx = pool.begin().await?;
        let seen = find(&mut tx, token).await?;
        let email = Email::parse(&seen.email).map_err(|e| sqlx::Error::Decode(e.into()))?;
        // The domain's claims first, as verification locks them before the domain's accounts.
        let manager = store::domains::manager_of(&mut tx, &email.domain()).await?;
        let invitation = take(&mut tx, token).await?;
        if manager.is_some_and(|org| org != invitation.org_id) {
            return Err(AcceptError::ManagedElsewhere);
        }
        let user = match store::users::create(&mut tx, &email, name, password_hash, manager).await {
            Err(err) if store::violates(&err, "users_email_unique") => return Err(AcceptError::AccountExists),
            other => other?,
        };
        let acting = Acting {
            org_id: invitation.org_id,
            actor: Actor::User(user.id),
            origin,
        };
        let details = serde_json::json!({ "invitation": invitation.id });
        store::audit::record(&mut tx, super::event(&acting, Action::UserCreated, user.id, details)).await?;
        join(&mut tx, &invitation, token, user.id, origin).await?;
        tx.commit().await?;
        Ok((invitation, user.id))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_deadlock_runs_an_acceptance_again() {
        assert!(deadlocked(&AcceptError::Database(
            crate::service::standing::deadlock_error()
        )));
        assert!(!deadlocked(&AcceptError::Database(sqlx::Error::RowNotFound)));
        assert!(!deadlocked(&AcceptError::WrongAccount));
        assert!(!deadlocked(&AcceptError::Unusable(Unusable::Withdrawn)));
    }
}
