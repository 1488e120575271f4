//! A key is no stronger than its holder's standing: what every change checks about who makes
//! it, inside the change's own transaction, whichever door (console, API, command line) it came
//! through.
//!
//! Locks are always taken in one order, so two changes cannot wait for each other: the org's
//! admin memberships (people changes only), then the acting person's `users` row, then the
//! calling key's row, then the row of the person changed.

use std::future::Future;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::actor::Actor;
use crate::domain::{OrgId, UserId};
use crate::store;

/// How much standing a change needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Power {
    /// Any change: a calling key must be unrevoked and unexpired when the change is written,
    /// and stays so until it commits.
    Change,
    /// Minting keys, changing people, changing policies: also, the person the actor answers
    /// for must be an active admin of the org.
    Govern,
}

#[derive(Debug, thiserror::Error)]
pub enum StandingError {
    /// The calling key was revoked or expired before the change was written.
    #[error("the calling key is no longer valid")]
    KeyInvalid,
    /// The person the actor answers for is suspended, demoted, removed or disabled.
    #[error("the person this key answers for is not an active admin of this organization")]
    NotAdmin,
    /// A key may not suspend, restore, remove, re-role or otherwise change its own holder.
    #[error("an API key cannot act on the person it answers for")]
    OwnHolder,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// What `authorize` found out about the actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authorized {
    /// The person the actor answers for: the signed-in user, or a key's responsible person.
    pub holder: Option<Uuid>,
    /// A calling key's expiry (locked against revocation until the commit).
    pub key_expires_at: Option<DateTime<Utc>>,
    key: bool,
}

impl Authorized {
    /// Refuses a key's change to the person it answers for (a person acting on their own
    /// account in the console is a matter for the console's own rules).
    pub fn refuse_own_holder(&self, person: Uuid) -> Result<(), StandingError> {
        if self.key && self.holder == Some(person) {
            return Err(StandingError::OwnHolder);
        }
        Ok(())
    }
}

/// Checks, and locks until the transaction ends, that `actor` may make a change needing
/// `power` in the org.
#[tracing::instrument(skip_all, fields(org_id = %org_id), err(level = "debug"))]
pub async fn authorize(
    conn: &mut PgConnection,
    org_id: Uuid,
    actor: Actor,
    power: Power,
) -> Result<Authorized, StandingError> {
    let holder = match actor {
        Actor::Key(key_id) => store::api_keys::responsible_user(conn, org_id, key_id)
            .await?
            .ok_or(StandingError::KeyInvalid)?,
        Actor::User(user_id) => Some(user_id),
        Actor::System => None,
    };
    if power == Power::Govern
        && let Some(holder) = holder
    {
        require_active_admin(conn, OrgId::from(org_id), UserId::from(holder)).await?;
    }
    let key_expires_at = match actor {
        Actor::Key(key_id) => Some(
            store::api_keys::lock_active(conn, key_id)
                .await?
                .ok_or(StandingError::KeyInvalid)?,
        ),
        Actor::User(_) | Actor::System => None,
    };
    Ok(Authorized {
        holder,
        key_expires_at,
        key: matches!(actor, Actor::Key(_)),
    })
}

/// Locks the person's `users` row against a change of standing, then requires them to be an
/// active admin of the org: the check every key creation makes for the person who answers for
/// the new key.
#[tracing::instrument(skip_all, fields(org_id = %org), err(level = "debug"))]
pub async fn require_active_admin(conn: &mut PgConnection, org: OrgId, user: UserId) -> Result<(), StandingError> {
    // Two statements: the second reads after whatever change the lock waited for committed.
    store::memberships::lock_standing(conn, user.uuid()).await?;
    if !store::memberships::is_active_admin(conn, org.uuid(), user.uuid()).await? {
        return Err(StandingError::NotAdmin);
    }
    Ok(())
}

/// True when PostgreSQL ended the transaction to break a deadlock (SQLSTATE 40P01): two
/// changes locked rows in opposite orders, as two keys revoking each other do. The change that
/// lost can simply run again, and then sees what the other one did.
pub fn is_deadlock(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.code().as_deref() == Some("40P01"))
}

/// Runs a whole transaction again when PostgreSQL broke a deadlock by ending it, at most three
/// times in all; `deadlocked` says which errors are that.
pub async fn retrying_deadlocks<T, E, Fut>(
    deadlocked: impl Fn(&E) -> bool,
    mut attempt: impl FnMut() -> Fut,
) -> Result<T, E>
where
    Fut: Future<Output = Result<T, E>>,
{
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(err) if tries < 3 && deadlocked(&err) => tries += 1,
            outcome => return outcome,
        }
    }
}

/// A deadlock as PostgreSQL reports one (SQLSTATE 40P01), for the tests of every retry.
#[cfg(test)]
pub(crate) fn deadlock_error() -> sqlx::Error {
    #[derive(Debug)]
    struct Deadlock;

    impl std::fmt::Display for Deadlock {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("deadlock detected")
        }
    }

    impl std::error::Error for Deadlock {}

    impl sqlx::error::DatabaseError for Deadlock {
        fn message(&self) -> &str {
            "deadlock detected"
        }

        fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
            Some("40P01".into())
        }

        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }

        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }

        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }

        fn kind(&self) -> sqlx::error::ErrorKind {
            sqlx::error::ErrorKind::Other
        }
    }

    sqlx::Error::Database(Box::new(Deadlock))
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    /// An attempt that fails `deadlocks` times with a deadlock, then with `last`.
    async fn attempts_until(deadlocks: u32, last: Result<u32, &'static str>) -> (Result<u32, &'static str>, u32) {
        let calls = Cell::new(0);
        let outcome = retrying_deadlocks(
            |err: &&str| *err == "deadlock",
            || {
                calls.set(calls.get() + 1);
                let outcome = if calls.get() <= deadlocks {
                    Err("deadlock")
                } else {
                    last
                };
                async move { outcome }
            },
        )
        .await;
        (outcome, calls.get())
    }

    #[tokio::test]
    async fn a_deadlocked_change_runs_again_at_most_three_times_in_all() {
        assert_eq!(attempts_until(0, Ok(7)).await, (Ok(7), 1));
        assert_eq!(
            attempts_until(1, Ok(7)).await,
            (Ok(7), 2),
            "it runs again after a deadlock"
        );
        assert_eq!(attempts_until(2, Ok(7)).await, (Ok(7), 3));
        assert_eq!(
            attempts_until(5, Ok(7)).await,
            (Err("deadlock"), 3),
            "three times in all"
        );
    }

    #[tokio::test]
    async fn any_other_failure_is_not_run_again() {
        assert_eq!(attempts_until(0, Err("refused")).await, (Err("refused"), 1));
        assert_eq!(attempts_until(1, Err("refused")).await, (Err("refused"), 2));
    }

    #[test]
    fn only_postgresql_ending_a_deadlock_is_a_deadlock() {
        assert!(is_deadlock(&deadlock_error()));
        assert!(!is_deadlock(&sqlx::Error::RowNotFound));
        assert!(!is_deadlock(&sqlx::Error::PoolTimedOut));
    }
}
