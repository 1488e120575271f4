//! Creating and revoking admin API keys: the one path the console, the API and the CLI share,
//! so every key gets its argon2id hash, its scopes and its audit event in one transaction, and
//! every revocation reaches the verification cache before it is reported done.
//!
//! A door parses its request into a `KeyRequest` of domain types; this service re-checks the
//! expiry against the limits in force (`AskedExpiry::settle`) and the scopes against the
//! creating key's (`KeyScopes::granted_by`) under the locks that keep them true to the commit.

use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use sqlx::{Acquire, PgConnection, PgPool};
use uuid::Uuid;

use crate::auth::api_key::KeyVerifier;
use crate::auth::argon2id::{self, Argon2Pool};
use crate::domain::KeyScopes;
use crate::domain::actor::Actor;
use crate::domain::api_key::{AskedExpiry, ExpiryError, KeyName, Limits, Settled};
use crate::domain::audit::KeyRevoked;
use crate::domain::policy::PolicyKind;
use crate::domain::scope::ScopesError;
use crate::domain::token::{KeyToken, TokenError};
use crate::domain::{Action, KeyId, OrgId, UserId};
use crate::service::policies;
use crate::service::standing::{self, Power, StandingError};
use crate::store;
use crate::store::api_keys::{NewApiKey, Revocation};
use crate::store::audit::{NewEvent, Origin};

/// A key to create, already parsed.
pub struct KeyRequest {
    pub org_id: OrgId,
    pub name: KeyName,
    pub scopes: KeyScopes,
    /// Settled against the limits in force as the key is written.
    pub expiry: AskedExpiry,
    pub created_by: Actor,
    /// The person who answers for the key; for a key made by a key, the creating key's, whatever
    /// this says.
    pub responsible_user_id: Option<UserId>,
    /// The request that asked for the key, when one did.
    pub origin: Origin,
}

