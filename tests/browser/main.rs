//! The console in a real browser: Debian's headless Chromium driven through chromedriver. The
//! whole admin flow (sign in, choose an org, create a scoped key, read it from the show-once
//! page, call the API with it, revoke it, the API refuses it; the unscoped warning; a re-sent
//! create form shows no key), in English and then in Japanese, with a screenshot of every page
//! under `target/browser-screenshots/<language>/<test>/` and axe-core run over every page (no serious
//! or critical violation).
//!
//! A second test binary, apart from `tests/api`, because it runs once in CI rather than in
//! both database modes. Without chromium, chromedriver or axe-core (tests/browser/node_modules)
//! it skips with a loud message, except under `CI=true`, where it fails.

#[allow(dead_code, unused_imports)]
#[path = "../api/harness/mod.rs"]
mod harness;
use harness as helpers;
use harness::console;

mod browser;

mod account_pages;
mod audit_log_pages;
mod invitations_pages;
mod members_pages;
mod policies_pages;

use std::time::Instant;

use browser::{Browser, Driver};
use helpers::TestApp;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The tools the tests need, or why they are missing.
fn tools() -> Result<std::path::PathBuf, String> {
    for tool in [CHROMIUM, CHROMEDRIVER] {
        if !std::path::Path::new(tool).exists() {
            return Err(format!(
                "{tool} is missing (apt-get install chromium chromium-driver fonts-noto-cjk)"
            ));
        }
    }
    let axe = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/node_modules/axe-core/axe.min.js");
    if !axe.exists() {
        return Err(format!("{} is missing (npm ci --prefix tests/browser)", axe.display()));
    }
    Ok(axe)
}

/// The axe-core source, or `None` when the tests must be skipped (never under CI).
fn axe_or_skip() -> Option<String> {
    match tools() {
        Ok(axe) => Some(std::fs::read_to_string(axe).expect("axe-core")),
        Err(missing) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("browser tests cannot run under CI: {missing}")
        }
        Err(missing) => {
            eprintln!("\n**********\nSKIPPING the browser tests: {missing}\n**********\n");
            None
        }
    }
}

/// An admin of two orgs, with a password, on a fresh instance.
async fn two_org_admin(app: &TestApp, orgs: [&str; 2]) -> String {
    let email = "sato@example.com";
    let user = console::person(app, email).await;
    for name in orgs {
        let org = app.org(name).await;
        app.member(org, user, "admin").await;
    }
    email.to_owned()
}

