//! The schema's own guarantees, checked against the database directly: what the triggers and
//! constraints refuse whatever code or person sends the statement.

use std::collections::BTreeSet;

use keyward::domain::Scope;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use uuid::Uuid;

use crate::harness::fresh_database;

async fn org(pool: &PgPool) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query("INSERT INTO orgs (id, name) VALUES ($1, 'Acme')")
        .bind(id)
        .execute(pool)
        .await
        .expect("org");
    id
}

async fn user(pool: &PgPool) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query("INSERT INTO users (id, email, display_name) VALUES ($1, $2, 'Ada')")
        .bind(id)
        .bind(format!("{id}@example.com"))
        .execute(pool)
        .await
        .expect("user");
    id
}

/// Inserts a key created by `creator` that lives `days` days, with the given scopes.
async fn insert_key(
    pool: &PgPool,
    org_id: Uuid,
    creator: Uuid,
    days: i32,
    scopes: &[&str],
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::new_v4();
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO api_keys (id, org_id, public_id, name, scoped, secret_hash, created_by_kind, created_by_id,
                               responsible_user_id, created_at, expires_at)
         VALUES ($1, $2, $3, 'ci', $4, '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', 'user', $5, $5,
                 now(), now() + make_interval(days => $6))",
    )
    .bind(id)
    .bind(org_id)
    .bind(&id.simple().to_string()[..12])
    .bind(!scopes.is_empty())
    .bind(creator)
    .bind(days)
    .execute(&mut *tx)
    .await?;
    for scope in scopes {
        sqlx::query("INSERT INTO api_key_scopes (key_id, scope) VALUES ($1, $2)")
            .bind(id)
            .bind(*scope)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(id)
}

async fn refused(pool: &PgPool, statement: &str, id: Uuid) -> bool {
    sqlx::query(sqlx::AssertSqlSafe(statement.to_owned()))
        .bind(id)
        .execute(pool)
        .await
        .is_err()
}

#[tokio::test]
async fn migrations_apply_to_an_empty_database_and_rerun_as_a_no_op() {
    let (_, pool) = fresh_database().await;
    keyward::store::migrate(&pool)
        .await
        .expect("re-running migrations changes nothing and succeeds");
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(applied as usize, keyward::store::MIGRATOR.iter().count());
}

#[tokio::test]
async fn the_seeded_scope_catalog_equals_the_scope_type() {
    let (_, pool) = fresh_database().await;
    let in_database: BTreeSet<String> = sqlx::query_scalar("SELECT name FROM scopes")
        .fetch_all(&pool)
        .await
        .expect("scopes")
        .into_iter()
        .collect();
    let in_code: BTreeSet<String> = Scope::ALL.iter().map(|s| s.name().to_owned()).collect();
    assert_eq!(in_database, in_code);
}

#[tokio::test]
async fn a_key_may_live_at_most_365_days() {
    let (_, pool) = fresh_database().await;
    let (org_id, creator) = (org(&pool).await, user(&pool).await);
    assert!(insert_key(&pool, org_id, creator, 365, &[]).await.is_ok());
    let err = insert_key(&pool, org_id, creator, 366, &[])
        .await
        .expect_err("366 days is refused");
    assert!(keyward::store::violates(&err, "api_keys_expiry_window"), "{err}");
}

/// Inserts an unscoped key with the given `created_at` and `expires_at` SQL expressions, the
/// way an application with a wrong clock would.
async fn insert_key_at(pool: &PgPool, org_id: Uuid, created_at: &str, expires_at: &str) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::new_v4();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO api_keys (id, org_id, public_id, name, scoped, secret_hash, created_by_kind, created_at, expires_at)
         VALUES ($1, $2, $3, 'ci', false, '$argon2id$x', 'system', {created_at}, {expires_at})"
    )))
    .bind(id)
    .bind(org_id)
    .bind(&id.simple().to_string()[..12])
    .execute(pool)
    .await?;
    Ok(id)
}

