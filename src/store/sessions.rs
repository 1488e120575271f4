//! Console sessions: a row per signed-in browser, found by the SHA-256 of the cookie's id. The
//! idle and absolute timeouts are judged by the database clock, so every instance agrees.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// A session is refused once it has been idle this long.
pub const IDLE_MINUTES: i32 = 30;
/// A session ends this long after sign-in, however busy.
pub const ABSOLUTE_HOURS: i32 = 12;

/// A live session, with what every page needs of its user.
#[derive(Debug, Clone)]
pub struct LiveSession {
    pub user_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub locale: Option<String>,
    pub csrf_secret: Vec<u8>,
    pub created_at: DateTime<Utc>,
}

/// Starts a session for the user, ending at the absolute lifetime.
pub async fn create(
    conn: &mut PgConnection,
    id_hash: &[u8],
    user_id: Uuid,
    csrf_secret: &[u8],
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO sessions (id_hash, user_id, csrf_secret, expires_at)
         VALUES ($1, $2, $3, now() + make_interval(hours => $4))",
        id_hash,
        user_id,
        csrf_secret,
        ABSOLUTE_HOURS
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The session, when it is neither idle too long nor past its lifetime and its user is still
/// active. Its last-seen time is moved on at most once a minute, so a busy admin costs no write
/// per request.
pub async fn find_live(conn: &mut PgConnection, id_hash: &[u8]) -> Result<Option<LiveSession>, sqlx::Error> {
    sqlx::query_as!(
        LiveSession,
        r#"WITH live AS (
               SELECT s.id_hash, s.user_id, s.csrf_secret, s.created_at, s.last_seen_at
               FROM sessions s JOIN users u ON u.id = s.user_id
               WHERE s.id_hash = $1 AND s.expires_at > now()
                 AND s.last_seen_at > now() - make_interval(mins => $2)
                 AND u.status = 'active'
           ), touched AS (
               UPDATE sessions SET last_seen_at = now()
               WHERE id_hash = (SELECT id_hash FROM live WHERE last_seen_at < now() - interval '1 minute')
           )
           SELECT live.user_id, u.email, u.display_name, u.locale, live.csrf_secret, live.created_at
           FROM live JOIN users u ON u.id = live.user_id"#,
        id_hash,
        IDLE_MINUTES
    )
    .fetch_optional(conn)
    .await
}

/// Ends one session (sign-out, or the old session of a browser that signs in again).
pub async fn delete(conn: &mut PgConnection, id_hash: &[u8]) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM sessions WHERE id_hash = $1", id_hash)
        .execute(conn)
        .await?;
    Ok(())
}

/// Ends every console session of the account (disabling it, changing its email); returns how
/// many there were. Run it in the transaction that makes the change, so no session outlives it.
pub async fn delete_for_user(conn: &mut PgConnection, user_id: Uuid) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!("DELETE FROM sessions WHERE user_id = $1", user_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// Forgets sessions that can no longer be used, so the table holds only live ones.
pub async fn prune(conn: &mut PgConnection) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        "DELETE FROM sessions WHERE expires_at <= now() OR last_seen_at <= now() - make_interval(mins => $1)",
        IDLE_MINUTES
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}
