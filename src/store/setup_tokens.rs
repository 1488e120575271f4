//! One-time first-run setup links. Only a SHA-256 of each token is stored.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

pub async fn issue(conn: &mut PgConnection, token_hash: &[u8], expires_at: DateTime<Utc>) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO setup_tokens (id, token_hash, expires_at) VALUES ($1, $2, $3)",
        Uuid::new_v4(),
        token_hash,
        expires_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// True while the token is unused and unexpired (for showing the form; consuming is separate).
pub async fn is_usable(conn: &mut PgConnection, token_hash: &[u8]) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM setup_tokens
                          WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()) AS "usable!""#,
        token_hash
    )
    .fetch_one(conn)
    .await
}

/// Marks the token used. One statement, so of two concurrent submissions exactly one wins.
pub async fn consume(conn: &mut PgConnection, token_hash: &[u8]) -> Result<bool, sqlx::Error> {
    let row = sqlx::query_scalar!(
        "UPDATE setup_tokens SET used_at = now()
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()
         RETURNING id",
        token_hash
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.is_some())
}

/// Holds first-run setup to one transaction at a time until this one ends: two setup links can
/// be live at once (one per start), and only one first admin may result.
pub async fn serialize_setup(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query!("SELECT pg_advisory_xact_lock(hashtext('keyward.setup'))")
        .execute(conn)
        .await?;
    Ok(())
}
