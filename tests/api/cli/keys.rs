//! `keyward keys` as an operator runs it against a database: creating a key (its token printed
//! once, 30 days by default, a person or the system answering for it, the year's limit), listing
//! keys without their tokens, revoking one or every key a person answers for, and each refused
//! command exiting 2 with nothing printed and nothing written.

use std::process::{Output, Stdio};

use sqlx::PgPool;

use crate::harness::{add_ada_to_acme, database_server, fresh_database, keyward};

/// A fresh database where `keyward admin add` made Ada an admin of Acme.
struct Acme {
    url: String,
    pool: PgPool,
    org: String,
}

async fn acme() -> Acme {
    let (db_name, pool) = fresh_database().await;
    let url = database_server().url(&db_name);
    let mut add = keyward();
    add.env("DATABASE_URL", &url);
    let org = String::from_utf8_lossy(&add_ada_to_acme(add).stdout).trim().to_owned();
    Acme { url, pool, org }
}

impl Acme {
    /// `keyward <args>` against this database.
    fn run(&self, args: &[&str]) -> Output {
        keyward()
            .args(args)
            .env("DATABASE_URL", &self.url)
            .stdin(Stdio::null())
            .output()
            .expect("keyward")
    }

    /// `keyward keys create --org <acme> --name <name> <more>`, asserting it succeeds; its stdout.
    fn create(&self, name: &str, more: &[&str]) -> String {
        let mut args = vec!["keys", "create", "--org", &self.org, "--name", name];
        args.extend_from_slice(more);
        let created = self.run(&args);
        assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
        String::from_utf8_lossy(&created.stdout).trim().to_owned()
    }

    fn list(&self) -> String {
        String::from_utf8(self.run(&["keys", "list", "--org", &self.org]).stdout).expect("utf-8")
    }

    async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
            .fetch_one(&self.pool)
            .await
            .expect("count")
    }
}

/// The public id of a printed token.
fn public_id(token: &str) -> String {
    token
        .trim_start_matches("kw_")
        .split('_')
        .next()
        .expect("public id")
        .to_owned()
}

const ADAS_CI_KEY: &[&str] = &[
    "--scopes",
    "read:orgs:admin,read:keys:admin",
    "--created-by",
    "ada@example.com",
];

#[tokio::test]
async fn keys_create_prints_the_token_of_a_30_day_key_its_person_answers_for() {
    let acme = acme().await;
    let token = acme.create("ci", ADAS_CI_KEY);
    assert!(token.starts_with("kw_"), "{token}");
    let (days, creator): (f64, Option<String>) = sqlx::query_as(
        "SELECT extract(epoch FROM expires_at - created_at)::float8 / 86400, created_by_kind::text FROM api_keys",
    )
    .fetch_one(&acme.pool)
    .await
    .expect("the key");
    assert_eq!(days.round(), 30.0, "30 days by default");
    assert_eq!(creator.as_deref(), Some("user"));
}

#[tokio::test]
async fn without_created_by_the_system_is_the_keys_actor() {
    let acme = acme().await;
    acme.create("nightly", &["--unscoped", "--expires-in-days", "365"]);
    let actor: String = sqlx::query_scalar(
        "SELECT actor_kind::text FROM audit_events WHERE action = 'api_key.created' AND details->>'name' = 'nightly'",
    )
    .fetch_one(&acme.pool)
    .await
    .expect("audit event");
    assert_eq!(actor, "system", "without --created-by the system is the actor");
}

#[tokio::test]
async fn keys_list_shows_each_key_by_its_public_id_and_never_its_token() {
    let acme = acme().await;
    let token = acme.create("ci", ADAS_CI_KEY);
    acme.create("nightly", &["--unscoped", "--expires-in-days", "365"]);
    let list = acme.list();
    assert!(
        list.contains(&public_id(&token)) && list.contains("\tci\tactive\t") && list.contains("(unscoped)"),
        "{list}"
    );
    assert!(!list.contains(&token));
}

#[tokio::test]
async fn keys_revoke_revokes_a_key_by_its_public_id_and_revoking_again_is_fine() {
    let acme = acme().await;
    let public_id = public_id(&acme.create("ci", ADAS_CI_KEY));
    let revoked = acme.run(&["keys", "revoke", "--org", &acme.org, &public_id]);
    assert!(revoked.status.success(), "{}", String::from_utf8_lossy(&revoked.stderr));
    let list = acme.list();
    assert!(list.contains("\tci\trevoked\t"), "{list}");
    assert!(
        acme.run(&["keys", "revoke", "--org", &acme.org, &public_id])
            .status
            .success(),
        "revoking again is fine"
    );
}

#[tokio::test]
async fn revoking_by_creator_revokes_every_active_key_the_person_answers_for_and_only_those() {
    let acme = acme().await;
    let public_id = public_id(&acme.create("ci", ADAS_CI_KEY));
    acme.create("nightly", &["--unscoped", "--expires-in-days", "365"]);
    assert!(
        acme.run(&["keys", "revoke", "--org", &acme.org, &public_id])
            .status
            .success()
    );
    for name in ["a", "b"] {
        acme.create(name, &["--unscoped", "--created-by", "ada@example.com"]);
    }
    let bulk = acme.run(&["keys", "revoke", "--org", &acme.org, "--created-by", "ada@example.com"]);
    assert!(bulk.status.success(), "{}", String::from_utf8_lossy(&bulk.stderr));
    assert_eq!(
        String::from_utf8_lossy(&bulk.stdout).lines().count(),
        2,
        "the two active ones; ci was revoked already"
    );
    let active: Vec<String> = sqlx::query_scalar("SELECT name FROM api_keys WHERE revoked_at IS NULL")
        .fetch_all(&acme.pool)
        .await
        .expect("active keys");
    assert_eq!(active, ["nightly"], "the system's key is not Ada's");
}

