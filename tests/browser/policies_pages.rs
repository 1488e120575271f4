//! The policies page in a real browser, in English then Japanese: the empty page, an allowlist
//! created with a bad line (answered beside the field), fixed, saved and disabled, a lifetime
//! policy, the delete confirmation, and the page on a phone's width; each page screenshotted and
//! checked by axe-core.

use crate::browser::{Browser, Driver};
use crate::helpers::TestApp;
use crate::{CHROMEDRIVER, axe_or_skip, console};

async fn policies_flow(driver: &Driver, axe: &str, lang: &str, org_name: &str) {
    let app = TestApp::spawn().await;
    let org = app.org(org_name).await;
    let email = "tanaka@example.com";
    let user = console::person(&app, email).await;
    app.member(org, user, "admin").await;
    let mut browser = Browser::open(driver, &app.address, lang, axe).await;
    browser.visit("/login").await;
    browser.type_into("#email", email).await;
    browser.type_into("#password", console::PASSWORD).await;
    browser.click("#sign-in").await;
    browser.wait_for("#sign-out").await;

    let policies = format!("/o/{org}/settings/policies");
    browser.visit(&policies).await;
    browser.wait_for("#create-allowlist").await;
    assert_eq!(browser.text("#your-address").await, "127.0.0.1");
    browser.check("policies").await;

    browser.click("#create-allowlist").await;
    browser.wait_for("#ranges").await;
    browser.check("policies-new-allowlist").await;
    browser
        .type_into("#ranges", "203.0.113.0/24\nthe office\n127.0.0.1")
        .await;
    browser.click("#save").await;
    browser.wait_for("#ranges-error").await;
    assert!(
        browser.text("#ranges-error").await.contains('2'),
        "the bad line is named"
    );
    browser.check("policies-errors").await;
    assert_eq!(app.count("policies").await, 0, "nothing written");

    browser.type_into("#ranges", "203.0.113.0/24\n198.51.100.7").await;
    browser.click("#save").await;
    browser.wait_for("#policy-notice").await;
    assert_eq!(browser.count(".policy .badge.active").await, 1);
    assert_eq!(
        browser.count("#excludes-you").await,
        1,
        "the list leaves out the admin's own address, and the page says so"
    );
    browser.check("policies-saved").await;

    browser.click(r#"button[id^="disable-"]"#).await;
    browser.wait_for(r#"button[id^="enable-"]"#).await;
    assert_eq!(
        browser.count("#excludes-you").await,
        0,
        "a disabled list leaves no one out"
    );
    browser.check("policies-disabled").await;
    browser.visit(&format!("{policies}#allowlist-effect")).await;
    browser.wait_for(".policy").await;
    browser.check("policies-allowlist-card").await;

    browser.click(r#"a[id^="edit-"]"#).await;
    browser.wait_for("#ranges").await;
    browser.check("policies-edit").await;

    browser.visit(&policies).await;
    browser.click("#create-lifetime").await;
    browser.wait_for("#max_days").await;
    browser.type_into("#max_days", "366").await;
    browser.click("#save").await;
    browser.wait_for("#max_days-error").await;
    browser.check("policies-lifetime-errors").await;
    browser.type_into("#max_days", "90").await;
    browser.click("#save").await;
    browser.wait_for("#policy-notice").await;
    browser.check("policies-lifetime-saved").await;
    browser.visit(&format!("{policies}#lifetime-heading")).await;
    browser.wait_for(".policy").await;
    browser.check("policies-lifetime-card").await;
    assert!(
        browser.fits_width(390, 844).await,
        "the policies page fits a narrow screen"
    );
    browser.check("policies-narrow").await;
    assert!(browser.fits_width(1280, 900).await);

    browser.click(r#"a[id^="delete-"]"#).await;
    browser.wait_for("#confirm-delete").await;
    browser.check("policies-delete").await;
    browser.click("#confirm-delete").await;
    browser.wait_for("#policy-notice").await;
    assert_eq!(app.count("policies").await, 1);
    browser.close().await;
}

#[tokio::test]
async fn an_admin_sets_the_orgs_policies_in_english_and_japanese() {
    let Some(axe) = axe_or_skip() else { return };
    let driver = Driver::start(CHROMEDRIVER).await;
    policies_flow(&driver, &axe, "en", "Northwind").await;
    policies_flow(&driver, &axe, "ja", "北風商事").await;
}
