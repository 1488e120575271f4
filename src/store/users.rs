//! People who sign in, and their memberships of organizations.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

pub use crate::domain::member::UserStatus;
use crate::domain::{DisplayName, Email};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub created_at: DateTime<Utc>,
}

/// True once anyone has an account: first-run setup is over.
pub async fn any_exist(conn: &mut PgConnection) -> Result<bool, sqlx::Error> {
    let row = sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM users) AS "exists!""#)
        .fetch_one(conn)
        .await?;
    Ok(row)
}

/// The account of `email` under keyward's one email rule (`Email::normalized`).
pub async fn find_by_email(conn: &mut PgConnection, email: &Email) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as!(
        User,
        "SELECT id, email, display_name, created_at FROM users WHERE email_normalized = $1",
        email.normalized()
    )
    .fetch_optional(conn)
    .await
}

/// Creates an account with its argon2id password hash, managed by `manager`: what
/// `domains::manager_of` said of its email's domain, asked first in the same transaction.
pub async fn create(
    conn: &mut PgConnection,
    email: &Email,
    name: &DisplayName,
    password_hash: &str,
    manager: Option<Uuid>,
) -> Result<User, sqlx::Error> {
    sqlx::query_as!(
        User,
        "INSERT INTO users (id, email, display_name, password_hash, managed_by_org)
         VALUES ($1, $2, $3, $4, $5)
         RETURNING id, email, display_name, created_at",
        Uuid::new_v4(),
        email.as_str(),
        name.as_str(),
        password_hash,
        manager
    )
    .fetch_one(conn)
    .await
}

/// Makes `org_id` the manager of every account of `domain`, which it has just verified;
/// returns how many accounts it took over.
pub async fn manage_domain(conn: &mut PgConnection, org_id: Uuid, domain: &str) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE users SET managed_by_org = $1
         WHERE substring(email_normalized FROM '@([^@]*)$') = $2 AND managed_by_org IS DISTINCT FROM $1",
        org_id,
        domain
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Releases the accounts of `domain` that `org_id` managed, now that it no longer has the
/// domain verified; returns how many it released.
pub async fn release_domain(conn: &mut PgConnection, org_id: Uuid, domain: &str) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE users SET managed_by_org = NULL
         WHERE substring(email_normalized FROM '@([^@]*)$') = $2 AND managed_by_org = $1",
        org_id,
        domain
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Makes the person an admin of the org (again, if they were a member or suspended).
pub async fn grant_admin(conn: &mut PgConnection, org_id: Uuid, user_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, 'admin')
         ON CONFLICT (org_id, user_id) DO UPDATE SET role = 'admin', suspended_at = NULL",
        org_id,
        user_id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// An account's profile, as the user-management API shows and changes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub status: UserStatus,
    pub managed_by_org: Option<Uuid>,
    pub nickname: Option<String>,
    pub zoneinfo: Option<String>,
    pub locale: Option<String>,
    pub job_title: Option<String>,
    pub department: Option<String>,
    pub organization: Option<String>,
    pub location: Option<String>,
}

/// The account's profile; `for_update` locks the row until the transaction ends, for a
/// read-modify-write of the profile.
pub async fn profile(conn: &mut PgConnection, user_id: Uuid, for_update: bool) -> Result<Option<Profile>, sqlx::Error> {
    if for_update {
        sqlx::query_as!(
            Profile,
            r#"SELECT id, email, display_name, status AS "status: UserStatus", managed_by_org, nickname, zoneinfo,
                      locale, job_title, department, organization, location
               FROM users WHERE id = $1 FOR UPDATE"#,
            user_id
        )
        .fetch_optional(conn)
        .await
    } else {
        sqlx::query_as!(
            Profile,
            r#"SELECT id, email, display_name, status AS "status: UserStatus", managed_by_org, nickname, zoneinfo,
                      locale, job_title, department, organization, location
               FROM users WHERE id = $1"#,
            user_id
        )
        .fetch_optional(conn)
        .await
    }
}

