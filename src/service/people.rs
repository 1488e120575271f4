//! Managing an organization's people: invitations (`invitations`), suspension, removal, roles,
//! and the account-level changes (profile, email, disable, enable, set-password links) that
//! only the managing org may make. Each change runs in one transaction with its audit event;
//! the rules that protect an org (its last admin stays, a removed admin's keys go, a disabled
//! account's sessions end) hold inside that transaction, whichever door the change comes
//! through.

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::auth::api_key::KeyVerifier;
use crate::domain::actor::Actor;
use crate::domain::audit::KeyRevoked;
use crate::domain::member::{Member, Role};
use crate::domain::{Action, DisplayName, Email};
use crate::domain::{OrgId, UserId};
use crate::service::standing::{self, Power, StandingError};
use crate::store;
use crate::store::audit::NewEvent;
use crate::store::users::{Profile, UserStatus};

/// Who is acting, for which org, from where: every change is confined to `org_id` and
/// recorded with `actor` and `origin`.
pub use crate::store::audit::Acting;

#[derive(Debug, thiserror::Error)]
pub enum PeopleError {
    /// Not a member of the acting org (or no such account): the same answer for both.
    #[error("no such member")]
    NotFound,
    /// The account is managed by another org, or by none.
    #[error("this organization does not manage the account")]
    NotManaged,
    /// An admin changes their own account on their account page, with their current password,
    /// never through the org's account-level actions.
    #[error("your own account is changed on your account page")]
    OwnAccount,
    /// The change would leave an org without an admin.
    #[error("the last admin of an organization cannot be removed, demoted, suspended or disabled")]
    LastAdmin,
    #[error("another account has this email address")]
    EmailTaken,
    /// An account's new address would be in a domain another org has verified: that org
    /// manages such accounts, and no other org may move one there.
    #[error("another organization manages this email address's domain")]
    ManagedElsewhere,
    #[error("already a member of this organization")]
    AlreadyMember,
    /// The account is disabled: it can be given no password link.
    #[error("the account is disabled")]
    Disabled,
    /// The actor may not make this change: its key was revoked meanwhile, the person it answers
    /// for is no longer an active admin, or the change is to that person.
    #[error(transparent)]
    Standing(#[from] StandingError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// What an offboarding step (removal, suspension, demotion) did to the keys the person
/// answered for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    /// False when there was nothing to change (already suspended, already in that role).
    pub changed: bool,
    /// The revoked keys' ids and public ids.
    pub revoked_keys: Vec<(Uuid, String)>,
}

/// Whether suspending or demoting an admin also revokes the keys they answer for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyHandover {
    Keep,
    Revoke,
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Admin => "admin",
        Role::Member => "member",
    }
}

/// The member, or `NotFound`.
#[tracing::instrument(skip_all, fields(org_id = %org), err(level = "debug"))]
pub async fn member(conn: &mut PgConnection, org: OrgId, user: UserId) -> Result<Member, PeopleError> {
    store::memberships::find(conn, org.uuid(), user.uuid())
        .await?
        .ok_or(PeopleError::NotFound)
}

/// Checks, and holds until the transaction ends, that the actor may change `person`: it has
/// the standing to govern the org (a calling key unrevoked, the person it answers for an active
/// admin), and a key is not changing the person it answers for.
async fn govern(conn: &mut PgConnection, acting: &Acting<'_>, person: Uuid) -> Result<(), PeopleError> {
    standing::authorize(conn, acting.org_id, acting.actor, Power::Govern)
        .await?
        .refuse_own_holder(person)?;
    Ok(())
}

/// The start of every change to a person's standing (suspension, demotion, removal,
/// disabling): the admin memberships of `org_ids` (so two such changes to one org run one after
/// the other, and the last-admin rule counts what the first left), then the actor's standing,
/// then the person's `users` row, so no key for them commits between this change's decision and
/// its revocation of their keys. Always in this order, so two changes cannot deadlock.
async fn begin_standing_change(
    conn: &mut PgConnection,
    acting: &Acting<'_>,
    person: Uuid,
    org_ids: &[Uuid],
) -> Result<(), PeopleError> {
    store::memberships::lock_admins(conn, org_ids).await?;
    govern(conn, acting, person).await?;
    store::memberships::lock_for_standing_change(conn, person).await?;
    Ok(())
}