/// A key just created: its id, its token (shown once, then forgotten) and its expiry.
#[derive(Debug)]
pub struct Created {
    pub id: KeyId,
    pub token: KeyToken,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// What the expiry was cut to, when a bare date's day passed a limit.
    pub settled: Settled,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The scopes asked for are not the creating key's to grant.
    #[error(transparent)]
    Scopes(#[from] ScopesError),
    /// The expiry is past a limit in force, or the database refused it
    /// (`api_keys_expiry_window`): for the one who asked, a mistake in the expiry field, never
    /// a server error.
    #[error(transparent)]
    Expiry(#[from] ExpiryError),
    /// The key asking for the new one was revoked or expired before the new key was written.
    #[error("the creating key is no longer valid")]
    CreatorInvalid,
    /// The person who would answer for the key is not an active admin of the org (suspended,
    /// demoted, removed or disabled) when the key is written.
    #[error("the person who would answer for this key is not an active admin of the organization")]
    NotAdmin,
    /// Three public ids in a row were taken: the token source is broken.
    #[error("no free public id after three tries")]
    NoFreePublicId,
    #[error("database")]
    Database(#[from] sqlx::Error),
    #[error("hashing the key's secret")]
    Hashing(#[source] anyhow::Error),
}

/// A new token and its argon2id hash, made before any transaction opens: hashing takes tens of
/// milliseconds a key, and no database connection waits for it.
pub struct Minted {
    token: KeyToken,
    secret_hash: String,
}

impl Minted {
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn new(argon2: &Argon2Pool) -> Result<Minted, KeyError> {
        Minted::from_token(argon2, KeyToken::generate()).await
    }

    async fn from_token(argon2: &Argon2Pool, token: Result<KeyToken, TokenError>) -> Result<Minted, KeyError> {
        let token = token.map_err(|e| KeyError::Hashing(e.into()))?;
        let secret = token.secret().clone();
        let secret_hash = argon2
            .run(move || argon2id::hash(secret.expose_secret().as_bytes()))
            .await
            .map_err(|e| KeyError::Hashing(e.into()))?
            .map_err(|e| KeyError::Hashing(anyhow::anyhow!("{e}")))?;
        Ok(Minted { token, secret_hash })
    }
}

/// The limits a new key of the org meets as of now, read without a lock: for a form that shows
/// them. `create` reads them again under its locks.
#[tracing::instrument(skip_all, fields(org_id = %org), err(level = "debug"))]
pub async fn limits(pool: &PgPool, org: OrgId, created_by: Actor) -> Result<Limits, sqlx::Error> {
    let org_id = org.uuid();
    let mut conn = pool.acquire().await?;
    let rules = store::policies::enabled_rules(&mut conn, org_id, PolicyKind::KeyLifetime.name()).await?;
    let creator_expires = match created_by {
        Actor::Key(key) => store::api_keys::get(&mut conn, org_id, key)
            .await?
            .map(|key| key.expires_at),
        Actor::User(_) | Actor::System => None,
    };
    Ok(Limits {
        policy_days: policies::shortest_lifetime(&rules).map(|l| l.max_days()),
        creator_expires,
    })
}

/// Creates the key in its own transaction.
#[tracing::instrument(skip_all, fields(org_id = %request.org_id), err(level = "debug"))]
pub async fn create(pool: &PgPool, argon2: &Argon2Pool, request: &KeyRequest) -> Result<Created, KeyError> {
    let minted = Minted::new(argon2).await?;
    let mut tx = pool.begin().await?;
    let created = create_in(&mut tx, argon2, request, minted, KeyToken::generate).await?;
    tx.commit().await?;
    Ok(created)
}

/// Creates the key inside the caller's transaction (the console's, which has used its single-use
/// form token in it), with `minted`'s token; commits nothing.
#[tracing::instrument(skip_all, fields(org_id = %request.org_id), err(level = "debug"))]
pub async fn create_with(
    conn: &mut PgConnection,
    argon2: &Argon2Pool,
    request: &KeyRequest,
    minted: Minted,
) -> Result<Created, KeyError> {
    create_in(conn, argon2, request, minted, KeyToken::generate).await
}

/// `create_with`, with any new token after a taken public id drawn from `new_token` (the
/// operating system's CSPRNG, but for tests that make public ids collide).
async fn create_in(
    conn: &mut PgConnection,
    argon2: &Argon2Pool,
    request: &KeyRequest,
    mut minted: Minted,
    mut new_token: impl FnMut() -> Result<KeyToken, TokenError>,
) -> Result<Created, KeyError> {
    // A key made by a key answers to the person the creating key answers for (read without a
    // lock: it never changes after insert).
    let creator = match request.created_by {
        Actor::Key(creator) => Some(
            store::api_keys::get(conn, request.org_id.uuid(), creator)
                .await?
                .ok_or(KeyError::CreatorInvalid)?,
        ),
        Actor::User(_) | Actor::System => None,
    };
    let responsible = creator.as_ref().map_or(request.responsible_user_id, |creator| {
        creator.responsible_user_id.map(UserId::from)
    });
    // The person who answers for the key is an active admin of the org as it is written,
    // and stays one until the commit: a removal, demotion, suspension or disabling waits
    // for this key and then revokes it, or goes first and this key is refused.
    if let Some(holder) = responsible {
        standing::require_active_admin(conn, request.org_id, holder).await?;
    }
    // A key made by a key: its creator must still be valid as the new key is written, and
    // stays so until the commit; the new key may not outlive it nor hold more than it.
    let creator_expires = match &creator {
        Some(creator) => {
            let expires = store::api_keys::lock_active(conn, creator.id)
                .await?
                .ok_or(KeyError::CreatorInvalid)?;
            request.scopes.granted_by(&creator.scopes)?;
            Some(expires)
        }
        None => None,
    };
    // The org's lifetime policies are held against change until the key is written.
    let lifetime_rules =
        store::policies::enabled_rules_locked(conn, request.org_id.uuid(), PolicyKind::KeyLifetime.name()).await?;
    let limits = Limits {
        policy_days: policies::shortest_lifetime(&lifetime_rules).map(|l| l.max_days()),
        creator_expires,
    };
    let settled = request.expiry.settle(&limits, Utc::now())?;
    // A public id collision is astronomically rare, but costs only a retry, inside a savepoint
    // so the transaction survives it; whatever else fails rolls the savepoint back too.
    for attempt in 0..3 {
        if attempt > 0 {
            minted = Minted::from_token(argon2, new_token()).await?;
        }
        let mut savepoint = conn.begin().await?;
        let written = write_key(
            &mut savepoint,
            request,
            &minted,
            responsible,
            &limits,
            creator_expires,
            &settled,
        )
        .await;
        match written {
            Ok(Some((id, created_at, expires_at))) => {
                savepoint.commit().await?;
                return Ok(Created {
                    id,
                    token: minted.token,
                    created_at,
                    expires_at,
                    settled,
                });
            }
            Ok(None) => savepoint.rollback().await?,
            Err(err) => {
                // The original error says more than a failed rollback on the same connection.
                let _ = savepoint.rollback().await;
                return Err(err);
            }
        }
    }
    Err(KeyError::NoFreePublicId)
}

/// Inserts the key with `minted`'s token and records its creation: `None` when the public id is
/// taken. Checks the expiry the database wrote against its own creation time, as the expiry
/// window is, and against the creating key's.
async fn write_key(
    conn: &mut PgConnection,
    request: &KeyRequest,
    minted: &Minted,
    responsible: Option<UserId>,
    limits: &Limits,
    creator_expires: Option<DateTime<Utc>>,
    settled: &Settled,
) -> Result<Option<(KeyId, DateTime<Utc>, DateTime<Utc>)>, KeyError> {
    let inserted = store::api_keys::insert(
        conn,
        &NewApiKey {
            org_id: request.org_id.uuid(),
            public_id: minted.token.public_id(),
            name: &request.name,
            scopes: &request.scopes,
            secret_hash: &minted.secret_hash,
            created_by: request.created_by,
            responsible_user_id: responsible.map(UserId::uuid),
            expiry: settled.expiry,
        },
    )
    .await;
    let inserted = match inserted {
        Ok(inserted) => inserted,
        Err(err) if store::violates(&err, "api_keys_public_id_unique") => return Ok(None),
        Err(err) if store::violates(&err, "api_keys_expiry_window") => {
            return Err(KeyError::Expiry(ExpiryError::OutOfWindow));
        }
        Err(err) => return Err(err.into()),
    };
    if let Some(days) = limits.policy_days
        && inserted.expires_at > inserted.created_at + chrono::Duration::days(i64::from(days))
    {
        return Err(KeyError::Expiry(ExpiryError::BeyondPolicy(days)));
    }
    if let Some(creator) = creator_expires
        && inserted.expires_at > creator
    {
        return Err(KeyError::Expiry(ExpiryError::OutlivesCreator(creator)));
    }
    store::audit::record(
        conn,
        NewEvent {
            org_id: Some(request.org_id.uuid()),
            actor: request.created_by,
            action: Action::ApiKeyCreated,
            target_kind: Some("api_key"),
            target_id: Some(inserted.id.to_string()),
            ip: request.origin.ip,
            user_agent: request.origin.user_agent(),
            details: serde_json::json!({
                "name": request.name.as_str(),
                "public_id": minted.token.public_id().as_str(),
                "scopes": request.scopes.listed().map(|s| s.iter().map(|s| s.name()).collect::<Vec<_>>()),
                "expires_at": inserted.expires_at,
            }),
        },
    )
    .await?;
    Ok(Some((
        KeyId::from(inserted.id),
        inserted.created_at,
        inserted.expires_at,
    )))
}

impl From<StandingError> for KeyError {
    fn from(err: StandingError) -> KeyError {
        match err {
            StandingError::KeyInvalid => KeyError::CreatorInvalid,
            StandingError::NotAdmin | StandingError::OwnHolder => KeyError::NotAdmin,
            StandingError::Database(db) => KeyError::Database(db),
        }
    }
}

/// Revokes a key of the org and records who did it. A calling key must still be valid when the
/// revocation is written (a key revoked while its request waited revokes nothing). When
/// `verifier` is given (a serving instance), its own cache refuses the key before this returns;
/// every other instance hears the database's NOTIFY.
#[tracing::instrument(skip_all, fields(org_id = %org), err(level = "debug"))]
pub async fn revoke(
    pool: &PgPool,
    verifier: Option<&KeyVerifier>,
    org: OrgId,
    key: KeyId,
    by: Actor,
    origin: &Origin,
) -> Result<Revocation, StandingError> {
    let (outcome, _) = revoke_key(pool, verifier, org, key, by, origin, Descendants::Keep).await?;
    Ok(outcome)
}

/// Revokes a key of the org and, in the same transaction, every unrevoked key made with it
/// (created through the API with it, or with a key made with it), each with its audit event.
/// Returns the key's outcome and the other keys revoked (their ids and public ids).
#[tracing::instrument(skip_all, fields(org_id = %org), err(level = "debug"))]
pub async fn revoke_with_created(
    pool: &PgPool,
    verifier: Option<&KeyVerifier>,
    org: OrgId,
    key: KeyId,
    by: Actor,
    origin: &Origin,
) -> Result<(Revocation, Vec<(Uuid, String)>), StandingError> {
    revoke_key(pool, verifier, org, key, by, origin, Descendants::Revoke).await
}

/// Whether revoking a key also revokes the keys made with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Descendants {
    Keep,
    Revoke,
}

async fn revoke_key(
    pool: &PgPool,
    verifier: Option<&KeyVerifier>,
    org: OrgId,
    key: KeyId,
    by: Actor,
    origin: &Origin,
    descendants: Descendants,
) -> Result<(Revocation, Vec<(Uuid, String)>), StandingError> {
    let (org_id, key_id) = (org.uuid(), key.uuid());
    // Two keys revoking each other lock their own rows, then wait for each other's: PostgreSQL
    // ends one, which runs again and finds its own key revoked.
    let (outcome, created) = standing::retrying_deadlocks(deadlocked, || async move {
        let mut tx = pool.begin().await?;
        standing::authorize(&mut tx, org_id, by, Power::Change).await?;
        let outcome = store::api_keys::revoke(&mut tx, org_id, key_id, by).await?;
        if let Revocation::Revoked { public_id } = &outcome {
            let details = KeyRevoked {
                public_id,
                created_with: None,
                bulk_for_user: None,
                reason: None,
            }
            .json();
            store::audit::record(&mut tx, revocation_event(org_id, by, key_id, origin, details)).await?;
        }
        let created = match descendants {
            Descendants::Revoke => store::api_keys::revoke_descendants(&mut tx, org_id, key_id, by).await?,
            Descendants::Keep => Vec::new(),
        };
        for (child_id, public_id) in &created {
            let details = KeyRevoked {
                public_id,
                created_with: Some(key_id),
                bulk_for_user: None,
                reason: None,
            }
            .json();
            store::audit::record(&mut tx, revocation_event(org_id, by, *child_id, origin, details)).await?;
        }
        tx.commit().await?;
        Ok((outcome, created))
    })
    .await?;
    if let Some(verifier) = verifier {
        if let Revocation::Revoked { public_id } = &outcome {
            verifier.mark_revoked(public_id);
        }
        for (_, public_id) in &created {
            verifier.mark_revoked(public_id);
        }
    }
    Ok((outcome, created))
}

fn deadlocked(err: &StandingError) -> bool {
    matches!(err, StandingError::Database(db) if standing::is_deadlock(db))
}

/// Offboarding: revokes every active key of the org that `user_id` is answerable for (keys they
/// created, and keys created through the API with their keys), each with its audit event.
/// Returns the revoked keys' ids and public ids.
#[tracing::instrument(skip_all, fields(org_id = %org), err(level = "debug"))]
pub async fn revoke_by_creator(
    pool: &PgPool,
    verifier: Option<&KeyVerifier>,
    org: OrgId,
    user: UserId,
    by: Actor,
    origin: &Origin,
) -> Result<Vec<(Uuid, String)>, StandingError> {
    let (org_id, user_id) = (org.uuid(), user.uuid());
    let revoked = standing::retrying_deadlocks(deadlocked, || async move {
        let mut tx = pool.begin().await?;
        standing::authorize(&mut tx, org_id, by, Power::Change).await?;
        // Keys for the person still being written are waited for, and revoked too.
        store::memberships::lock_for_standing_change(&mut tx, user_id).await?;
        let revoked = store::api_keys::revoke_by_responsible(&mut tx, org_id, user_id, by).await?;
        for (key_id, public_id) in &revoked {
            let details = KeyRevoked {
                public_id,
                created_with: None,
                bulk_for_user: Some(user_id),
                reason: None,
            }
            .json();
            store::audit::record(&mut tx, revocation_event(org_id, by, *key_id, origin, details)).await?;
        }
        tx.commit().await?;
        Ok(revoked)
    })
    .await?;
    if let Some(verifier) = verifier {
        for (_, public_id) in &revoked {
            verifier.mark_revoked(public_id);
        }
    }
    Ok(revoked)
}

/// The audit event of one key's revocation.
fn revocation_event<'a>(
    org_id: Uuid,
    by: Actor,
    key_id: Uuid,
    origin: &'a Origin,
    details: serde_json::Value,
) -> NewEvent<'a> {
    NewEvent {
        org_id: Some(org_id),
        actor: by,
        action: Action::ApiKeyRevoked,
        target_kind: Some("api_key"),
        target_id: Some(key_id.to_string()),
        ip: origin.ip,
        user_agent: origin.user_agent(),
        details,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::OrgName;
    use crate::domain::token::checksum;
    use crate::store::test_database::database;

    /// A token whose public id is `public_id`, with a secret of its own.
    fn token_with_public_id(public_id: &str) -> Result<KeyToken, TokenError> {
        let body = format!("kw_{public_id}_{}", "S".repeat(32));
        KeyToken::parse(&format!("{body}{}", checksum(&body)))
    }

    /// Creates the key with a first token whose public id is `taken`, then the `next` ones.
    async fn create_colliding(
        pool: &PgPool,
        request: &KeyRequest,
        taken: &str,
        mut next: Vec<KeyToken>,
    ) -> Result<Created, KeyError> {
        let argon2 = Argon2Pool::new(1);
        let minted = Minted::from_token(&argon2, token_with_public_id(taken)).await?;
        let mut tx = pool.begin().await?;
        let created = create_in(&mut tx, &argon2, request, minted, || {
            Ok(next.pop().expect("a token for every attempt"))
        })
        .await?;
        tx.commit().await?;
        Ok(created)
    }

    async fn count(pool: &PgPool, table: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
            .fetch_one(pool)
            .await
            .expect("count")
    }

    async fn setup() -> (PgPool, Option<crate::pg_embedded::PrivateCluster>, KeyRequest, String) {
        let (pool, cluster) = database().await;
        let mut conn = pool.acquire().await.expect("connection");
        let org = store::orgs::create(&mut conn, &OrgName::parse("Acme").expect("name"))
            .await
            .expect("org");
        let request = KeyRequest {
            org_id: OrgId::from(org.id),
            name: KeyName::parse("deploy").expect("name"),
            scopes: KeyScopes::Unscoped,
            expiry: AskedExpiry::InDays(30),
            created_by: Actor::System,
            responsible_user_id: None,
            origin: Default::default(),
        };
        let existing = create(&pool, &Argon2Pool::new(1), &request).await.expect("first key");
        let taken = existing.token.public_id().as_str().to_owned();
        (pool, cluster, request, taken)
    }

    #[tokio::test]
    async fn a_public_id_that_is_taken_costs_a_retry_with_a_new_token() {
        let (pool, _cluster, request, taken) = setup().await;
        let created = create_colliding(&pool, &request, &taken, vec![KeyToken::generate().expect("token")])
            .await
            .expect("created on the second attempt");
        assert_ne!(created.token.public_id().as_str(), taken);
        assert_eq!(count(&pool, "api_keys").await, 2);
        assert_eq!(count(&pool, "audit_events").await, 2, "one creation event per key");
    }

    #[tokio::test]
    async fn only_the_expiry_window_is_reported_as_an_expiry_error() {
        let (pool, _cluster, request, _) = setup().await;
        let no_such_org = KeyRequest {
            org_id: OrgId::from(Uuid::new_v4()),
            ..request
        };
        let outcome = create(&pool, &Argon2Pool::new(1), &no_such_org).await;
        assert!(
            matches!(outcome, Err(KeyError::Database(_))),
            "another refusal of the database stays a database error: {outcome:?}"
        );
    }

    #[tokio::test]
    async fn three_taken_public_ids_in_a_row_give_up_and_write_nothing() {
        let (pool, _cluster, request, taken) = setup().await;
        let again = (0..2)
            .map(|_| token_with_public_id(&taken))
            .collect::<Result<Vec<_>, _>>();
        let outcome = create_colliding(&pool, &request, &taken, again.expect("tokens")).await;
        assert!(matches!(outcome, Err(KeyError::NoFreePublicId)), "{outcome:?}");
        assert_eq!(count(&pool, "api_keys").await, 1);
        assert_eq!(count(&pool, "audit_events").await, 1);
    }

    /// The key `setup` made, as the creator of a new one.
    async fn made_by_a_key(pool: &PgPool, request: KeyRequest) -> (Uuid, KeyRequest) {
        let parent: Uuid = sqlx::query_scalar("SELECT id FROM api_keys LIMIT 1")
            .fetch_one(pool)
            .await
            .expect("the first key");
        let child = KeyRequest {
            created_by: Actor::Key(parent),
            expiry: AskedExpiry::InDays(7),
            ..request
        };
        (parent, child)
    }

    #[tokio::test]
    async fn a_revoked_key_cannot_create_a_key_and_nothing_is_written() {
        let (pool, _cluster, request, _) = setup().await;
        let (parent, child) = made_by_a_key(&pool, request).await;
        revoke(
            &pool,
            None,
            child.org_id,
            KeyId::from(parent),
            Actor::System,
            &Origin::default(),
        )
        .await
        .expect("revoked");
        let outcome = create(&pool, &Argon2Pool::new(1), &child).await;
        assert!(matches!(outcome, Err(KeyError::CreatorInvalid)), "{outcome:?}");
        assert_eq!(count(&pool, "api_keys").await, 1);
    }

    #[tokio::test]
    async fn a_creating_key_cannot_be_revoked_until_its_new_key_is_written() {
        let (pool, _cluster, request, _) = setup().await;
        let (parent, child) = made_by_a_key(&pool, request).await;
        let mut creating = pool.begin().await.expect("transaction");
        store::api_keys::lock_active(&mut creating, parent)
            .await
            .expect("lock")
            .expect("the creator is active");
        // A revocation arriving meanwhile waits for the creation's commit, here until its
        // statement timeout.
        let mut revoking = pool.begin().await.expect("transaction");
        sqlx::query("SET LOCAL statement_timeout = '300ms'")
            .execute(&mut *revoking)
            .await
            .expect("timeout");
        let revocation = store::api_keys::revoke(&mut revoking, child.org_id.uuid(), parent, Actor::System).await;
        let cancelled = matches!(&revocation, Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("57014"));
        assert!(cancelled, "the revocation waits for the creator's lock: {revocation:?}");
        drop(revoking);
        creating.commit().await.expect("the creation commits");
        let revoked = store::api_keys::revoke(
            &mut pool.acquire().await.expect("connection"),
            child.org_id.uuid(),
            parent,
            Actor::System,
        )
        .await
        .expect("revoked once the creation is done");
        assert!(matches!(revoked, Revocation::Revoked { .. }), "{revoked:?}");
    }

    #[tokio::test]
    async fn a_key_made_by_a_key_never_outlives_it() {
        let (pool, _cluster, request, _) = setup().await;
        let short_lived = KeyRequest {
            expiry: AskedExpiry::InDays(1),
            ..request
        };
        let parent = create(&pool, &Argon2Pool::new(1), &short_lived)
            .await
            .expect("parent")
            .id
            .uuid();
        let child = KeyRequest {
            created_by: Actor::Key(parent),
            expiry: AskedExpiry::InDays(2),
            ..short_lived
        };
        let outcome = create(&pool, &Argon2Pool::new(1), &child).await;
        assert!(
            matches!(outcome, Err(KeyError::Expiry(ExpiryError::OutlivesCreator(_)))),
            "{outcome:?}"
        );
        assert_eq!(count(&pool, "api_keys").await, 2, "the child was not kept");
    }
}