/// Writes the profile's changeable fields (everything but id, email, status and the managing org).
pub async fn update_profile(conn: &mut PgConnection, profile: &Profile) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE users SET display_name = $2, nickname = $3, zoneinfo = $4, locale = $5, job_title = $6,
                          department = $7, organization = $8, location = $9
         WHERE id = $1",
        profile.id,
        profile.display_name,
        profile.nickname,
        profile.zoneinfo,
        profile.locale,
        profile.job_title,
        profile.department,
        profile.organization,
        profile.location
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Changes the account's sign-in address, and with it the org that manages the account
/// (`manager`: what `domains::manager_of` said of the new address's domain, asked first in the
/// same transaction). Another account's address under the email rule (`Email::normalized`,
/// which the database generates into `email_normalized`) is the `users_email_unique` violation.
pub async fn set_email(
    conn: &mut PgConnection,
    user_id: Uuid,
    email: &Email,
    manager: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE users SET email = $2, managed_by_org = $3 WHERE id = $1",
        user_id,
        email.as_str(),
        manager
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Enables or disables the account; returns false when it already had that status.
pub async fn set_status(conn: &mut PgConnection, user_id: Uuid, status: UserStatus) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE users SET status = $2 WHERE id = $1 AND status <> $2",
        user_id,
        status as UserStatus
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// What signing in needs of an account: its argon2id hash (none until a password is set) and
/// whether it may sign in at all.
#[derive(Clone)]
pub struct Credentials {
    pub id: Uuid,
    pub password_hash: Option<String>,
    pub active: bool,
    pub locale: Option<String>,
}

pub async fn credentials(conn: &mut PgConnection, email: &Email) -> Result<Option<Credentials>, sqlx::Error> {
    sqlx::query_as!(
        Credentials,
        r#"SELECT id, password_hash, status = 'active' AS "active!", locale
           FROM users WHERE email_normalized = $1"#,
        email.normalized()
    )
    .fetch_optional(conn)
    .await
}

/// Notes a successful sign-in.
pub async fn record_sign_in(conn: &mut PgConnection, user_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE users SET last_login_at = now() WHERE id = $1", user_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The user's own language setting, a BCP 47 tag.
pub async fn set_locale(conn: &mut PgConnection, user_id: Uuid, locale: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE users SET locale = $2 WHERE id = $1", user_id, locale)
        .execute(conn)
        .await?;
    Ok(())
}

/// The account's argon2id hash, none until a password is set.
pub async fn password_hash(conn: &mut PgConnection, user_id: Uuid) -> Result<Option<String>, sqlx::Error> {
    let hash = sqlx::query_scalar!("SELECT password_hash FROM users WHERE id = $1", user_id)
        .fetch_optional(conn)
        .await?;
    Ok(hash.flatten())
}

/// Replaces the account's password hash, only if it is still `old` (the one the current
/// password was checked against); false when another change came first.
pub async fn replace_password_hash(
    conn: &mut PgConnection,
    user_id: Uuid,
    old: &str,
    new: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE users SET password_hash = $3 WHERE id = $1 AND password_hash = $2",
        user_id,
        old,
        new
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The user's own display name.
pub async fn set_display_name(conn: &mut PgConnection, user_id: Uuid, name: &DisplayName) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE users SET display_name = $2 WHERE id = $1",
        user_id,
        name.as_str()
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The user's own time zone, an IANA name; None is UTC.
pub async fn set_zoneinfo(conn: &mut PgConnection, user_id: Uuid, zone: Option<&str>) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE users SET zoneinfo = $2 WHERE id = $1", user_id, zone)
        .execute(conn)
        .await?;
    Ok(())
}

/// The orgs the user is an active (not suspended) admin of: whose audit logs record what the
/// user does to their own account.
pub async fn administered_org_ids(conn: &mut PgConnection, user_id: Uuid) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT org_id FROM memberships WHERE user_id = $1 AND role = 'admin' AND suspended_at IS NULL
         ORDER BY org_id",
        user_id
    )
    .fetch_all(conn)
    .await
}
