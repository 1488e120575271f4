//! Creating and revoking admin API keys: the one path the console, the API and the CLI share,
//! so every key gets its argon2id hash, its scopes and its audit event in one transaction, and
//! every revocation reaches the verification cache before it is reported done.

use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use sqlx::PgPool;
use uuid::Uuid;

use crate::auth::api_key::KeyVerifier;
use crate::auth::argon2id::{self, Argon2Pool};
use crate::domain::api_key::{Expiry, ExpiryError, KeyName};
use crate::domain::policy::{KeyLifetime, PolicyKind};
use crate::domain::token::{KeyToken, TokenError};
use crate::domain::{Action, Scope};
use crate::policies;
use crate::standing::{self, Power, StandingError};
use crate::store;
use crate::store::api_keys::{NewApiKey, Revocation};
use crate::store::audit::{Actor, NewEvent, Origin};

/// A key to create, already parsed.
pub struct KeyRequest {
    pub org_id: Uuid,
    pub name: KeyName,
    /// `None` for an unscoped key.
    pub scopes: Option<Vec<Scope>>,
    /// The database sets the key's creation time and computes its expiry from it.
    pub expiry: Lifetime,
    pub created_by: Actor,
    pub responsible_user_id: Option<Uuid>,
    /// The request that asked for the key, when one did.
    pub origin: Origin,
}

/// How long a new key lives, as its creator asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifetime {
    /// Nothing asked: 30 days, cut to the org's key lifetime policy and to the creating key's
    /// own expiry.
    Default,
    /// As asked; refused when it is past the org's key lifetime policy.
    Asked(Expiry),
}

impl From<Expiry> for Lifetime {
    fn from(expiry: Expiry) -> Lifetime {
        Lifetime::Asked(expiry)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("a scoped key needs at least one scope")]
    NoScopes,
    /// The database refused the expiry (`api_keys_expiry_window`): for the one who asked, a
    /// mistake in the expiry field, never a server error.
    #[error("{0}")]
    Expiry(ExpiryError),
    /// The key asking for the new one was revoked or expired before the new key was written.
    #[error("the creating key is no longer valid")]
    CreatorInvalid,
    /// The person who would answer for the key is not an active admin of the org (suspended,
    /// demoted, removed or disabled) when the key is written.
    #[error("the person who would answer for this key is not an active admin of the organization")]
    NotAdmin,
    /// The new key would expire after the key that creates it.
    #[error("a key may not outlive the key that creates it")]
    OutlivesCreator,
    /// The org's key lifetime policy allows new keys at most this many days.
    #[error("This organization's key lifetime policy allows new keys at most {0} days.")]
    BeyondPolicy(u16),
    /// The single-use form that asked for the key was used before: nothing is created.
    #[error("this form was already used")]
    FormUsed,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("hashing failed: {0}")]
    Hashing(String),
}

/// Creates the key; returns its id and its token, which the caller shows once and forgets.
pub async fn create(pool: &PgPool, argon2: &Argon2Pool, request: &KeyRequest) -> Result<(Uuid, KeyToken), KeyError> {
    create_with_tokens(pool, argon2, request, None, KeyToken::generate).await
}

/// `create`, for a single-use form (the console's): the form token's hash is recorded in the
/// key's own transaction, and a form used before creates nothing (`KeyError::FormUsed`).
pub async fn create_once(
    pool: &PgPool,
    argon2: &Argon2Pool,
    request: &KeyRequest,
    form_token_hash: &[u8],
) -> Result<(Uuid, KeyToken), KeyError> {
    create_with_tokens(pool, argon2, request, Some(form_token_hash), KeyToken::generate).await
}

