//! One-time set-password links. Only a SHA-256 of each token is stored; a link is valid
//! `LIFETIME_HOURS`, works once, and a newer link for the same person retires the older ones.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// How long a set-password link stays usable.
pub const LIFETIME_HOURS: i32 = 24;

/// Issues a link for the person, retiring their earlier unused links; returns when it expires.
pub async fn issue(
    conn: &mut PgConnection,
    user_id: Uuid,
    org_id: Option<Uuid>,
    token_hash: &[u8],
) -> Result<DateTime<Utc>, sqlx::Error> {
    sqlx::query!(
        "UPDATE password_links SET used_at = now() WHERE user_id = $1 AND used_at IS NULL",
        user_id
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query_scalar!(
        "INSERT INTO password_links (id, user_id, org_id, token_hash, expires_at)
         VALUES ($1, $2, $3, $4, now() + make_interval(hours => $5))
         RETURNING expires_at",
        Uuid::new_v4(),
        user_id,
        org_id,
        token_hash,
        LIFETIME_HOURS
    )
    .fetch_one(conn)
    .await
}

/// The person a usable link is for: their email, for the form to show.
pub async fn usable(conn: &mut PgConnection, token_hash: &[u8]) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT u.email FROM password_links l JOIN users u ON u.id = l.user_id
         WHERE l.token_hash = $1 AND l.used_at IS NULL AND l.expires_at > now() AND u.status = 'active'",
        token_hash
    )
    .fetch_optional(conn)
    .await
}

/// Whom a consumed link was for, and the org that issued it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Consumed {
    pub user_id: Uuid,
    pub org_id: Option<Uuid>,
}

/// Uses the link and sets the person's password in one statement, so of two submissions of one
/// link exactly one sets a password. None when the link is unknown, used, expired, or its
/// account disabled.
pub async fn consume(
    conn: &mut PgConnection,
    token_hash: &[u8],
    password_hash: &str,
) -> Result<Option<Consumed>, sqlx::Error> {
    let row = sqlx::query!(
        r#"WITH link AS (
               UPDATE password_links l SET used_at = now()
               FROM users u
               WHERE l.token_hash = $1 AND l.used_at IS NULL AND l.expires_at > now()
                 AND u.id = l.user_id AND u.status = 'active'
               RETURNING l.user_id, l.org_id
           ), account AS (
               UPDATE users SET password_hash = $2 WHERE id = (SELECT user_id FROM link)
           )
           SELECT user_id AS "user_id!", org_id FROM link"#,
        token_hash,
        password_hash
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| Consumed {
        user_id: r.user_id,
        org_id: r.org_id,
    }))
}
