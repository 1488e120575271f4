//! People who sign in, and their memberships of organizations.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

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

pub async fn find_by_email(conn: &mut PgConnection, email: &Email) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as!(
        User,
        "SELECT id, email, display_name, created_at FROM users WHERE lower(email) = lower($1)",
        email.as_str()
    )
    .fetch_optional(conn)
    .await
}

/// Creates an account with its argon2id password hash. `managed_by_org` is the organization
/// allowed to change the account itself.
pub async fn create(
    conn: &mut PgConnection,
    email: &Email,
    name: &DisplayName,
    password_hash: &str,
    managed_by_org: Option<Uuid>,
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
        managed_by_org
    )
    .fetch_one(conn)
    .await
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