#[tokio::test]
async fn a_key_is_created_at_the_database_clock_whatever_the_application_sends() {
    let (_, pool) = fresh_database().await;
    let org_id = org(&pool).await;
    let key = insert_key_at(&pool, org_id, "'2020-01-01T00:00:00Z'", "now() + interval '30 days'")
        .await
        .expect("key");
    let stamped_now: bool =
        sqlx::query_scalar("SELECT created_at BETWEEN now() - interval '1 minute' AND now() + interval '1 minute' FROM api_keys WHERE id = $1")
            .bind(key)
            .fetch_one(&pool)
            .await
            .expect("read");
    assert!(stamped_now, "created_at is the database's time, not 2020");
}

#[tokio::test]
async fn an_expiry_more_than_365_days_after_the_database_clock_is_refused() {
    let (_, pool) = fresh_database().await;
    let org_id = org(&pool).await;
    // An application clock 100 days ahead would keep the key within "a year of created_at".
    let err = insert_key_at(
        &pool,
        org_id,
        "now() + interval '100 days'",
        "now() + interval '400 days'",
    )
    .await
    .expect_err("400 days after the database's now is refused");
    assert!(keyward::store::violates(&err, "api_keys_expiry_window"), "{err}");
    let err = insert_key_at(&pool, org_id, "now() - interval '10 days'", "now() - interval '1 day'")
        .await
        .expect_err("an expiry already past is refused");
    assert!(keyward::store::violates(&err, "api_keys_expiry_window"), "{err}");
}

#[tokio::test]
async fn revocation_is_permanent_and_stamped_by_the_database_clock() {
    let (_, pool) = fresh_database().await;
    let (org_id, creator) = (org(&pool).await, user(&pool).await);
    let key = insert_key(&pool, org_id, creator, 30, &[]).await.expect("key");

    sqlx::query("UPDATE api_keys SET revoked_at = '2000-01-01', revoked_by_kind = 'system' WHERE id = $1")
        .bind(key)
        .execute(&pool)
        .await
        .expect("revoke");
    let revoked_recently: bool =
        sqlx::query_scalar("SELECT revoked_at > now() - interval '1 minute' FROM api_keys WHERE id = $1")
            .bind(key)
            .fetch_one(&pool)
            .await
            .expect("read");
    assert!(
        revoked_recently,
        "revoked_at comes from the database clock, not the statement"
    );

    assert!(
        refused(
            &pool,
            "UPDATE api_keys SET revoked_at = NULL, revoked_by_kind = NULL WHERE id = $1",
            key
        )
        .await
    );
    assert!(
        refused(
            &pool,
            "UPDATE api_keys SET revoked_at = now() - interval '1 day' WHERE id = $1",
            key
        )
        .await
    );
    assert!(
        refused(
            &pool,
            "UPDATE api_keys SET revoked_by_kind = 'user', revoked_by_id = created_by_id WHERE id = $1",
            key
        )
        .await
    );
}

#[tokio::test]
async fn revocation_is_stamped_when_its_statement_runs_not_when_its_transaction_began() {
    let (_, pool) = fresh_database().await;
    let (org_id, creator) = (org(&pool).await, user(&pool).await);
    let key = insert_key(&pool, org_id, creator, 30, &[]).await.expect("key");

    let mut tx = pool.begin().await.expect("tx");
    sqlx::query("SELECT pg_sleep(0.3)")
        .execute(&mut *tx)
        .await
        .expect("a transaction that waited");
    let outcome = keyward::store::api_keys::revoke(&mut tx, org_id, key, keyward::domain::actor::Actor::System)
        .await
        .expect("revoke");
    assert!(matches!(outcome, keyward::store::api_keys::Revocation::Revoked { .. }));
    // now() is the transaction's start.
    let late_enough: bool =
        sqlx::query_scalar("SELECT revoked_at >= now() + interval '250 milliseconds' FROM api_keys WHERE id = $1")
            .bind(key)
            .fetch_one(&mut *tx)
            .await
            .expect("read");
    tx.commit().await.expect("commit");
    assert!(late_enough, "revoked_at is the revoking statement's time");
}