/// True when PostgreSQL ended the change to break a deadlock (a key it revokes was held by a
/// request of that key's own): it can run again.
fn deadlocked(err: &PeopleError) -> bool {
    match err {
        PeopleError::Database(db) | PeopleError::Standing(StandingError::Database(db)) => standing::is_deadlock(db),
        _ => false,
    }
}

/// Refuses when `user_id` is the only admin of one of the orgs; run it after
/// `begin_standing_change` locked their admin memberships.
async fn refuse_last_admin(conn: &mut PgConnection, org_ids: &[Uuid], user_id: Uuid) -> Result<(), PeopleError> {
    for &org_id in org_ids {
        let admins = store::memberships::effective_admins(conn, org_id).await?;
        if admins == [user_id] {
            return Err(PeopleError::LastAdmin);
        }
    }
    Ok(())
}

fn event<'a>(acting: &Acting<'a>, action: Action, user_id: Uuid, details: serde_json::Value) -> NewEvent<'a> {
    acting.event(action, "user", Some(user_id.to_string()), details)
}

/// Suspends the person's membership of the acting org only: their other orgs and their account
/// are untouched. With `KeyHandover::Revoke`, every active key of the org they answer for is
/// revoked in the same transaction. `changed` is false when it was suspended already.
#[tracing::instrument(skip_all, fields(org_id = %acting.org_id), err(level = "debug"))]
pub async fn suspend(
    pool: &PgPool,
    verifier: Option<&KeyVerifier>,
    acting: &Acting<'_>,
    user_id: Uuid,
    keys: KeyHandover,
) -> Result<Removal, PeopleError> {
    let (changed, revoked) = standing::retrying_deadlocks(deadlocked, || async move {
        let mut tx = pool.begin().await?;
        begin_standing_change(&mut tx, acting, user_id, &[acting.org_id]).await?;
        refuse_last_admin(&mut tx, &[acting.org_id], user_id).await?;
        member(&mut tx, acting.org(), UserId::from(user_id)).await?;
        let changed = store::memberships::suspend(&mut tx, acting.org_id, user_id).await?;
        withdraw_invitations(&mut tx, acting, Some(acting.org_id), user_id, "member_suspended").await?;
        let revoked = match keys {
            // Also when already suspended: the confirmation listed keys made meanwhile, and they go.
            KeyHandover::Revoke => revoke_answered_for(&mut tx, acting, user_id, "member_suspended").await?,
            KeyHandover::Keep => Vec::new(),
        };
        if changed {
            let details = serde_json::json!({ "revoked_keys": key_list(&revoked) });
            store::audit::record(&mut tx, event(acting, Action::MembershipSuspended, user_id, details)).await?;
        }
        tx.commit().await?;
        Ok((changed, revoked))
    })
    .await?;
    let changed = changed || !revoked.is_empty();
    announce(verifier, &revoked);
    Ok(Removal {
        changed,
        revoked_keys: revoked,
    })
}

/// Lifts the suspension of the person's membership. Returns false when it was not suspended.
#[tracing::instrument(skip_all, fields(org_id = %acting.org_id), err(level = "debug"))]
pub async fn restore(pool: &PgPool, acting: &Acting<'_>, user_id: Uuid) -> Result<bool, PeopleError> {
    let mut tx = pool.begin().await?;
    govern(&mut tx, acting, user_id).await?;
    member(&mut tx, acting.org(), UserId::from(user_id)).await?;
    let changed = store::memberships::restore(&mut tx, acting.org_id, user_id).await?;
    if changed {
        let details = serde_json::json!({});
        store::audit::record(&mut tx, event(acting, Action::MembershipRestored, user_id, details)).await?;
    }
    tx.commit().await?;
    Ok(changed)
}

