//! The store: every SQL statement keyward runs lives in this module tree, checked at compile
//! time by sqlx's macros. Functions take a connection or transaction and return domain types.

pub mod api_keys;
pub mod audit;
pub mod classification_levels;
pub mod domains;
pub mod form_tokens;
pub mod invitations;
pub mod keyset;
pub mod login_attempts;
pub mod memberships;
pub mod orgs;
pub mod password_links;
pub mod policies;
pub mod policy_changes;
pub mod roles;
pub mod secrets;
pub mod sessions;
pub mod setup_tokens;
#[cfg(test)]
pub mod test_database;
pub mod timestamps;
pub mod users;

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

/// The migrations in `migrations/`, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A connection idle longer than this is pinged before a request gets it.
const PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(1);

/// Opens the request pool. Acquiring waits at most a few seconds, so a database outage turns
/// into a clear 503 instead of requests piling up.
///
/// The pool pings every connection as it is released, so one that comes back and is reused
/// within a second is known good: only a connection idle longer than that is pinged again
/// before use (a lost server shows up there instead of in the request's query). Pinging on
/// every acquire would cost each request one more round trip to the database.
pub async fn connect(options: PgConnectOptions) -> Result<PgPool, sqlx::Error> {
    PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(3))
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > PING_WHEN_IDLE_FOR {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
        .connect_with(options)
        .await
}

/// Whether the database refused a statement for a value it was sent (SQLSTATE class 22, data
/// exception: a NUL in text, a time or number out of range). Every boundary refuses such input
/// before it gets here; one that did not still answers it as bad input, not as a server error.
pub fn is_data_exception(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .and_then(|db| db.code())
        .is_some_and(|code| code.starts_with("22"))
}

/// What a database error means for the one who asked: the one reading both doors share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The database cannot be reached or cannot serve now (no connection, a connection lost,
    /// the server shutting down or out of resources): retry in a moment, a 503.
    Unavailable,
    /// It refused a value it was sent (`is_data_exception`): the sender's input, a 400.
    BadValue,
    /// Anything else is keyward's own mistake: a 500, logged with its cause.
    Bug,
}

impl Failure {
    pub fn of(err: &sqlx::Error) -> Failure {
        match err {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => {
                Failure::Unavailable
            }
            _ if is_data_exception(err) => Failure::BadValue,
            sqlx::Error::Database(db) => match db.code().as_deref().map(|code| code.split_at(2)) {
                // Connection exception, insufficient resources, operator intervention (shutdown,
                // a cancelled statement), a serialization failure or deadlock that outlived its
                // retries.
                Some(("08" | "53" | "57" | "40", _)) => Failure::Unavailable,
                _ => Failure::Bug,
            },
            _ => Failure::Bug,
        }
    }
}

pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(pool).await
}

/// True when `err` is the violation of the named unique or check constraint, so callers can turn
/// it into an error a person understands.
pub fn violates(err: &sqlx::Error, constraint: &str) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.constraint() == Some(constraint))
}