/// The whole flow in one language; `orgs` are named in that language.
async fn admin_flow(driver: &Driver, axe: &str, lang: &str, orgs: [&str; 2]) {
    let app = TestApp::spawn().await;
    let email = two_org_admin(&app, orgs).await;
    let mut browser = Browser::open(driver, &app.address, lang, axe).await;

    browser.visit("/login").await;
    browser.check("sign-in").await;
    assert_eq!(browser.html_lang().await, lang);
    browser.type_into("#email", &email).await;
    browser.type_into("#password", console::PASSWORD).await;
    browser.click("#sign-in").await;

    browser.wait_for("a.org-link").await;
    assert_eq!(
        browser.count("a.org-link").await,
        2,
        "the selection screen lists both orgs"
    );
    browser.check("orgs").await;
    browser.click_text("a.org-link", orgs[0]).await;

    browser.wait_for("#create-scoped").await;
    browser.check("api-keys-empty").await;
    browser.click("#create-scoped").await;
    browser.wait_for("#name").await;
    browser.check("create-scoped").await;
    browser.type_into("#name", "deploy-bot").await;
    browser.click("#expiry-30").await;
    // No scope chosen: the form comes back with the error beside the scopes, the name kept.
    browser.click("#review").await;
    browser.wait_for("#scopes-error").await;
    browser.check("create-scoped-errors").await;
    browser
        .click(r#"input[name="scopes"][value="read:directories:admin"]"#)
        .await;
    browser.click("#review").await;

    browser.wait_for("#create").await;
    browser.check("review").await;
    browser.click("#create").await;
    browser.wait_for("#key-value").await;
    browser.check("show-once").await;
    let token = browser.text("#key-value").await;
    let org = browser.text("#org-id").await;
    assert!(token.starts_with("kw_"), "{token}");
    assert_eq!(
        console::directories_status(&app, &org, &token).await,
        200,
        "the new key works"
    );

    browser.click("#done").await;
    browser.wait_for("a.key-link").await;
    browser.check("api-keys").await;
    browser.click_text("a.key-link", "deploy-bot").await;
    browser.wait_for("#revoke").await;
    browser.check("key-detail").await;
    browser.click("#revoke").await;
    browser.wait_for("#confirm-revoke").await;
    browser.check("revoke").await;
    browser.click("#confirm-revoke").await;
    browser.wait_for("#revoked-notice").await;
    assert_eq!(browser.count(".badge.revoked").await, 1, "the list shows it revoked");
    browser.check("api-keys-revoked").await;
    assert_eq!(
        console::directories_status(&app, &org, &token).await,
        401,
        "the revoked key is refused"
    );

    browser.visit(&format!("/o/{org}/settings/api-keys?tab=unscoped")).await;
    browser.wait_for("#create-unscoped").await;
    browser.check("api-keys-unscoped").await;
    browser.click("#create-unscoped").await;
    browser.wait_for("#unscoped-warning").await;
    browser.check("create-unscoped").await;
    browser.type_into("#name", "everything").await;
    browser.click("#expiry-7").await;
    browser.click("#review").await;
    browser.wait_for("#create").await;
    assert_eq!(
        browser.count("#unscoped-warning").await,
        1,
        "the review repeats the warning"
    );
    let create_form = browser.form_of("#create").await;
    browser.click("#create").await;
    browser.wait_for("#key-value").await;
    let unscoped_token = browser.text("#key-value").await;

    // The review page's form sent again, token and all (a back-and-submit, or a reload of the
    // show-once page): nothing is created, no key is shown.
    browser.resubmit(&create_form).await;
    browser.wait_for("#form-used").await;
    assert_eq!(
        browser.count("#key-value").await,
        0,
        "a re-sent create form shows no key"
    );
    browser.check("form-used").await;
    assert_eq!(app.count("api_keys").await, 2);

    // Found a leaked key? The pasted value finds its key, on whichever tab, and offers revocation.
    browser.visit(&format!("/o/{org}/settings/api-keys")).await;
    browser.type_into("#leaked-key", &unscoped_token).await;
    browser.click("#find-key").await;
    browser.wait_for("#revoke").await;
    let url = browser.current_url().await;
    assert!(!url.contains(&unscoped_token), "the value is never in a URL");
    browser.check("found-leaked-key").await;

    // A phone's width: the keys page still fits, its table scrolling inside its own box.
    browser.visit(&format!("/o/{org}/settings/api-keys")).await;
    assert!(browser.fits_width(390, 844).await, "the keys page fits a narrow screen");
    browser.check("api-keys-narrow").await;
    assert!(browser.fits_width(1280, 900).await);

    browser.visit(&format!("/o/{org}/settings/api-keys/new")).await;
    browser.check("choose-kind").await;
    browser
        .visit("/o/00000000-0000-0000-0000-000000000000/settings/api-keys")
        .await;
    browser.check("not-found").await;
    browser.click("#sign-out").await;
    browser.wait_for("#sign-in").await;
    browser.check("signed-out").await;
    browser.close().await;
}

#[tokio::test]
async fn an_admin_creates_uses_and_revokes_keys_in_english_and_japanese() {
    let Some(axe) = axe_or_skip() else { return };
    let started = Instant::now();
    let driver = Driver::start(CHROMEDRIVER).await;
    admin_flow(&driver, &axe, "en", ["Northwind", "Contoso"]).await;
    admin_flow(&driver, &axe, "ja", ["北風商事", "東京支社"]).await;
    eprintln!(
        "browser flow in both languages took {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