/// `create`, with new tokens drawn from `new_token` (the operating system's CSPRNG, but for
/// tests that make public ids collide).
async fn create_with_tokens(
    pool: &PgPool,
    argon2: &Argon2Pool,
    request: &KeyRequest,
    form_token_hash: Option<&[u8]>,
    mut new_token: impl FnMut() -> Result<KeyToken, TokenError>,
) -> Result<(Uuid, KeyToken), KeyError> {
    if request.scopes.as_ref().is_some_and(Vec::is_empty) {
        return Err(KeyError::NoScopes);
    }
    // A public id collision is astronomically rare, but costs only a retry.
    for _ in 0..3 {
        let token = new_token().map_err(|e| KeyError::Hashing(e.to_string()))?;
        let secret = token.secret().clone();
        let secret_hash = argon2
            .run(move || argon2id::hash(secret.expose_secret().as_bytes()))
            .await
            .map_err(|e| KeyError::Hashing(e.to_string()))?
            .map_err(|e| KeyError::Hashing(e.to_string()))?;
        let mut tx = pool.begin().await?;
        if let Some(hash) = form_token_hash
            && !store::form_tokens::use_once(&mut tx, hash).await?
        {
            return Err(KeyError::FormUsed);
        }
        // The person who answers for the key is an active admin of the org as it is written,
        // and stays one until the commit: a removal, demotion, suspension or disabling waits
        // for this key and then revokes it, or goes first and this key is refused.
        if let Some(holder) = request.responsible_user_id {
            standing::require_active_admin(&mut tx, request.org_id, holder).await?;
        }
        // A key made by a key: its creator must still be valid as the new key is written, and
        // stays so until the commit; the new key may not outlive it.
        let creator_expires = match request.created_by {
            Actor::Key(creator) => Some(
                store::api_keys::lock_active(&mut tx, creator)
                    .await?
                    .ok_or(KeyError::CreatorInvalid)?,
            ),
            Actor::User(_) | Actor::System => None,
        };
        // The org's lifetime policies are held against change until the key is written.
        let lifetime_rules =
            store::policies::enabled_rules_locked(&mut tx, request.org_id, PolicyKind::KeyLifetime.name()).await?;
        let policy = policies::shortest_lifetime(&lifetime_rules);
        let expiry = resolve(request.expiry, policy, creator_expires, Utc::now());
        let inserted = store::api_keys::insert(
            &mut tx,
            &NewApiKey {
                org_id: request.org_id,
                public_id: token.public_id(),
                name: &request.name,
                scopes: request.scopes.as_deref(),
                secret_hash: &secret_hash,
                created_by: request.created_by,
                responsible_user_id: request.responsible_user_id,
                expiry,
            },
        )
        .await;
        let inserted = match inserted {
            Ok(inserted) => inserted,
            Err(err) if store::violates(&err, "api_keys_public_id_unique") => continue,
            Err(err) if store::violates(&err, "api_keys_expiry_window") => {
                return Err(KeyError::Expiry(ExpiryError::OutOfWindow));
            }
            Err(err) => return Err(err.into()),
        };
        if creator_expires.is_some_and(|creator| inserted.expires_at > creator) {
            return Err(KeyError::OutlivesCreator);
        }
        // Against the database's own creation time, as the expiry window is.
        if let Some(policy) = policy
            && inserted.expires_at > inserted.created_at + chrono::Duration::days(i64::from(policy.max_days()))
        {
            return Err(KeyError::BeyondPolicy(policy.max_days()));
        }
        let scopes: Option<Vec<&str>> = request.scopes.as_ref().map(|s| s.iter().map(|s| s.name()).collect());
        store::audit::record(
            &mut tx,
            NewEvent {
                org_id: Some(request.org_id),
                actor: request.created_by,
                action: Action::ApiKeyCreated,
                target_kind: Some("api_key"),
                target_id: Some(inserted.id.to_string()),
                ip: request.origin.ip,
                user_agent: request.origin.user_agent(),
                details: serde_json::json!({
                    "name": request.name.as_str(),
                    "public_id": token.public_id().as_str(),
                    "scopes": scopes,
                    "expires_at": inserted.expires_at,
                }),
            },
        )
        .await?;
        tx.commit().await?;
        return Ok((inserted.id, token));
    }
    Err(KeyError::Database(sqlx::Error::Protocol(
        "could not find a free public id".into(),
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

/// The expiry a key is created with: what was asked, or the default cut to the org's policy
/// and to the creating key's expiry.
fn resolve(
    asked: Lifetime,
    policy: Option<KeyLifetime>,
    creator_expires: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Expiry {
    let Lifetime::Asked(expiry) = asked else {
        let days = policy.map_or(Expiry::DEFAULT_DAYS, |policy| {
            policy.max_days().min(Expiry::DEFAULT_DAYS)
        });
        return match creator_expires {
            Some(creator) if now + chrono::Duration::days(i64::from(days)) > creator => Expiry::At(creator),
            _ => Expiry::InDays(days),
        };
    };
    expiry
}

/// Revokes a key of the org and records who did it. A calling key must still be valid when the
/// revocation is written (a key revoked while its request waited revokes nothing). When
/// `verifier` is given (a serving instance), its own cache refuses the key before this returns;
/// every other instance hears the database's NOTIFY.
pub async fn revoke(
    pool: &PgPool,
    verifier: Option<&KeyVerifier>,
    org_id: Uuid,
    key_id: Uuid,
    by: Actor,
    origin: &Origin,
) -> Result<Revocation, StandingError> {
    let (outcome, _) = revoke_key(pool, verifier, org_id, key_id, by, origin, Descendants::Keep).await?;
    Ok(outcome)
}

/// Revokes a key of the org and, in the same transaction, every unrevoked key made with it
/// (created through the API with it, or with a key made with it), each with its audit event.
/// Returns the key's outcome and the other keys revoked (their ids and public ids).
pub async fn revoke_with_created(
    pool: &PgPool,
    verifier: Option<&KeyVerifier>,
    org_id: Uuid,
    key_id: Uuid,
    by: Actor,
    origin: &Origin,
) -> Result<(Revocation, Vec<(Uuid, String)>), StandingError> {
    revoke_key(pool, verifier, org_id, key_id, by, origin, Descendants::Revoke).await
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
    org_id: Uuid,
    key_id: Uuid,
    by: Actor,
    origin: &Origin,
    descendants: Descendants,
) -> Result<(Revocation, Vec<(Uuid, String)>), StandingError> {
    // Two keys revoking each other lock their own rows, then wait for each other's: PostgreSQL
    // ends one, which runs again and finds its own key revoked.
    let (outcome, created) = standing::retrying_deadlocks(deadlocked, || async move {
        let mut tx = pool.begin().await?;
        standing::authorize(&mut tx, org_id, by, Power::Change).await?;
        let outcome = store::api_keys::revoke(&mut tx, org_id, key_id, by).await?;
        if let Revocation::Revoked { public_id } = &outcome {
            let details = serde_json::json!({ "public_id": public_id });
            store::audit::record(&mut tx, revocation_event(org_id, by, key_id, origin, details)).await?;
        }
        let created = match descendants {
            Descendants::Revoke => store::api_keys::revoke_descendants(&mut tx, org_id, key_id, by).await?,
            Descendants::Keep => Vec::new(),
        };
        for (child_id, public_id) in &created {
            let details = serde_json::json!({ "public_id": public_id, "created_with": key_id });
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
pub async fn revoke_by_creator(
    pool: &PgPool,
    verifier: Option<&KeyVerifier>,
    org_id: Uuid,
    user_id: Uuid,
    by: Actor,
    origin: &Origin,
) -> Result<Vec<(Uuid, String)>, StandingError> {
    let revoked = standing::retrying_deadlocks(deadlocked, || async move {
        let mut tx = pool.begin().await?;
        standing::authorize(&mut tx, org_id, by, Power::Change).await?;
        // Keys for the person still being written are waited for, and revoked too.
        store::memberships::lock_for_standing_change(&mut tx, user_id).await?;
        let revoked = store::api_keys::revoke_by_responsible(&mut tx, org_id, user_id, by).await?;
        for (key_id, public_id) in &revoked {
            let details = serde_json::json!({ "public_id": public_id, "bulk_for_user": user_id });
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

    #[test]
    fn the_default_is_thirty_days_cut_to_the_policy_and_to_the_creators_expiry() {
        let now = DateTime::<Utc>::from_timestamp_micros(1_790_000_000_000_000).expect("time");
        let days = |n| chrono::Duration::days(n);
        assert_eq!(resolve(Lifetime::Default, None, None, now), Expiry::InDays(30));
        let week = KeyLifetime::from_days(7).expect("lifetime");
        assert_eq!(resolve(Lifetime::Default, Some(week), None, now), Expiry::InDays(7));
        let year = KeyLifetime::from_days(365).expect("lifetime");
        assert_eq!(resolve(Lifetime::Default, Some(year), None, now), Expiry::InDays(30));
        let creator = now + days(30);
        assert_eq!(resolve(Lifetime::Default, None, Some(creator), now), Expiry::InDays(30));
        let sooner = creator - chrono::Duration::microseconds(1);
        assert_eq!(resolve(Lifetime::Default, None, Some(sooner), now), Expiry::At(sooner));
        assert_eq!(
            resolve(Lifetime::Default, Some(week), Some(sooner), now),
            Expiry::InDays(7)
        );
        // What was asked is kept; the policy refuses it after the insert, against the database clock.
        let asked = Expiry::InDays(90);
        assert_eq!(resolve(Lifetime::Asked(asked), Some(week), None, now), asked);
    }

    /// A token whose public id is `public_id`, with a secret of its own.
    fn token_with_public_id(public_id: &str) -> Result<KeyToken, TokenError> {
        let body = format!("kw_{public_id}_{}", "S".repeat(32));
        KeyToken::parse(&format!("{body}{}", checksum(&body)))
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
            org_id: org.id,
            name: KeyName::parse("deploy").expect("name"),
            scopes: None,
            expiry: Expiry::InDays(30).into(),
            created_by: Actor::System,
            responsible_user_id: None,
            origin: Default::default(),
        };
        let (_, existing) = create(&pool, &Argon2Pool::new(1), &request).await.expect("first key");
        let taken = existing.public_id().as_str().to_owned();
        (pool, cluster, request, taken)
    }

    #[tokio::test]
    async fn a_public_id_that_is_taken_costs_a_retry_with_a_new_token() {
        let (pool, _cluster, request, taken) = setup().await;
        let mut tokens = vec![KeyToken::generate(), token_with_public_id(&taken)];
        let (_, token) = create_with_tokens(&pool, &Argon2Pool::new(1), &request, None, || {
            tokens.pop().expect("a token for every attempt")
        })
        .await
        .expect("created on the second attempt");
        assert_ne!(token.public_id().as_str(), taken);
        assert_eq!(count(&pool, "api_keys").await, 2);
        assert_eq!(count(&pool, "audit_events").await, 2, "one creation event per key");
    }

    #[tokio::test]
    async fn only_the_expiry_window_is_reported_as_an_expiry_error() {
        let (pool, _cluster, request, _) = setup().await;
        let no_such_org = KeyRequest {
            org_id: Uuid::new_v4(),
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
        let outcome = create_with_tokens(&pool, &Argon2Pool::new(1), &request, None, || {
            token_with_public_id(&taken)
        })
        .await;
        assert!(matches!(outcome, Err(KeyError::Database(_))));
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
            expiry: Expiry::InDays(7).into(),
            ..request
        };
        (parent, child)
    }

    #[tokio::test]
    async fn a_revoked_key_cannot_create_a_key_and_nothing_is_written() {
        let (pool, _cluster, request, _) = setup().await;
        let (parent, child) = made_by_a_key(&pool, request).await;
        revoke(&pool, None, child.org_id, parent, Actor::System, &Origin::default())
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
        let revocation = store::api_keys::revoke(&mut revoking, child.org_id, parent, Actor::System).await;
        let cancelled = matches!(&revocation, Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("57014"));
        assert!(cancelled, "the revocation waits for the creator's lock: {revocation:?}");
        drop(revoking);
        creating.commit().await.expect("the creation commits");
        let revoked = store::api_keys::revoke(
            &mut pool.acquire().await.expect("connection"),
            child.org_id,
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
            expiry: Expiry::InDays(1).into(),
            ..request
        };
        let (parent, _) = create(&pool, &Argon2Pool::new(1), &short_lived).await.expect("parent");
        let child = KeyRequest {
            created_by: Actor::Key(parent),
            expiry: Expiry::InDays(2).into(),
            ..short_lived
        };
        let outcome = create(&pool, &Argon2Pool::new(1), &child).await;
        assert!(matches!(outcome, Err(KeyError::OutlivesCreator)), "{outcome:?}");
        assert_eq!(count(&pool, "api_keys").await, 2, "the child was not kept");
    }
}