#[tokio::test]
async fn a_suspended_admin_is_made_no_key_from_the_command_line() {
    let acme = acme().await;
    sqlx::query("UPDATE memberships SET suspended_at = now()")
        .execute(&acme.pool)
        .await
        .expect("Ada suspended");
    let keys_before = acme.count("api_keys").await;
    let for_suspended = acme.run(&[
        "keys",
        "create",
        "--org",
        &acme.org,
        "--name",
        "after suspension",
        "--unscoped",
        "--created-by",
        "ada@example.com",
    ]);
    assert_eq!(for_suspended.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&for_suspended.stderr).contains("not an active admin"),
        "{}",
        String::from_utf8_lossy(&for_suspended.stderr)
    );
    assert!(for_suspended.stdout.is_empty());
    assert_eq!(acme.count("api_keys").await, keys_before, "nothing written");
}

#[tokio::test]
async fn each_refused_keys_command_exits_2_prints_nothing_and_writes_nothing() {
    let acme = acme().await;
    let org = acme.org.as_str();
    acme.create("ci", ADAS_CI_KEY);
    let keys_before = acme.count("api_keys").await;
    let unknown_org = uuid::Uuid::new_v4().to_string();
    let create = |more: &[&'static str]| {
        let mut args = vec!["keys", "create", "--org", org, "--name", "x"];
        args.extend_from_slice(more);
        args
    };
    let refused: [Vec<&str>; 9] = [
        vec!["keys", "revoke", "--org", org, "--created-by", "nobody@example.com"],
        vec!["keys", "revoke", "--org", org],
        vec!["keys", "create", "--org", &unknown_org, "--name", "x", "--unscoped"],
        create(&["--scopes", "read:everything:admin"]),
        create(&["--unscoped", "--expires-in-days", "366"]),
        create(&["--unscoped", "--expires-in-days", "0"]),
        create(&["--unscoped", "--created-by", "nobody@example.com"]),
        vec!["keys", "create", "--org", org, "--name", "  ", "--unscoped"],
        vec!["keys", "revoke", "--org", org, "nosuchkey123"],
    ];
    for args in refused {
        let output = acme.run(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?}: nothing on stdout");
    }
    assert_eq!(
        acme.count("api_keys").await,
        keys_before,
        "refused commands wrote nothing"
    );
}

#[tokio::test]
async fn keys_create_refuses_an_expiry_past_a_year_as_a_field_error_and_writes_nothing() {
    let acme = acme().await;
    let events_before = acme.count("audit_events").await;
    let today = chrono::Utc::now().date_naive();
    let past = (today - chrono::Days::new(1)).to_string();
    let over_a_year = (today + chrono::Days::new(400)).to_string();
    let refused = [
        ("--expires-in-days", "400"),
        // Read fine, out of the window: the database's CHECK refuses these.
        ("--expires-at", past.as_str()),
        ("--expires-at", over_a_year.as_str()),
    ];
    for (flag, value) in refused {
        let output = acme.run(&[
            "keys",
            "create",
            "--org",
            &acme.org,
            "--name",
            "x",
            "--unscoped",
            flag,
            value,
        ]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{flag} {value}: {stderr}");
        assert!(output.stdout.is_empty(), "{flag} {value}: nothing on stdout");
        let last = stderr.trim_end().lines().last().unwrap_or_default();
        assert!(
            last.contains(flag) && last.contains("365 days") && !last.contains("database"),
            "{flag} {value}: one line naming the flag: {stderr}"
        );
    }
    let written = (acme.count("api_keys").await, acme.count("audit_events").await);
    assert_eq!(written, (0, events_before), "no key and no audit event");
}

#[tokio::test]
async fn an_expiry_date_is_the_end_of_that_day_utc() {
    let acme = acme().await;
    let in_range = (chrono::Utc::now().date_naive() + chrono::Days::new(100)).to_string();
    acme.create("dated", &["--unscoped", "--expires-at", &in_range]);
    let expires: String =
        sqlx::query_scalar("SELECT to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') FROM api_keys")
            .fetch_one(&acme.pool)
            .await
            .expect("the key");
    assert_eq!(
        expires,
        format!("{in_range} 23:59"),
        "a date is the end of that day, UTC: the key works through it"
    );
}

#[tokio::test]
async fn the_last_allowed_day_works_at_any_hour_ending_the_key_at_the_limit_and_saying_so() {
    let acme = acme().await;
    let last_day = (chrono::Utc::now() + chrono::Duration::days(365))
        .date_naive()
        .to_string();
    let before = chrono::Utc::now();
    let created = acme.run(&[
        "keys",
        "create",
        "--org",
        &acme.org,
        "--name",
        "a year",
        "--unscoped",
        "--expires-at",
        &last_day,
    ]);
    let after = chrono::Utc::now();
    let stderr = String::from_utf8_lossy(&created.stderr);
    assert!(created.status.success(), "{stderr}");
    assert!(stderr.contains("longest this key may live"), "{stderr}");
    let expires: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT expires_at FROM api_keys WHERE name = 'a year'")
            .fetch_one(&acme.pool)
            .await
            .expect("the key");
    assert!(
        expires >= before + chrono::Duration::days(365) && expires <= after + chrono::Duration::days(365),
        "365 days from its creation: {expires}"
    );
}
