//! The audit log page in a real browser, in English then Japanese: the org's events, a filter
//! chosen in the form and applied, a bad date range answered beside its field, the page on a
//! phone's width, and the forgotten-keys notices of the keys list and the selection screen;
//! each page screenshotted and checked by axe-core.

use chrono::Duration;
use serde_json::json;
use uuid::Uuid;

use crate::browser::{Browser, Driver};
use crate::helpers::TestApp;
use crate::{CHROMEDRIVER, axe_or_skip, console};

/// An event written into the log as the code that records it would, `ago` before now.
#[allow(clippy::too_many_arguments)]
async fn event(
    app: &TestApp,
    org: Uuid,
    ago: Duration,
    actor: (&str, Option<Uuid>),
    action: &str,
    target: (&str, String),
    ip: Option<&str>,
    user_agent: Option<&str>,
    details: serde_json::Value,
) {
    sqlx::query(
        "INSERT INTO audit_events (id, org_id, time, actor_kind, actor_id, action, target_kind, target_id, ip, user_agent, details)
         VALUES (gen_random_uuid(), $1, now() - $2::interval, $3::actor_kind, $4, $5, $6, $7, $8::inet, $9, $10)",
    )
    .bind(org)
    .bind(format!("{} seconds", ago.num_seconds()))
    .bind(actor.0)
    .bind(actor.1)
    .bind(action)
    .bind(target.0)
    .bind(target.1)
    .bind(ip)
    .bind(user_agent)
    .bind(details)
    .execute(&app.pool)
    .await
    .expect("event");
}

async fn audit_log_flow(driver: &Driver, axe: &str, lang: &str, org_name: &str, other_name: &str, names: [&str; 2]) {
    let app = TestApp::spawn().await;
    let org = app.org(org_name).await;
    let other = app.org(other_name).await;
    let email = "tanaka@example.com";
    let admin = console::person(&app, email).await;
    sqlx::query("UPDATE users SET display_name = $2 WHERE id = $1")
        .bind(admin)
        .bind(names[0])
        .execute(&app.pool)
        .await
        .expect("name");
    app.member(org, admin, "admin").await;
    app.member(other, admin, "admin").await;
    let colleague = app.user("suzuki@example.com", Some(org)).await;
    sqlx::query("UPDATE users SET display_name = $2 WHERE id = $1")
        .bind(colleague)
        .bind(names[1])
        .execute(&app.pool)
        .await
        .expect("name");
    app.member(org, colleague, "member").await;
    let old = app.key_for(org, admin).await;
    let current = app.key_for(org, admin).await;
    let key = |k: &crate::helpers::TestKey| ("api_key", k.id.to_string());
    event(
        &app,
        org,
        Duration::days(9),
        ("user", Some(admin)),
        "membership.added",
        ("user", colleague.to_string()),
        Some("203.0.113.7"),
        Some("Mozilla/5.0 (X11; Linux x86_64)"),
        json!({"role": "member"}),
    )
    .await;
    event(
        &app,
        org,
        Duration::days(8),
        ("user", Some(admin)),
        "api_key.revoked",
        key(&old),
        Some("203.0.113.7"),
        Some("Mozilla/5.0 (X11; Linux x86_64)"),
        json!({"public_id": old.public_id()}),
    )
    .await;
    for (days, ip) in [(6, "198.51.100.20"), (3, "198.51.100.21"), (1, "198.51.100.20")] {
        event(
            &app,
            org,
            Duration::days(days),
            ("key", Some(old.id)),
            "api_key.rejected_use",
            key(&old),
            Some(ip),
            Some("nightly-sync/2.1"),
            json!({"reason": "revoked", "secret_proven": true}),
        )
        .await;
    }
    event(
        &app,
        org,
        Duration::days(2),
        ("user", Some(admin)),
        "policy.created",
        ("policy", Uuid::new_v4().to_string()),
        Some("203.0.113.7"),
        Some("Mozilla/5.0 (X11; Linux x86_64)"),
        json!({"type": "ip-allowlist", "name": "Office", "status": "enabled", "rule": {"in": ["203.0.113.0/24"]}}),
    )
    .await;
    event(
        &app,
        org,
        Duration::hours(5),
        ("system", None),
        "membership.suspended",
        ("user", colleague.to_string()),
        None,
        None,
        json!({"revoked_keys": [{"id": current.id, "public_id": current.public_id()}]}),
    )
    .await;

    let mut browser = Browser::open(driver, &app.address, lang, axe).await;
    browser.visit("/login").await;
    browser.type_into("#email", email).await;
    browser.type_into("#password", console::PASSWORD).await;
    browser.click("#sign-in").await;
    browser.wait_for("#sign-out").await;

    browser.visit("/orgs").await;
    browser.wait_for(&format!("#forgotten-{org}")).await;
    assert_eq!(
        browser.count(&format!("#forgotten-{other}")).await,
        0,
        "nothing for an org without"
    );
    browser.check("orgs-forgotten-keys").await;

    browser.visit(&format!("/o/{org}/settings/api-keys")).await;
    browser.wait_for("#forgotten-keys").await;
    browser.check("api-keys-forgotten-keys").await;

    browser.click("#forgotten-link").await;
    browser.wait_for("#forgotten-note").await;
    assert_eq!(
        browser.count("tr.event").await,
        3,
        "the three refused uses of the revoked key"
    );
    browser.check("audit-log-forgotten-keys").await;

    let log = format!("/o/{org}/settings/audit-log");
    browser.visit(&log).await;
    browser.wait_for("table.audit-log").await;
    let all = browser.count("tr.event").await;
    assert!(all >= 8, "every event of the org, sign-ins included: {all}");
    browser.check("audit-log").await;

    browser.click(r#"#action option[value="api_key.rejected_use"]"#).await;
    browser.click(&format!(r#"#actor option[value="{}"]"#, "keys")).await;
    browser.click("#apply-filters").await;
    browser.wait_for("#clear-filters").await;
    assert_eq!(browser.count("tr.event").await, 3);
    assert!(browser.current_url().await.contains("action=api_key.rejected_use"));
    browser.check("audit-log-filtered").await;

    browser.visit(&format!("{log}?from=2026-12-05&to=2026-12-01")).await;
    browser.wait_for("#from-error").await;
    browser.check("audit-log-errors").await;

    browser.visit(&log).await;
    browser.wait_for("table.audit-log").await;
    assert!(browser.fits_width(390, 844).await, "the audit log fits a narrow screen");
    browser.check("audit-log-narrow").await;
    assert!(browser.fits_width(1280, 900).await);
    browser.close().await;
}

#[tokio::test]
async fn an_admin_reads_filters_and_follows_the_orgs_audit_log_in_english_and_japanese() {
    let Some(axe) = axe_or_skip() else { return };
    let driver = Driver::start(CHROMEDRIVER).await;
    audit_log_flow(
        &driver,
        &axe,
        "en",
        "Northwind",
        "Contoso",
        ["Tanaka Hiro", "Suzuki Aoi"],
    )
    .await;
    audit_log_flow(&driver, &axe, "ja", "北風商事", "東京物産", ["田中 浩", "鈴木 葵"]).await;
}