#[tokio::test]
async fn identity_fields_of_a_key_never_change_but_last_use_does() {
    let (_, pool) = fresh_database().await;
    let (org_id, creator) = (org(&pool).await, user(&pool).await);
    let other_org = org(&pool).await;
    let key = insert_key(&pool, org_id, creator, 30, &[]).await.expect("key");
    let changes = [
        "UPDATE api_keys SET secret_hash = '$argon2id$v=19$m=19456,t=2,p=1$b3RoZXI$b3RoZXI' WHERE id = $1".to_owned(),
        format!("UPDATE api_keys SET org_id = '{other_org}' WHERE id = $1"),
        "UPDATE api_keys SET public_id = 'zzzzzzzzzzzz' WHERE id = $1".to_owned(),
        "UPDATE api_keys SET scoped = NOT scoped WHERE id = $1".to_owned(),
        "UPDATE api_keys SET created_at = created_at - interval '1 day' WHERE id = $1".to_owned(),
        "UPDATE api_keys SET expires_at = expires_at + interval '1 day' WHERE id = $1".to_owned(),
    ];
    for change in changes {
        assert!(refused(&pool, &change, key).await, "{change} must be refused");
    }
    sqlx::query("UPDATE api_keys SET last_used_at = now(), last_used_ip = '192.0.2.7' WHERE id = $1")
        .bind(key)
        .execute(&pool)
        .await
        .expect("last use stays writable");
}

#[tokio::test]
async fn keys_are_never_deleted_not_even_through_their_org_or_creator() {
    let (_, pool) = fresh_database().await;
    let (org_id, creator) = (org(&pool).await, user(&pool).await);
    let key = insert_key(&pool, org_id, creator, 30, &["read:orgs:admin"])
        .await
        .expect("key");
    assert!(refused(&pool, "DELETE FROM api_keys WHERE id = $1", key).await);
    assert!(refused(&pool, "DELETE FROM orgs WHERE id = $1", org_id).await);
    assert!(refused(&pool, "DELETE FROM users WHERE id = $1", creator).await);
    assert!(sqlx::query("TRUNCATE api_keys CASCADE").execute(&pool).await.is_err());
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM api_keys")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(left, 1);
}

#[tokio::test]
async fn the_scopes_of_an_existing_key_are_never_written_again() {
    let (_, pool) = fresh_database().await;
    let (org_id, creator) = (org(&pool).await, user(&pool).await);
    let key = insert_key(&pool, org_id, creator, 30, &["read:orgs:admin"])
        .await
        .expect("key");
    let writes = [
        "INSERT INTO api_key_scopes (key_id, scope) VALUES ($1, 'write:keys:admin')",
        "UPDATE api_key_scopes SET scope = 'write:keys:admin' WHERE key_id = $1",
        "DELETE FROM api_key_scopes WHERE key_id = $1",
    ];
    for write in writes {
        assert!(refused(&pool, write, key).await, "{write} must be refused");
    }
    assert!(sqlx::query("TRUNCATE api_key_scopes").execute(&pool).await.is_err());
    // Not even in a transaction that touched the key first (which moves its xmin).
    let mut tx = pool.begin().await.expect("tx");
    sqlx::query("UPDATE api_keys SET last_used_at = now() WHERE id = $1")
        .bind(key)
        .execute(&mut *tx)
        .await
        .expect("touch");
    let sneaked = sqlx::query("INSERT INTO api_key_scopes (key_id, scope) VALUES ($1, 'write:keys:admin')")
        .bind(key)
        .execute(&mut *tx)
        .await;
    assert!(
        sneaked.is_err(),
        "a scope added after the key's own transaction is refused"
    );
    drop(tx);
    let scopes: Vec<String> = sqlx::query_scalar("SELECT scope FROM api_key_scopes WHERE key_id = $1")
        .bind(key)
        .fetch_all(&pool)
        .await
        .expect("scopes");
    assert_eq!(scopes, ["read:orgs:admin"]);
}

