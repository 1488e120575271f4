//! One email rule (`domain::email::normalize`): the database's `users.email_normalized` is
//! what the Rust rule computes, on every row the migration filled and every row written after;
//! the migration refuses, naming them, accounts the rule makes one; and no door lets two
//! accounts have one address.

use keyward::domain::Scope;
use keyward::domain::email::normalize;
use reqwest::Method;
use serde_json::json;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use uuid::Uuid;

use crate::harness::console::{Console, PASSWORD, person};
use crate::harness::invitations::{accept, invitation_token, invite, link_form_csrf, link_path};
use crate::harness::{Page, TestApp, database_before_migration};

/// The migration that brought the rule in.
const EMAIL_RULE: i64 = 20261207000002;

/// A new database migrated up to, not including, the email rule's migration.
async fn database_before_the_email_rule() -> (PgPool, PgConnectOptions) {
    database_before_migration(EMAIL_RULE).await
}

async fn one_connection(options: &PgConnectOptions) -> PgPool {
    PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options.clone())
        .await
        .expect("connect")
}

async fn insert_user(pool: &PgPool, email: &str) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query("INSERT INTO users (id, email, display_name) VALUES ($1, $2, 'Someone')")
        .bind(id)
        .bind(email)
        .execute(pool)
        .await
        .unwrap_or_else(|e| panic!("{email:?}: {e}"));
    id
}

#[tokio::test]
async fn the_database_normalises_every_email_as_the_rust_rule_does() {
    let (pool, _) = database_before_the_email_rule().await;
    // Rows the migration fills: none of them one address under any locale's `lower()`.
    let before = [
        "lİn@example.test",
        "ADA@Example.COM",
        "\u{212A}elvin@example.test",
        "Straße@Example.DE",
        "ǅungla@example.test",
        "ΣΊΣΥΦΟΣ@example.gr",
        "ＦＵＬＬ@example.test",
        "\u{200B}zero-width@example.test",
        "\u{180E}mongolian@example.test",
        " padded@example.test\u{3000}",
        // Every White_Space character, on both sides.
        "\t\n\u{B}\u{C}\r \u{85}\u{A0}\u{1680}\u{2000}\u{2001}\u{2002}\u{2003}ws@example.test\u{2004}\u{2005}\
         \u{2006}\u{2007}\u{2008}\u{2009}\u{200A}\u{2028}\u{2029}\u{202F}\u{205F}\u{3000}",
    ];
    for email in before {
        insert_user(&pool, email).await;
    }
    keyward::store::migrate(&pool).await.expect("the email rule applies");
    // Rows written after, by hand: the column is generated, whoever writes.
    for email in [
        "lin@example.test",
        "kelvin@example.test",
        "strasse@example.de",
        "ıris@example.test",
        "IRIS@example.test",
    ] {
        insert_user(&pool, email).await;
    }

    let rows: Vec<(String, String)> = sqlx::query_as("SELECT email, email_normalized FROM users")
        .fetch_all(&pool)
        .await
        .expect("users");
    assert_eq!(rows.len(), before.len() + 5);
    for (email, stored) in rows {
        assert_eq!(stored, normalize(&email), "{email:?}");
    }
    let lin: Vec<String> = sqlx::query_scalar("SELECT email FROM users WHERE email_normalized = $1")
        .bind(normalize("LIN@example.test"))
        .fetch_all(&pool)
        .await
        .expect("lookup");
    assert_eq!(lin, vec!["lin@example.test"], "`İ` is not `i`, whatever the locale");
}

