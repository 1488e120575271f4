//! Your account page in a real browser, in English then Japanese: an empty name answered beside
//! the field, the name saved, the time zone set to Asia/Tokyo (the footer then names it), the
//! sessions list with another browser signed in, signing that one out, and the page on a phone's
//! width; each page screenshotted and checked by axe-core.

use crate::browser::{Browser, Driver};
use crate::helpers::TestApp;
use crate::{CHROMEDRIVER, axe_or_skip, console};

async fn account_flow(driver: &Driver, axe: &str, lang: &str, name: &str) {
    let app = TestApp::spawn().await;
    let org = app.org("Northwind").await;
    let email = "kato@example.com";
    let user = console::person(&app, email).await;
    app.member(org, user, "admin").await;
    // Another browser of the same person, for the sessions list.
    let elsewhere = console::Console::signed_in(&app, email).await;

    let mut browser = Browser::open(driver, &app.address, lang, axe).await;
    browser.visit("/login").await;
    browser.type_into("#email", email).await;
    browser.type_into("#password", console::PASSWORD).await;
    browser.click("#sign-in").await;
    browser.wait_for("#sign-out").await;

    browser.click("#account-link").await;
    browser.wait_for("#display_name").await;
    assert_eq!(browser.html_lang().await, lang);
    browser.type_into("#display_name", "   ").await;
    browser.click("#save-name").await;
    browser.wait_for("#display_name-error").await;
    browser.check("account-errors").await;
    let stored: String = sqlx::query_scalar("SELECT display_name FROM users WHERE id = $1")
        .bind(user)
        .fetch_one(&app.pool)
        .await
        .expect("name");
    assert_eq!(stored, "kato", "nothing written");

    browser.type_into("#display_name", name).await;
    browser.submit("#save-name").await;
    browser.wait_for("#notice").await;
    assert!(
        browser.text("#account-link").await.contains(name),
        "the header shows the new name"
    );

    browser.click(r#"#zone option[value="Asia/Tokyo"]"#).await;
    browser.submit("#save-time-zone").await;
    browser.wait_for("#notice").await;
    assert!(browser.text("#times-note").await.contains("Asia/Tokyo"));
    assert_eq!(
        browser.count("#sessions tbody tr").await,
        2,
        "this browser and the other"
    );
    browser.visit("/account#sessions-heading").await;
    browser.wait_for("#this-session").await;
    browser.check("account").await;

    assert!(
        browser.fits_width(390, 844).await,
        "the account page fits a narrow screen"
    );
    browser.check("account-narrow").await;
    assert!(browser.fits_width(1280, 900).await);

    browser.click("#sessions button.small").await;
    browser.wait_for("#no-other-sessions").await;
    browser.check("account-session-ended").await;
    assert_eq!(
        elsewhere.get("/account").await.status(),
        303,
        "the other browser was signed out"
    );
    browser.close().await;
}

#[tokio::test]
async fn a_person_changes_their_account_in_english_and_japanese() {
    let Some(axe) = axe_or_skip() else { return };
    let driver = Driver::start(CHROMEDRIVER).await;
    account_flow(&driver, &axe, "en", "Kato Ken").await;
    account_flow(&driver, &axe, "ja", "加藤 健").await;
}
