//! Least privilege: requests are served by a role that owns nothing, so what the triggers
//! guard cannot be switched off through the serving connection, and the app still works.

use std::time::{Duration, Instant};

use keyward::config::{DatabaseArgs, DatabaseUrl};
use keyward::database::Database;
use reqwest::Method;
use sqlx::PgPool;

use crate::harness::{TEST_SERVING_ROLE, TestApp, database_server, fresh_database, init_logs, logs};

/// What the serving role must never be able to do, table by table.
const FORBIDDEN: &[(&str, &str)] = &[
    ("api_keys", "DELETE"),
    ("api_keys", "TRUNCATE"),
    ("api_keys", "UPDATE"),
    ("api_keys", "TRIGGER"),
    ("api_key_scopes", "DELETE"),
    ("api_key_scopes", "TRUNCATE"),
    ("api_key_scopes", "UPDATE"),
    ("api_key_scopes", "TRIGGER"),
    ("audit_events", "DELETE"),
    ("audit_events", "TRUNCATE"),
    ("audit_events", "UPDATE"),
    ("audit_events", "TRIGGER"),
    ("scopes", "INSERT"),
    ("scopes", "DELETE"),
    ("orgs", "DELETE"),
    ("users", "DELETE"),
    ("domains", "TRUNCATE"),
    ("classification_levels", "DELETE"),
    ("classification_levels", "TRUNCATE"),
];

const ALLOWED: &[(&str, &str)] = &[
    ("api_keys", "SELECT"),
    ("api_keys", "INSERT"),
    ("api_key_scopes", "SELECT"),
    ("api_key_scopes", "INSERT"),
    ("audit_events", "SELECT"),
    ("audit_events", "INSERT"),
    ("sessions", "DELETE"),
    ("login_attempts", "UPDATE"),
    ("setup_tokens", "UPDATE"),
    ("server_secrets", "INSERT"),
    ("domains", "DELETE"),
    ("classification_levels", "INSERT"),
];

/// The identity of a key never changes: only last use and revocation are writable.
const FROZEN_KEY_COLUMNS: &[&str] = &[
    "id",
    "org_id",
    "public_id",
    "name",
    "secret_hash",
    "scoped",
    "created_at",
    "expires_at",
    "created_by_kind",
    "created_by_id",
    "responsible_user_id",
    "created_xact",
];

const WRITABLE_KEY_COLUMNS: &[&str] = &[
    "last_used_at",
    "last_used_ip",
    "revoked_at",
    "revoked_by_kind",
    "revoked_by_id",
];

async fn has_table_privilege(pool: &PgPool, table: &str, privilege: &str) -> bool {
    sqlx::query_scalar("SELECT has_table_privilege($1, $2, $3)")
        .bind(TEST_SERVING_ROLE)
        .bind(table)
        .bind(privilege)
        .fetch_one(pool)
        .await
        .expect("has_table_privilege")
}

async fn has_column_update(pool: &PgPool, column: &str) -> bool {
    sqlx::query_scalar("SELECT has_column_privilege($1, 'api_keys', $2, 'UPDATE')")
        .bind(TEST_SERVING_ROLE)
        .bind(column)
        .fetch_one(pool)
        .await
        .expect("has_column_privilege")
}

#[tokio::test]
async fn the_serving_role_holds_only_the_privileges_the_app_uses() {
    let app = TestApp::spawn().await;

    for &(table, privilege) in FORBIDDEN {
        assert!(
            !has_table_privilege(&app.pool, table, privilege).await,
            "{privilege} on {table} must be refused"
        );
    }
    for &(table, privilege) in ALLOWED {
        assert!(
            has_table_privilege(&app.pool, table, privilege).await,
            "{privilege} on {table} is needed"
        );
    }
    for column in FROZEN_KEY_COLUMNS {
        assert!(
            !has_column_update(&app.pool, column).await,
            "UPDATE of api_keys.{column}"
        );
    }
    for column in WRITABLE_KEY_COLUMNS {
        assert!(
            has_column_update(&app.pool, column).await,
            "UPDATE of api_keys.{column}"
        );
    }
    let (superuser, owned, can_create): (bool, i64, bool) = sqlx::query_as(
        "SELECT r.rolsuper,
                (SELECT count(*) FROM pg_class c WHERE pg_has_role(r.oid, c.relowner, 'USAGE')
                   AND c.relnamespace = 'public'::regnamespace),
                has_schema_privilege(r.oid, 'public', 'CREATE')
         FROM pg_roles r WHERE r.rolname = $1",
    )
    .bind(TEST_SERVING_ROLE)
    .fetch_one(&app.pool)
    .await
    .expect("serving role");
    assert!(!superuser, "not a superuser");
    assert_eq!(owned, 0, "owns no table, index or sequence");
    assert!(!can_create, "cannot create objects in schema public");
}

