//! First-run setup: a one-time link from the log creates the first administrator and
//! organization; every bad input is answered beside its field and writes nothing.

use crate::harness::{Page, TestApp, browser, logs};

const PASSWORD: &str = "correct horse battery staple";

/// Opens the setup page with the logged link; returns the form's CSRF token.
async fn open_setup(app: &TestApp, client: &reqwest::Client, token: &str) -> String {
    let page = client
        .get(format!("{}/setup?token={token}", app.address))
        .send()
        .await
        .expect("GET /setup");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("body");
    Page::parse(&html).form_token("/setup")
}

fn valid_form<'a>(csrf: &'a str, token: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("token", token),
        ("email", "ada@example.com"),
        ("name", "Ada Lovelace"),
        ("password", PASSWORD),
        ("password_confirm", PASSWORD),
        ("org_name", "Analytical Engines"),
    ]
}

fn with<'a>(mut form: Vec<(&'a str, &'a str)>, field: &str, value: &'a str) -> Vec<(&'a str, &'a str)> {
    for entry in &mut form {
        if entry.0 == field {
            entry.1 = value;
        }
    }
    form
}

async fn nothing_written(app: &TestApp) {
    assert_eq!(app.count("users").await, 0, "no user may be written");
    assert_eq!(app.count("orgs").await, 0, "no organization may be written");
    assert_eq!(app.count("memberships").await, 0);
    assert_eq!(app.count("audit_events").await, 0);
}

#[tokio::test]
async fn the_logged_link_creates_the_first_admin_and_org_then_setup_is_gone() {
    let app = TestApp::spawn().await;
    let token = app.setup_token();
    let home = app.get("/").await.text().await.expect("body");
    assert!(home.contains("setup link"), "the front page says where to go next");

    let csrf = open_setup(&app, &app.client, &token).await;
    let done = app.post_form("/setup", &valid_form(&csrf, &token)).await;
    assert_eq!(done.status(), 303);

    let (email, hash): (String, String) = sqlx::query_as("SELECT email, password_hash FROM users")
        .fetch_one(&app.pool)
        .await
        .expect("the admin");
    assert_eq!(email, "ada@example.com");
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "OWASP argon2id parameters: {hash}"
    );
    assert!(!hash.contains(PASSWORD));
    let (role, org_name, managed_by): (String, String, Option<uuid::Uuid>) = sqlx::query_as(
        "SELECT m.role::text, o.name, u.managed_by_org FROM memberships m JOIN orgs o ON o.id = m.org_id \
         JOIN users u ON u.id = m.user_id",
    )
    .fetch_one(&app.pool)
    .await
    .expect("admin of the new org");
    assert_eq!((role.as_str(), org_name.as_str()), ("admin", "Analytical Engines"));
    assert_eq!(
        managed_by, None,
        "an account is managed by the org that verified its domain: none has yet"
    );
    assert!(app.count("audit_events").await >= 2);

    assert_eq!(app.get(&format!("/setup?token={token}")).await.status(), 404);
    assert_eq!(app.post_form("/setup", &valid_form(&csrf, &token)).await.status(), 404);
    assert_eq!(app.count("users").await, 1);
}

#[tokio::test]
async fn the_setup_token_appears_in_no_log_line_but_the_link() {
    let app = TestApp::spawn().await;
    let token = app.setup_token();
    let csrf = open_setup(&app, &app.client, &token).await;
    app.post_form("/setup", &valid_form(&csrf, &token)).await;
    let lines: Vec<String> = logs()
        .lines()
        .filter(|line| line.contains(&token))
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len(), 1, "only the setup link carries the token: {lines:#?}");
    assert!(lines[0].contains(&format!("{}/setup?token={token}", app.address)));
    assert!(
        logs().contains("/setup"),
        "requests to /setup were logged, by path only"
    );
}

#[tokio::test]
async fn each_bad_input_is_answered_beside_its_field_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let token = app.setup_token();
    let csrf = open_setup(&app, &app.client, &token).await;
    let cases = [
        ("email", "not-an-email", "email-error"),
        ("email", "", "email-error"),
        ("name", "   ", "name-error"),
        ("password", "short", "password-error"),
        (
            "password_confirm",
            "correct horse battery stapler",
            "password_confirm-error",
        ),
        ("org_name", "", "org_name-error"),
    ];
    for (field, value, error_id) in cases {
        let res = app
            .post_form("/setup", &with(valid_form(&csrf, &token), field, value))
            .await;
        assert_eq!(res.status(), 422, "{field}={value:?}");
        let body = res.text().await.expect("body");
        assert!(
            Page::parse(&body).has(&format!("#{error_id}")),
            "{field}={value:?}: the error stands beside the field"
        );
        assert!(!body.contains(PASSWORD), "passwords are never echoed back");
        if field != "email" {
            assert!(
                Page::parse(&body).has(r#"[value="ada@example.com"]"#),
                "what was typed is kept"
            );
        }
    }
    nothing_written(&app).await;

    // The token is still good after all of that.
    assert_eq!(app.post_form("/setup", &valid_form(&csrf, &token)).await.status(), 303);
}