/// Changes the person's role in the acting org; demoting the last admin is refused. With
/// `KeyHandover::Revoke`, demoting an admin also revokes every active key of the org they answer
/// for, in the same transaction.
#[tracing::instrument(skip_all, fields(org_id = %acting.org_id), err(level = "debug"))]
pub async fn set_role(
    pool: &PgPool,
    verifier: Option<&KeyVerifier>,
    acting: &Acting<'_>,
    user_id: Uuid,
    role: Role,
    keys: KeyHandover,
) -> Result<Removal, PeopleError> {
    let revoked = standing::retrying_deadlocks(deadlocked, || async move {
        let mut tx = pool.begin().await?;
        begin_standing_change(&mut tx, acting, user_id, &[acting.org_id]).await?;
        if role != Role::Admin {
            refuse_last_admin(&mut tx, &[acting.org_id], user_id).await?;
        }
        let before = member(&mut tx, acting.org(), UserId::from(user_id)).await?;
        if before.role == role {
            return Ok(None);
        }
        store::memberships::set_role(&mut tx, acting.org_id, user_id, role).await?;
        if role == Role::Member {
            withdraw_invitations(&mut tx, acting, Some(acting.org_id), user_id, "admin_demoted").await?;
        }
        let revoked = match keys {
            KeyHandover::Revoke if role == Role::Member => {
                revoke_answered_for(&mut tx, acting, user_id, "admin_demoted").await?
            }
            _ => Vec::new(),
        };
        let details = serde_json::json!({
            "role": role_name(role),
            "revoked_keys": key_list(&revoked),
        });
        store::audit::record(&mut tx, event(acting, Action::MembershipRoleChanged, user_id, details)).await?;
        tx.commit().await?;
        Ok(Some(revoked))
    })
    .await?;
    let Some(revoked) = revoked else {
        return Ok(Removal {
            changed: false,
            revoked_keys: Vec::new(),
        });
    };
    announce(verifier, &revoked);
    Ok(Removal {
        changed: true,
        revoked_keys: revoked,
    })
}

/// Removes the person from the acting org. Every active key of the org they answer for is
/// revoked in the same transaction, each with its own event, and the removal's event lists
/// them: offboarding leaves no key behind. After the commit, `verifier` (this instance's cache)
/// refuses the keys before this returns; other instances hear the database's notice.
#[tracing::instrument(skip_all, fields(org_id = %acting.org_id), err(level = "debug"))]
pub async fn remove(
    pool: &PgPool,
    verifier: Option<&KeyVerifier>,
    acting: &Acting<'_>,
    user_id: Uuid,
) -> Result<Removal, PeopleError> {
    let revoked = standing::retrying_deadlocks(deadlocked, || async move {
        let mut tx = pool.begin().await?;
        begin_standing_change(&mut tx, acting, user_id, &[acting.org_id]).await?;
        refuse_last_admin(&mut tx, &[acting.org_id], user_id).await?;
        let before = member(&mut tx, acting.org(), UserId::from(user_id)).await?;
        store::memberships::delete(&mut tx, acting.org_id, user_id).await?;
        withdraw_invitations(&mut tx, acting, Some(acting.org_id), user_id, "member_removed").await?;
        let revoked = revoke_answered_for(&mut tx, acting, user_id, "member_removed").await?;
        let details = serde_json::json!({ "role": role_name(before.role), "revoked_keys": key_list(&revoked) });
        store::audit::record(&mut tx, event(acting, Action::MembershipRemoved, user_id, details)).await?;
        tx.commit().await?;
        Ok(revoked)
    })
    .await?;
    announce(verifier, &revoked);
    Ok(Removal {
        changed: true,
        revoked_keys: revoked,
    })
}