#[tokio::test]
async fn the_migration_refuses_accounts_the_rule_makes_one_and_names_them() {
    let (pool, options) = database_before_the_email_rule().await;
    // A database whose `lower()` kept `I` apart from `i` (a Turkish locale's does) could hold
    // both of these; here the old index is made case-sensitive to hold them.
    sqlx::raw_sql("DROP INDEX users_email_unique; CREATE UNIQUE INDEX users_email_unique ON users (email)")
        .execute(&pool)
        .await
        .expect("arranged");
    let first = insert_user(&pool, "Iris@example.test").await;
    let second = insert_user(&pool, "iris@example.test").await;
    let third = insert_user(&pool, "IRIS@EXAMPLE.TEST").await;
    let bystander = insert_user(&pool, "bob@example.test").await;

    let err = keyward::store::migrate(&pool).await.expect_err("refused").to_string();
    for named in [
        first.to_string(),
        second.to_string(),
        third.to_string(),
        "'Iris@example.test'".to_owned(),
        "'iris@example.test'".to_owned(),
        "'IRIS@EXAMPLE.TEST'".to_owned(),
    ] {
        assert!(err.contains(&named), "{named} in: {err}");
    }
    assert!(!err.contains(&bystander.to_string()), "{err}");
    let added: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM information_schema.columns
                        WHERE table_name = 'users' AND column_name = 'email_normalized')",
    )
    .fetch_one(&pool)
    .await
    .expect("columns");
    assert!(!added, "nothing of the migration stays");
    // The operator's next attempt is a new process: a new session, without the failed one's
    // migration lock.
    pool.close().await;
    let pool = one_connection(&options).await;

    // Once an operator has given all but one another address, it runs.
    sqlx::query("UPDATE users SET email = id || '@renamed.example.test' WHERE id = ANY($1)")
        .bind(vec![second, third])
        .execute(&pool)
        .await
        .expect("renamed");
    keyward::store::migrate(&pool).await.expect("applies now");
}

#[tokio::test]
async fn no_door_gives_two_accounts_one_address() {
    let app = TestApp::spawn().await;
    let acme = app.org("Acme").await;
    let ada = person(&app, "ada@example.com").await;
    app.member(acme, ada, "admin").await;
    let bob = app.user("bob@example.com", Some(acme)).await;
    app.member(acme, bob, "member").await;
    let erin = person(&app, "erin@example.com").await;
    app.user("lin@example.test", None).await;
    let token = app.key(acme, Some(&[Scope::WriteAccounts])).await.token;

    // The API: another account's address, in another case and with spaces around, is taken.
    let path = format!("/users/{bob}/manage/email");
    let before = app.snapshot("users").await;
    let res = app
        .api_json(Method::PUT, &path, &token, &json!({ "email": "  Ada@EXAMPLE.com " }))
        .await;
    assert_eq!(res.status(), 409);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["errors"][0]["code"], "ADMIN-409-2");
    assert_eq!(app.snapshot("users").await, before, "nothing written");
    // `lİn` is not `lin` under the rule: another address, free to take.
    let res = app
        .api_json(Method::PUT, &path, &token, &json!({ "email": "lİn@example.test" }))
        .await;
    assert_eq!(res.status(), 204);

    // The console: an invitation of an address in another case is for the account that has it.
    // Its link asks erin to sign in, never to make a second account, and she joins as herself.
    let console = Console::signed_in(&app, "ada@example.com").await;
    let csrf = console.csrf().await;
    let users = app.count("users").await;
    let res = invite(&console, &csrf, acme, "ERIN@Example.com", "member").await;
    assert_eq!(res.status(), 200);
    let token = invitation_token(&res.text().await.expect("page"));
    let browser = Console::new(&app);
    let page = browser.page(&link_path(&token)).await;
    assert!(
        Page::parse(&page).has("#existing-account"),
        "erin's account is asked to sign in"
    );
    assert!(
        !Page::parse(&page).has("#create-account"),
        "no second account is offered"
    );
    // A create-account form sent anyway, with a token from another invitation's page.
    let res = invite(&console, &csrf, acme, "nobody@example.com", "member").await;
    let other = invitation_token(&res.text().await.expect("page"));
    let form = link_form_csrf(&browser.page(&link_path(&other)).await);
    let password = "a second erin's password";
    let res = browser
        .post(
            "/invitations",
            &[
                ("csrf", form.as_str()),
                ("token", &token),
                ("action", "create"),
                ("name", "Another Erin"),
                ("password", password),
                ("password_confirm", password),
            ],
        )
        .await;
    assert!(Page::parse(&res.text().await.expect("page")).has("#existing-account"));
    assert_eq!(app.count("users").await, users, "no second account");
    let res = browser.sign_in("erin@example.com", PASSWORD, &link_path(&token)).await;
    assert_eq!(res.status(), 303);
    assert_eq!(accept(&browser, &token).await.status(), 200);
    let added: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM memberships WHERE org_id = $1 AND user_id = $2)")
            .bind(acme)
            .bind(erin)
            .fetch_one(&app.pool)
            .await
            .expect("membership");
    assert!(added, "erin's own account joined");
    let res = invite(&console, &csrf, acme, " ADA@example.COM", "member").await;
    assert_eq!(res.status(), 422, "ada is a member already");
    assert!(Page::parse(&res.text().await.expect("page")).has("#email-error"));
    assert_eq!(app.count("users").await, users, "no second account");
}
