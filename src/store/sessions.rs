//! Console sessions: a row per signed-in browser, found by the SHA-256 of the cookie's id. The
//! idle and absolute timeouts are judged by the database clock, so every instance agrees.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use sqlx::types::ipnet::IpNet;
use uuid::Uuid;

use crate::store::audit::Origin;

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
    /// The user's time zone, an IANA name as they or the user-management API set it.
    pub zoneinfo: Option<String>,
    pub csrf_secret: Vec<u8>,
    pub created_at: DateTime<Utc>,
    /// How the user's own pages name this session (never its id hash).
    pub public_id: Uuid,
}

/// Starts a session for the user, ending at the absolute lifetime, noting the address and
/// user agent it signed in from.
pub async fn create(
    conn: &mut PgConnection,
    id_hash: &[u8],
    user_id: Uuid,
    csrf_secret: &[u8],
    origin: &Origin,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO sessions (id_hash, user_id, csrf_secret, expires_at, ip, user_agent)
         VALUES ($1, $2, $3, now() + make_interval(hours => $4), $5, $6)",
        id_hash,
        user_id,
        csrf_secret,
        ABSOLUTE_HOURS,
        origin.ip.map(IpNet::from),
        origin.user_agent()
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
               SELECT s.id_hash, s.user_id, s.csrf_secret, s.created_at, s.last_seen_at, s.public_id
               FROM sessions s JOIN users u ON u.id = s.user_id
               WHERE s.id_hash = $1 AND s.expires_at > now()
                 AND s.last_seen_at > now() - make_interval(mins => $2)
                 AND u.status = 'active'
           ), touched AS (
               UPDATE sessions SET last_seen_at = now()
               WHERE id_hash = (SELECT id_hash FROM live WHERE last_seen_at < now() - interval '1 minute')
           )
           SELECT live.user_id, u.email, u.display_name, u.locale, u.zoneinfo, live.csrf_secret,
                  live.created_at, live.public_id
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

/// One of a user's live sessions, as their account page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionListing {
    pub public_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
}

/// The user's live sessions, newest sign-in first.
pub async fn list_live(conn: &mut PgConnection, user_id: Uuid) -> Result<Vec<SessionListing>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT public_id, created_at, last_seen_at, ip, user_agent FROM sessions
         WHERE user_id = $1 AND expires_at > now() AND last_seen_at > now() - make_interval(mins => $2)
         ORDER BY created_at DESC, public_id",
        user_id,
        IDLE_MINUTES
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| SessionListing {
            public_id: row.public_id,
            created_at: row.created_at,
            last_seen_at: row.last_seen_at,
            ip: row.ip.map(|net| net.addr()),
            user_agent: row.user_agent,
        })
        .collect())
}

/// Ends every session of the user but the one with `keep` as its id hash; returns how many
/// ended.
pub async fn delete_others(conn: &mut PgConnection, user_id: Uuid, keep: &[u8]) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        "DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2",
        user_id,
        keep
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Ends the user's session named `public_id`, unless it is the one with `keep` as its id hash;
/// false when the user has no such other session (another user's is none of theirs).
pub async fn delete_other(
    conn: &mut PgConnection,
    user_id: Uuid,
    public_id: Uuid,
    keep: &[u8],
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "DELETE FROM sessions WHERE user_id = $1 AND public_id = $2 AND id_hash <> $3",
        user_id,
        public_id,
        keep
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