/// Revokes every active key of the acting org that `user_id` answers for, each with its own
/// event naming `reason`.
async fn revoke_answered_for(
    conn: &mut PgConnection,
    acting: &Acting<'_>,
    user_id: Uuid,
    reason: &str,
) -> Result<Vec<(Uuid, String)>, PeopleError> {
    let revoked = store::api_keys::revoke_by_responsible(conn, acting.org_id, user_id, acting.actor).await?;
    for (key_id, public_id) in &revoked {
        let details = KeyRevoked {
            public_id,
            created_with: None,
            bulk_for_user: Some(user_id),
            reason: Some(reason),
        }
        .json();
        store::audit::record(
            conn,
            NewEvent {
                target_kind: Some("api_key"),
                target_id: Some(key_id.to_string()),
                ..event(acting, Action::ApiKeyRevoked, user_id, details)
            },
        )
        .await?;
    }
    Ok(revoked)
}

/// Revokes the pending invitations the person sent to org `org_id` (to every org when None),
/// each with its event naming `reason`: an invitation never outlives its sender's standing,
/// even when that standing comes back later.
async fn withdraw_invitations(
    conn: &mut PgConnection,
    acting: &Acting<'_>,
    org_id: Option<Uuid>,
    user_id: Uuid,
    reason: &str,
) -> Result<(), PeopleError> {
    for (org_id, id, email) in store::invitations::withdraw_sent_by(conn, org_id, user_id).await? {
        let details = serde_json::json!({ "email": email, "sent_by": user_id, "reason": reason });
        store::audit::record(
            conn,
            NewEvent {
                org_id: Some(org_id),
                target_kind: Some("invitation"),
                target_id: Some(id.to_string()),
                ..event(acting, Action::InvitationRevoked, user_id, details)
            },
        )
        .await?;
    }
    Ok(())
}

fn key_list(revoked: &[(Uuid, String)]) -> Vec<serde_json::Value> {
    revoked
        .iter()
        .map(|(id, public_id)| serde_json::json!({ "id": id, "public_id": public_id }))
        .collect()
}

/// After the commit: this instance's cache refuses the revoked keys before the caller answers.
fn announce(verifier: Option<&KeyVerifier>, revoked: &[(Uuid, String)]) {
    if let Some(verifier) = verifier {
        for (_, public_id) in revoked {
            verifier.mark_revoked(public_id);
        }
    }
}

/// The member's account, when the acting org manages it (it has verified the email's domain)
/// and it is not the actor's own: account-level actions (profile, email, lifecycle,
/// set-password links) are for the managing org's admins, on other people's accounts.
pub(crate) async fn managed_account(
    conn: &mut PgConnection,
    acting: &Acting<'_>,
    user_id: Uuid,
) -> Result<Profile, PeopleError> {
    if acting.actor == Actor::User(user_id) {
        return Err(PeopleError::OwnAccount);
    }
    member(conn, acting.org(), UserId::from(user_id)).await?;
    let profile = store::users::profile(conn, user_id, true)
        .await?
        .ok_or(PeopleError::NotFound)?;
    if profile.managed_by_org != Some(acting.org_id) {
        return Err(PeopleError::NotManaged);
    }
    Ok(profile)
}