#[tokio::test]
async fn a_scoped_key_needs_a_scope_and_an_unscoped_key_takes_none() {
    let (_, pool) = fresh_database().await;
    let (org_id, creator) = (org(&pool).await, user(&pool).await);
    // A scoped key without scopes: refused when the transaction commits.
    let id = Uuid::new_v4();
    let mut tx = pool.begin().await.expect("tx");
    sqlx::query(
        "INSERT INTO api_keys (id, org_id, public_id, name, scoped, secret_hash, created_by_kind, created_at, expires_at)
         VALUES ($1, $2, 'noscopes0001', 'ci', true, '$argon2id$x', 'system', now(), now() + interval '1 day')",
    )
    .bind(id)
    .bind(org_id)
    .execute(&mut *tx)
    .await
    .expect("insert");
    assert!(tx.commit().await.is_err());
    let unscoped = insert_key(&pool, org_id, creator, 30, &[]).await.expect("unscoped key");
    let mut tx = pool.begin().await.expect("tx");
    let late = sqlx::query("INSERT INTO api_key_scopes (key_id, scope) VALUES ($1, 'read:orgs:admin')")
        .bind(unscoped)
        .execute(&mut *tx)
        .await;
    assert!(late.is_err());
}

#[tokio::test]
async fn revoking_a_key_notifies_every_listener_on_commit() {
    let (db_name, pool) = fresh_database().await;
    let (org_id, creator) = (org(&pool).await, user(&pool).await);
    let key = insert_key(&pool, org_id, creator, 30, &[]).await.expect("key");
    let public_id: String = sqlx::query_scalar("SELECT public_id FROM api_keys WHERE id = $1")
        .bind(key)
        .fetch_one(&pool)
        .await
        .expect("id");

    let options = crate::harness::database_server().options(&db_name);
    let listen_pool = PgPool::connect_with(options).await.expect("pool");
    let mut listener = PgListener::connect_with(&listen_pool).await.expect("listener");
    listener.listen("keyward_keys").await.expect("LISTEN");

    sqlx::query("UPDATE api_keys SET revoked_at = now(), revoked_by_kind = 'system' WHERE id = $1")
        .bind(key)
        .execute(&pool)
        .await
        .expect("revoke");
    let notice = tokio::time::timeout(std::time::Duration::from_secs(10), listener.recv())
        .await
        .expect("a notice within 10 s")
        .expect("notice");
    assert_eq!(notice.channel(), "keyward_keys");
    assert_eq!(notice.payload(), public_id);
}

#[tokio::test]
async fn the_audit_log_is_append_only() {
    let (_, pool) = fresh_database().await;
    let id = Uuid::new_v4();
    sqlx::query("INSERT INTO audit_events (id, actor_kind, action) VALUES ($1, 'system', 'test.happened')")
        .bind(id)
        .execute(&pool)
        .await
        .expect("append");
    assert!(
        refused(
            &pool,
            "UPDATE audit_events SET action = 'test.rewritten' WHERE id = $1",
            id
        )
        .await
    );
    assert!(refused(&pool, "DELETE FROM audit_events WHERE id = $1", id).await);
    assert!(sqlx::query("TRUNCATE audit_events").execute(&pool).await.is_err());
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(left, 1);
}

#[tokio::test]
async fn emails_are_unique_whatever_their_case() {
    let (_, pool) = fresh_database().await;
    let insert = |email: &'static str| {
        sqlx::query("INSERT INTO users (id, email, display_name) VALUES ($1, $2, 'Ada')")
            .bind(Uuid::new_v4())
            .bind(email)
            .execute(&pool)
    };
    insert("ada@example.com").await.expect("first");
    let err = insert("ADA@Example.COM").await.expect_err("same address, other case");
    assert!(keyward::store::violates(&err, "users_email_unique"), "{err}");
}
