//! An unmodified third-party client for Atlassian's admin APIs against a running keyward: the
//! atlassian-python-api package's cloud_admin module, driven by tests/atlassian_client/run.py.
//! The package lives in a virtual environment outside the crate's dependencies: the python of
//! `KEYWARD_PYTHON`, by default `.venv-client/bin/python` at the repository root (CI creates
//! it). Without it the test says so loudly and passes, except under `CI=true`, where it fails.

use std::path::{Path, PathBuf};

use keyward::domain::actor::Actor;
use keyward::domain::api_key::KeyName;

use crate::harness::TestApp;

/// The client's python, or why there is none.
async fn client_python() -> Result<PathBuf, String> {
    let python = match std::env::var_os("KEYWARD_PYTHON") {
        Some(python) => PathBuf::from(python),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv-client/bin/python"),
    };
    if !python.exists() {
        return Err(format!("{} does not exist", python.display()));
    }
    let probe = tokio::process::Command::new(&python)
        .args([
            "-c",
            "from atlassian.cloud_admin import CloudAdmin, CloudAdminOrgs, CloudAdminUsers",
        ])
        .output()
        .await
        .map_err(|e| format!("{} cannot run: {e}", python.display()))?;
    if !probe.status.success() {
        return Err(format!(
            "{} has no atlassian-python-api: {}",
            python.display(),
            String::from_utf8_lossy(&probe.stderr).trim()
        ));
    }
    Ok(python)
}

/// A person of the org, managed by it, with the given role.
async fn person(app: &TestApp, org: uuid::Uuid, name: &str, email: &str, role: &str) -> uuid::Uuid {
    let id = uuid::Uuid::new_v4();
    sqlx::query("INSERT INTO users (id, email, display_name, managed_by_org) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(email)
        .bind(name)
        .bind(org)
        .execute(&app.pool)
        .await
        .expect("user");
    sqlx::query("INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, $3::membership_role)")
        .bind(org)
        .bind(id)
        .bind(role)
        .execute(&app.pool)
        .await
        .expect("membership");
    id
}

#[tokio::test]
async fn the_atlassian_python_client_lists_reads_suspends_and_restores_unmodified() {
    let python = match client_python().await {
        Ok(python) => python,
        Err(why) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI needs the atlassian-python-api client: {why}")
        }
        Err(why) => {
            eprintln!(
                "\n!!! SKIPPED the_atlassian_python_client_lists_reads_suspends_and_restores_unmodified: {why}.\n\
                 !!! Create it: python3 -m venv .venv-client && .venv-client/bin/pip install atlassian-python-api==5.0.5\n"
            );
            return;
        }
    };
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let ada = person(&app, org, "Ada Lovelace", "ada@example.com", "admin").await;
    let bob = person(&app, org, "Bob Builder", "bob@example.com", "member").await;
    let request = keyward::service::keys::KeyRequest {
        org_id: org.into(),
        name: KeyName::parse("atlassian-python-api").expect("name"),
        scopes: keyward::domain::KeyScopes::Unscoped,
        expiry: keyward::domain::api_key::AskedExpiry::InDays(1),
        created_by: Actor::User(ada),
        responsible_user_id: Some(ada.into()),
        origin: Default::default(),
    };
    let argon2 = keyward::auth::argon2id::Argon2Pool::new(2);
    let created = keyward::service::keys::create(&app.pool, &argon2, &request)
        .await
        .expect("key");
    let (_, token) = (created.id.uuid(), created.token);
    let spare = app.key(org, None).await;
    app.domain(org, "acme.example", true).await;

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/atlassian_client/run.py");
    let run = tokio::process::Command::new(&python)
        .arg(&script)
        .env("KEYWARD_URL", &app.address)
        .env("KEYWARD_KEY", token.expose_token())
        .env("ORG_ID", org.to_string())
        .env("ACCOUNT_ID", bob.to_string())
        .env("SPARE_KEY_ID", spare.id.to_string())
        .output()
        .await
        .expect("run the client script");
    let stdout = String::from_utf8_lossy(&run.stdout);
    println!("{stdout}");
    assert!(
        run.status.success(),
        "the client script failed ({}):\n{stdout}\n{}",
        run.status,
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(stdout.contains("all calls answered as the client expects"), "{stdout}");
    let revoked: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT revoked_at FROM api_keys WHERE id = $1")
            .bind(spare.id)
            .fetch_one(&app.pool)
            .await
            .expect("spare key");
    assert!(revoked.is_some(), "the client's revocation reached the database");
    let suspended: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT suspended_at FROM memberships WHERE org_id = $1 AND user_id = $2")
            .bind(org)
            .bind(bob)
            .fetch_one(&app.pool)
            .await
            .expect("membership");
    assert_eq!(suspended, None, "suspended, then restored");
}