/// Disables the account everywhere, ending all its console sessions and revoking every key it
/// answers for in every org (each with its event, in its org's log) in the same transaction.
/// Refused when the person is the last admin of any org (not only the acting one). Enabling the
/// account again brings no key back: revocation is permanent.
#[tracing::instrument(skip_all, fields(org_id = %acting.org_id), err(level = "debug"))]
pub async fn disable(
    pool: &PgPool,
    verifier: Option<&KeyVerifier>,
    acting: &Acting<'_>,
    user_id: Uuid,
    message: Option<&str>,
) -> Result<bool, PeopleError> {
    let (changed, revoked) = standing::retrying_deadlocks(deadlocked, || async move {
        let mut tx = pool.begin().await?;
        let mut orgs = store::memberships::admin_orgs(&mut tx, user_id).await?;
        orgs.push(acting.org_id);
        begin_standing_change(&mut tx, acting, user_id, &orgs).await?;
        managed_account(&mut tx, acting, user_id).await?;
        // Counted again under the locks: an admin membership granted meanwhile counts too.
        let admin_of = store::memberships::admin_orgs(&mut tx, user_id).await?;
        refuse_last_admin(&mut tx, &admin_of, user_id).await?;
        let changed = store::users::set_status(&mut tx, user_id, UserStatus::Disabled).await?;
        let sessions = store::sessions::delete_for_user(&mut tx, user_id).await?;
        // A link issued before would work again if the account were enabled again.
        store::password_links::retire_for_user(&mut tx, user_id).await?;
        withdraw_invitations(&mut tx, acting, None, user_id, "user_disabled").await?;
        let revoked = store::api_keys::revoke_all_by_responsible(&mut tx, user_id, acting.actor).await?;
        for (org_id, key_id, public_id) in &revoked {
            let details = KeyRevoked {
                public_id,
                created_with: None,
                bulk_for_user: Some(user_id),
                reason: Some("user_disabled"),
            }
            .json();
            store::audit::record(
                &mut tx,
                NewEvent {
                    org_id: Some(*org_id),
                    target_kind: Some("api_key"),
                    target_id: Some(key_id.to_string()),
                    ..event(acting, Action::ApiKeyRevoked, user_id, details)
                },
            )
            .await?;
        }
        let revoked: Vec<(Uuid, String)> = revoked.into_iter().map(|(_, id, public_id)| (id, public_id)).collect();
        if changed || !revoked.is_empty() {
            let details = serde_json::json!({
                "message": message,
                "sessions_ended": sessions,
                "revoked_keys": key_list(&revoked),
            });
            store::audit::record(&mut tx, event(acting, Action::UserDisabled, user_id, details)).await?;
        }
        tx.commit().await?;
        Ok((changed, revoked))
    })
    .await?;
    announce(verifier, &revoked);
    Ok(changed || !revoked.is_empty())
}

/// Enables the account again.
#[tracing::instrument(skip_all, fields(org_id = %acting.org_id), err(level = "debug"))]
pub async fn enable(pool: &PgPool, acting: &Acting<'_>, user_id: Uuid) -> Result<bool, PeopleError> {
    let mut tx = pool.begin().await?;
    govern(&mut tx, acting, user_id).await?;
    managed_account(&mut tx, acting, user_id).await?;
    let changed = store::users::set_status(&mut tx, user_id, UserStatus::Active).await?;
    if changed {
        let details = serde_json::json!({});
        store::audit::record(&mut tx, event(acting, Action::UserEnabled, user_id, details)).await?;
    }
    tx.commit().await?;
    Ok(changed)
}

/// Changes the account's email, ending all its console sessions in the same transaction. The
/// account is then managed by the org that verified the new address's domain: none, or the
/// acting org (an address in a domain another org verified is refused).
#[tracing::instrument(skip_all, fields(org_id = %acting.org_id), err(level = "debug"))]
pub async fn set_email(pool: &PgPool, acting: &Acting<'_>, user_id: Uuid, email: &Email) -> Result<(), PeopleError> {
    standing::retrying_deadlocks(deadlocked, || async move {
        let mut tx = pool.begin().await?;
        // The domain's claims first, as verification locks them before the domain's accounts.
        let manager = store::domains::manager_of(&mut tx, &email.domain()).await?;
        govern(&mut tx, acting, user_id).await?;
        let before = managed_account(&mut tx, acting, user_id).await?;
        if manager.is_some_and(|org| org != acting.org_id) {
            return Err(PeopleError::ManagedElsewhere);
        }
        match store::users::set_email(&mut tx, user_id, email, manager).await {
            Err(err) if store::violates(&err, "users_email_unique") => return Err(PeopleError::EmailTaken),
            other => other?,
        }
        let sessions = store::sessions::delete_for_user(&mut tx, user_id).await?;
        let details = serde_json::json!({ "from": before.email, "to": email.as_str(), "sessions_ended": sessions });
        store::audit::record(&mut tx, event(acting, Action::UserEmailChanged, user_id, details)).await?;
        tx.commit().await?;
        Ok(())
    })
    .await
}

/// A profile field that can be set or cleared: trimmed, 1 to `max` characters, no control
/// characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileField {
    Nickname,
    Zoneinfo,
    Locale,
    JobTitle,
    Department,
    Organization,
    Location,
}

