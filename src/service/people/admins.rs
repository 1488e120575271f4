//! Admins made outside the console's invitations: the first admin of first-run setup and the
//! operator's `keyward admin add`. One rule for both: the account, when it is new, is managed by
//! the org that verified its email's domain (the domain's claims are locked first, as
//! verification locks them before the domain's accounts); the org, when it is named, is created;
//! each step is in the org's audit log; all of it in the caller's transaction.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::actor::Actor;
use crate::domain::org::Org;
use crate::domain::{Action, DisplayName, Email, OrgName};
use crate::store;
use crate::store::audit::{NewEvent, Origin};
use crate::store::users::User;

/// The org the admin is made in.
pub enum OrgOf<'a> {
    Existing(Uuid),
    New(&'a OrgName),
}

/// The person made admin: their address, and what a new account for it would be.
pub struct NewAdmin<'a> {
    pub email: &'a Email,
    pub name: &'a DisplayName,
    /// The argon2id hash of the new account's password; `None` when the caller knows the
    /// account exists.
    pub password_hash: Option<&'a str>,
}

/// Who makes the admin, and from where, as the audit log records it.
pub struct MadeBy<'a> {
    /// `None`: the new admin themself (first-run setup).
    pub actor: Option<Actor>,
    pub origin: &'a Origin,
    /// `setup` or `cli`, in each event's details.
    pub via: &'static str,
}

/// What `make_admin` did.
pub struct Made {
    pub org: Org,
    pub user: User,
    /// `false` when the account existed: it keeps its name and password.
    pub new_account: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("no organization has the id {0}")]
    NoSuchOrg(Uuid),
    #[error("no password was given for the new account")]
    NoPassword,
    #[error("database")]
    Database(#[from] sqlx::Error),
}

/// Makes `admin` an admin of the org in the caller's transaction, creating the org and the
/// account as needed.
#[tracing::instrument(skip_all, fields(via = by.via), err(level = "debug"))]
pub async fn make_admin(
    conn: &mut PgConnection,
    org: OrgOf<'_>,
    admin: &NewAdmin<'_>,
    by: &MadeBy<'_>,
) -> Result<Made, AdminError> {
    let manager = store::domains::manager_of(conn, &admin.email.domain()).await?;
    let (org, new_org) = match org {
        OrgOf::Existing(id) => (
            store::orgs::get(conn, id).await?.ok_or(AdminError::NoSuchOrg(id))?,
            false,
        ),
        OrgOf::New(name) => (store::orgs::create(conn, name).await?, true),
    };
    let (user, new_account) = match store::users::find_by_email(conn, admin.email).await? {
        Some(user) => (user, false),
        None => {
            let hash = admin.password_hash.ok_or(AdminError::NoPassword)?;
            (
                store::users::create(conn, admin.email, admin.name, hash, manager).await?,
                true,
            )
        }
    };
    store::users::grant_admin(conn, org.id, user.id).await?;
    let actor = by.actor.unwrap_or(Actor::User(user.id));
    let steps = [
        (new_org, Action::OrgCreated, "org", org.id),
        (new_account, Action::UserCreated, "user", user.id),
        (true, Action::AdminGranted, "user", user.id),
    ];
    for (_, action, target_kind, target_id) in steps.into_iter().filter(|(happened, ..)| *happened) {
        store::audit::record(
            conn,
            NewEvent {
                org_id: Some(org.id),
                actor,
                action,
                target_kind: Some(target_kind),
                target_id: Some(target_id.to_string()),
                ip: by.origin.ip,
                user_agent: by.origin.user_agent(),
                details: serde_json::json!({ "via": by.via }),
            },
        )
        .await?;
    }
    Ok(Made { org, user, new_account })
}
