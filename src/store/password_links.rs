//! One-time set-password links. Only a SHA-256 of each token is stored; a link is valid
//! `LIFETIME_HOURS`, works once, and a newer link for the same person retires the older ones.
//! A link works only while its account is active and still managed by the org that issued it,
//! and while the admin who issued it is still an active admin of that org.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// How long a set-password link stays usable.
pub const LIFETIME_HOURS: i32 = 24;

/// Issues a link for the person, retiring their earlier unused links; returns when it expires.
/// `org_id` is the org managing the account, `issued_by` the admin issuing it (None: the CLI).
pub async fn issue(
    conn: &mut PgConnection,
    user_id: Uuid,
    org_id: Option<Uuid>,
    issued_by: Option<Uuid>,
    token_hash: &[u8],
) -> Result<DateTime<Utc>, sqlx::Error> {
    retire_for_user(conn, user_id).await?;
    sqlx::query_scalar!(
        "INSERT INTO password_links (id, user_id, org_id, issued_by, token_hash, expires_at)
         VALUES ($1, $2, $3, $4, $5, now() + make_interval(hours => $6))
         RETURNING expires_at",
        Uuid::new_v4(),
        user_id,
        org_id,
        issued_by,
        token_hash,
        LIFETIME_HOURS
    )
    .fetch_one(conn)
    .await
}

/// Retires every unused link for the person (a newer link, or the account disabled).
pub async fn retire_for_user(conn: &mut PgConnection, user_id: Uuid) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE password_links SET retired_at = now()
         WHERE user_id = $1 AND used_at IS NULL AND retired_at IS NULL",
        user_id
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// The person a usable link is for: their email, for the form to show.
pub async fn usable(conn: &mut PgConnection, token_hash: &[u8]) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT u.email FROM password_links l JOIN users u ON u.id = l.user_id
         WHERE l.token_hash = $1 AND l.used_at IS NULL AND l.retired_at IS NULL AND l.expires_at > now()
           AND u.status = 'active' AND u.managed_by_org IS NOT DISTINCT FROM l.org_id
           AND (l.issued_by IS NULL OR EXISTS (
                  SELECT 1 FROM memberships m JOIN users i ON i.id = m.user_id
                  WHERE m.org_id = l.org_id AND m.user_id = l.issued_by AND m.role = 'admin'
                    AND m.suspended_at IS NULL AND i.status = 'active'))",
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

/// Uses the link and sets the person's password in one statement, under the same conditions as
/// `usable`, so of two submissions of one link exactly one sets a password. None when the link
/// cannot be used.
pub async fn consume(
    conn: &mut PgConnection,
    token_hash: &[u8],
    password_hash: &str,
) -> Result<Option<Consumed>, sqlx::Error> {
    let row = sqlx::query!(
        r#"WITH link AS (
               UPDATE password_links l SET used_at = now()
               FROM users u
               WHERE l.token_hash = $1 AND l.used_at IS NULL AND l.retired_at IS NULL AND l.expires_at > now()
                 AND u.id = l.user_id AND u.status = 'active' AND u.managed_by_org IS NOT DISTINCT FROM l.org_id
                 AND (l.issued_by IS NULL OR EXISTS (
                        SELECT 1 FROM memberships m JOIN users i ON i.id = m.user_id
                        WHERE m.org_id = l.org_id AND m.user_id = l.issued_by AND m.role = 'admin'
                          AND m.suspended_at IS NULL AND i.status = 'active'))
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