impl ProfileField {
    pub const ALL: [ProfileField; 7] = [
        ProfileField::Nickname,
        ProfileField::Zoneinfo,
        ProfileField::Locale,
        ProfileField::JobTitle,
        ProfileField::Department,
        ProfileField::Organization,
        ProfileField::Location,
    ];

    /// The field's name on the wire (and in audit events).
    pub fn name(self) -> &'static str {
        match self {
            ProfileField::Nickname => "nickname",
            ProfileField::Zoneinfo => "zoneinfo",
            ProfileField::Locale => "locale",
            ProfileField::JobTitle => "job_title",
            ProfileField::Department => "department",
            ProfileField::Organization => "organization",
            ProfileField::Location => "location",
        }
    }

    /// The longest value the database accepts (its CHECK constraints say the same).
    pub fn max_chars(self) -> usize {
        match self {
            ProfileField::Zoneinfo => 64,
            ProfileField::Locale => 35,
            _ => 100,
        }
    }

    /// Parses a value for the field; the error says what is wrong, for the one who sent it.
    pub fn parse(self, input: &str) -> Result<String, String> {
        let value = input.trim();
        if value.is_empty() {
            return Err(format!("{} must not be empty; send null to clear it.", self.name()));
        }
        if value.chars().count() > self.max_chars() {
            return Err(format!("{} is at most {} characters.", self.name(), self.max_chars()));
        }
        if value.chars().any(char::is_control) {
            return Err(format!("{} must not contain control characters.", self.name()));
        }
        Ok(value.to_owned())
    }

    fn slot(self, profile: &mut Profile) -> &mut Option<String> {
        match self {
            ProfileField::Nickname => &mut profile.nickname,
            ProfileField::Zoneinfo => &mut profile.zoneinfo,
            ProfileField::Locale => &mut profile.locale,
            ProfileField::JobTitle => &mut profile.job_title,
            ProfileField::Department => &mut profile.department,
            ProfileField::Organization => &mut profile.organization,
            ProfileField::Location => &mut profile.location,
        }
    }
}

/// A change to a profile, already parsed: fields not named stay as they are; `Some(None)`
/// clears a field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfilePatch {
    pub name: Option<DisplayName>,
    pub fields: Vec<(ProfileField, Option<String>)>,
}

impl ProfilePatch {
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.fields.is_empty()
    }
}

/// The member's profile, for any member of the acting org.
#[tracing::instrument(skip_all, fields(org_id = %org), err(level = "debug"))]
pub async fn profile(pool: &PgPool, org: OrgId, user: UserId) -> Result<Profile, PeopleError> {
    let mut conn = pool.acquire().await?;
    member(&mut conn, org, user).await?;
    store::users::profile(&mut conn, user.uuid(), false)
        .await?
        .ok_or(PeopleError::NotFound)
}

/// Applies the patch to a managed account's profile and returns the profile as it now is.
#[tracing::instrument(skip_all, fields(org_id = %acting.org_id), err(level = "debug"))]
pub async fn update_profile(
    pool: &PgPool,
    acting: &Acting<'_>,
    user_id: Uuid,
    patch: &ProfilePatch,
) -> Result<Profile, PeopleError> {
    let mut tx = pool.begin().await?;
    govern(&mut tx, acting, user_id).await?;
    let mut profile = managed_account(&mut tx, acting, user_id).await?;
    let mut changed = Vec::new();
    if let Some(name) = &patch.name {
        profile.display_name = name.as_str().to_owned();
        changed.push("name");
    }
    for (field, value) in &patch.fields {
        *field.slot(&mut profile) = value.clone();
        changed.push(field.name());
    }
    store::users::update_profile(&mut tx, &profile).await?;
    let details = serde_json::json!({ "fields": changed });
    store::audit::record(&mut tx, event(acting, Action::UserProfileUpdated, user_id, details)).await?;
    tx.commit().await?;
    Ok(profile)
}

pub mod admins;
pub mod invitations;
pub mod password_links;

#[cfg(test)]
mod tests;