#[tokio::test]
async fn a_missing_or_forged_csrf_token_or_foreign_origin_is_refused() {
    let app = TestApp::spawn().await;
    let token = app.setup_token();
    let csrf = open_setup(&app, &app.client, &token).await;

    let missing = app
        .post_form("/setup", &with(valid_form(&csrf, &token), "csrf", ""))
        .await;
    assert_eq!(missing.status(), 403);
    let forged = app
        .post_form("/setup", &with(valid_form(&csrf, &token), "csrf", &"ab".repeat(32)))
        .await;
    assert_eq!(forged.status(), 403);
    // Another browser (no pre-session cookie) replaying this browser's token.
    let stranger = browser()
        .post(format!("{}/setup", app.address))
        .form(&valid_form(&csrf, &token))
        .send()
        .await
        .expect("post");
    assert_eq!(stranger.status(), 403);
    let cross_site = app
        .client
        .post(format!("{}/setup", app.address))
        .header("Origin", "https://evil.example")
        .form(&valid_form(&csrf, &token))
        .send()
        .await
        .expect("post");
    assert_eq!(cross_site.status(), 403);
    nothing_written(&app).await;
}

#[tokio::test]
async fn an_expired_or_unknown_token_is_refused_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let token = app.setup_token();
    let csrf = open_setup(&app, &app.client, &token).await;
    sqlx::query("UPDATE setup_tokens SET expires_at = now() - interval '1 second'")
        .execute(&app.pool)
        .await
        .expect("expire");

    let expired = app.post_form("/setup", &valid_form(&csrf, &token)).await;
    assert_eq!(expired.status(), 400);
    assert!(
        expired
            .text()
            .await
            .expect("body")
            .contains("expired or was already used")
    );
    let unknown = app.post_form("/setup", &valid_form(&csrf, &"0".repeat(64))).await;
    assert_eq!(unknown.status(), 400);
    assert_eq!(app.get(&format!("/setup?token={token}")).await.status(), 400);
    nothing_written(&app).await;
}

#[tokio::test]
async fn of_two_concurrent_submissions_exactly_one_wins() {
    let app = TestApp::spawn().await;
    let token = app.setup_token();
    let (first, second) = (browser(), browser());
    let csrf_first = open_setup(&app, &first, &token).await;
    let csrf_second = open_setup(&app, &second, &token).await;
    let form_first = valid_form(&csrf_first, &token);
    let form_second = with(valid_form(&csrf_second, &token), "email", "grace@example.com");
    let url = format!("{}/setup", app.address);
    let (a, b) = tokio::join!(
        first.post(&url).form(&form_first).send(),
        second.post(&url).form(&form_second).send()
    );
    let mut statuses = [a.expect("a").status().as_u16(), b.expect("b").status().as_u16()];
    statuses.sort();
    assert_eq!(statuses[0], 303, "one submission wins");
    assert!(
        statuses[1] == 400 || statuses[1] == 404,
        "the other loses: {statuses:?}"
    );
    assert_eq!(app.count("users").await, 1);
    assert_eq!(app.count("orgs").await, 1);
}

#[tokio::test]
async fn a_used_token_cannot_be_reused_even_if_setup_were_reopened() {
    let app = TestApp::spawn().await;
    let token = app.setup_token();
    let csrf = open_setup(&app, &app.client, &token).await;
    assert_eq!(app.post_form("/setup", &valid_form(&csrf, &token)).await.status(), 303);
    let used: bool = sqlx::query_scalar("SELECT used_at IS NOT NULL FROM setup_tokens")
        .fetch_one(&app.pool)
        .await
        .expect("token");
    assert!(used, "the token is consumed");
    let stored: Vec<Vec<u8>> = sqlx::query_scalar("SELECT token_hash FROM setup_tokens")
        .fetch_all(&app.pool)
        .await
        .expect("hash");
    assert!(
        stored.iter().all(|h| h.len() == 32 && *h != token.as_bytes()),
        "only a hash of the token is stored"
    );
}

#[tokio::test]
async fn setup_records_the_browsers_user_agent_bounded() {
    let app = TestApp::spawn().await;
    let token = app.setup_token();
    let csrf = open_setup(&app, &app.client, &token).await;
    let long_agent = format!("keyward-test/1.0 {}", "x".repeat(2000));
    let done = app
        .client
        .post(format!("{}/setup", app.address))
        .header("User-Agent", &long_agent)
        .form(&valid_form(&csrf, &token))
        .send()
        .await
        .expect("POST /setup");
    assert_eq!(done.status(), 303);
    let agents: Vec<Option<String>> = sqlx::query_scalar("SELECT user_agent FROM audit_events")
        .fetch_all(&app.pool)
        .await
        .expect("events");
    assert!(!agents.is_empty());
    for agent in agents {
        let agent = agent.expect("every setup event has the user agent");
        assert!(agent.starts_with("keyward-test/1.0 x"), "{agent}");
        assert_eq!(agent.chars().count(), 512, "bounded");
    }
}