/// Runs `sql` on the app's own (serving) connection and returns the error's code and message.
async fn refused(app: &TestApp, sql: &str) -> (String, String) {
    let err = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&app.app_pool)
        .await
        .expect_err(sql);
    let db = err.as_database_error().unwrap_or_else(|| panic!("{sql}: {err}"));
    (
        db.code().map(|c| c.into_owned()).unwrap_or_default(),
        db.message().to_owned(),
    )
}

#[tokio::test]
async fn the_serving_connection_cannot_switch_the_guards_off() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    app.key(org, None).await;

    let attempts = [
        "SET session_replication_role = replica",
        "ALTER TABLE api_keys DISABLE TRIGGER USER",
        "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update",
        "CREATE OR REPLACE FUNCTION api_keys_guard_update() RETURNS trigger LANGUAGE plpgsql \
         AS $$ BEGIN RETURN NEW; END; $$",
        "DELETE FROM api_keys",
        "TRUNCATE api_key_scopes",
        "UPDATE audit_events SET action = 'forged'",
        "UPDATE api_keys SET expires_at = expires_at + interval '1 day'",
        "CREATE TABLE shadow (id int)",
    ];
    for sql in attempts {
        let (code, message) = refused(&app, sql).await;
        assert_eq!(code, "42501", "{sql}: {message}");
        assert!(
            message.contains("permission denied") || message.contains("must be owner"),
            "{sql}: refused for lack of privilege, not by a trigger: {message}"
        );
    }
    let keys: i64 = sqlx::query_scalar("SELECT count(*) FROM api_keys")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(keys, 1);
}

#[tokio::test]
async fn guarding_triggers_fire_always_whatever_the_replication_role() {
    let app = TestApp::spawn().await;

    let triggers: Vec<(String, String)> = sqlx::query_as(
        "SELECT tgname::text, tgenabled::text FROM pg_trigger
         WHERE NOT tgisinternal AND tgrelid IN ('api_keys'::regclass, 'api_key_scopes'::regclass,
                                                'audit_events'::regclass)
         ORDER BY tgname",
    )
    .fetch_all(&app.pool)
    .await
    .expect("triggers");

    assert_eq!(triggers.len(), 11, "{triggers:?}");
    for (name, enabled) in &triggers {
        assert_eq!(enabled, "A", "{name} is ENABLE ALWAYS");
    }
}

#[tokio::test]
async fn served_through_the_serving_role_keys_work_are_revoked_and_record_their_use() {
    let app = TestApp::spawn().await;
    let serving: String = sqlx::query_scalar("SELECT current_user::text")
        .fetch_one(&app.app_pool)
        .await
        .expect("current_user");
    assert_eq!(serving, TEST_SERVING_ROLE);
    let org = app.org("Acme").await;
    let key = app.key(org, None).await;

    assert_eq!(app.api(Method::GET, "/admin/v1/key", &key.token).await.status(), 200);
    let revoke = format!("/admin/api-access/v1/orgs/{org}/api-keys/revoke/{}", key.id);
    assert_eq!(app.api(Method::PATCH, &revoke, &key.token).await.status(), 204);
    assert_eq!(app.api(Method::GET, "/admin/v1/key", &key.token).await.status(), 401);

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let used: Option<chrono::DateTime<chrono::Utc>> =
            sqlx::query_scalar("SELECT last_used_at FROM api_keys WHERE id = $1")
                .bind(key.id)
                .fetch_one(&app.pool)
                .await
                .expect("last_used_at");
        if used.is_some() {
            break;
        }
        assert!(Instant::now() < deadline, "last use recorded within 30 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let revoked: i64 = sqlx::query_scalar("SELECT count(*) FROM api_keys WHERE revoked_at IS NOT NULL")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(revoked, 1);
}

fn args(url: sqlx::postgres::PgConnectOptions, migrate: Option<sqlx::postgres::PgConnectOptions>) -> DatabaseArgs {
    DatabaseArgs {
        database_url: Some(DatabaseUrl(url)),
        migrate_database_url: migrate.map(DatabaseUrl),
        data_dir: None,
    }
}

#[tokio::test]
async fn serving_as_a_superuser_is_warned_about_once_at_start_and_a_serving_role_is_not() {
    init_logs();
    let server = database_server();
    let (privileged, _owner) = fresh_database().await;
    let (separated, _owner) = fresh_database().await;

    let database = Database::open(&args(server.options(&privileged), None))
        .await
        .expect("opens as the superuser");
    database.close().await;
    let database = Database::open(&args(
        server.serving_options(&separated),
        Some(server.options(&separated)),
    ))
    .await
    .expect("opens as the serving role, migrating as the owner");
    database.close().await;

    let logs = logs();
    let warned = |db: &str| {
        logs.lines()
            .filter(|line| line.contains("WARN") && line.contains("requests are served as role") && line.contains(db))
            .count()
    };
    assert_eq!(warned(&privileged), 1, "one warning for the superuser:\n{logs}");
    assert_eq!(warned(&separated), 0, "none for a role that owns nothing");
}
