//! Invitations in a real browser, in English then Japanese. An admin invites a new person (as a
//! member), an existing account (as an admin) and two more, each link shown once, and the
//! members list shows them pending. The new person opens their link in a browser of their own,
//! creates the account there and is signed in. On a shared computer, a colleague's signed-in
//! account sees that the existing account's link is not theirs and cannot accept, not even with
//! a hand-made form; signed out, the link asks to sign in as the invited address and comes back
//! to it; the pending invitation grants nothing until accepted, and accepting opens the org. A
//! revoked, a used and an expired link each say so, a new link replaces the expired one, and
//! the members list ends with the new members and nothing pending. A screenshot of every page,
//! and axe-core over each.

use keyward::console::catalog::{self, Lang, invitations, members};

use crate::browser::{Browser, Driver};
use crate::console;
use crate::helpers::TestApp;

struct Names {
    org: &'static str,
    admin: &'static str,
    /// The person without an account, invited as a member.
    newcomer: &'static str,
    /// The person with an account, invited as an admin.
    existing: &'static str,
    /// The colleague signed in on the computer where the existing account opens its link.
    colleague: &'static str,
}

const ADMIN: &str = "sato@example.com";
const NEWCOMER: &str = "nakamura@example.com";
const EXISTING: &str = "kimura@example.com";
const COLLEAGUE: &str = "suzuki@example.com";
const REVOKED: &str = "revoked@example.com";
const LATE: &str = "late@example.com";

/// A person with an account and `console::PASSWORD`, named `name`.
async fn named_person(app: &TestApp, email: &str, name: &str) -> uuid::Uuid {
    let user = console::person(app, email).await;
    sqlx::query("UPDATE users SET display_name = $2 WHERE id = $1")
        .bind(user)
        .bind(name)
        .execute(&app.pool)
        .await
        .expect("name");
    user
}

/// The path of an invitation link (`/invitations?token=…`), to open on this instance.
fn path_of(link: &str) -> String {
    let at = link.find("/invitations?token=").expect("an invitation link");
    link[at..].to_owned()
}

/// Fills in and sends the invite form; `None` leaves the role as the form offers it.
async fn invite(browser: &Browser, email: &str, role: Option<&str>) {
    browser.type_into("#email", email).await;
    if let Some(role) = role {
        browser.click(&format!("#role-{role}")).await;
    }
    browser.click("#invite").await;
}

/// Invites `email` from the members list and returns the link the answer shows once.
async fn invite_from_list(browser: &Browser, email: &str, role: &str) -> String {
    browser.click("#invite-people").await;
    browser.wait_for("#email").await;
    invite(browser, email, Some(role)).await;
    browser.wait_for("#invitation-link").await;
    let link = browser.text("#invitation-link").await;
    browser.click("#to-members").await;
    browser.wait_for("#invitations").await;
    link
}

async fn sign_in(browser: &Browser, email: &str) {
    browser.type_into("#email", email).await;
    browser.type_into("#password", console::PASSWORD).await;
    browser.click("#sign-in").await;
}

/// Switches the page's language with the switch in its header and waits for the answer.
async fn switch_language(browser: &Browser, to: &str) {
    browser.click(&format!("#lang option[value=\"{to}\"]")).await;
    browser.click("#switch-language").await;
    browser.wait_for(&format!("html[lang=\"{to}\"]")).await;
}

async fn memberships_of(app: &TestApp, email: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = $1")
        .bind(email)
        .fetch_one(&app.pool)
        .await
        .expect("memberships")
}

async fn flow(driver: &Driver, axe: &str, lang: &str, names: Names) {
    let language = Lang::from_tag(lang).expect("a console language");
    let (t, i, m) = (catalog::of(language), invitations::of(language), members::of(language));
    let app = TestApp::spawn().await;
    let org = app.org(names.org).await;
    let admin = named_person(&app, ADMIN, names.admin).await;
    app.member(org, admin, "admin").await;
    named_person(&app, EXISTING, names.existing).await;
    named_person(&app, COLLEAGUE, names.colleague).await;

    // The admin invites four people; each answer shows its link once.
    let mut desk = Browser::open(driver, &app.address, lang, axe).await;
    desk.visit("/login").await;
    sign_in(&desk, ADMIN).await;
    desk.wait_for("#create-scoped").await;
    let members_path = format!("/o/{org}/settings/members");
    desk.visit(&members_path).await;
    desk.wait_for("#no-invitations").await;
    desk.check("members-none-pending").await;
    desk.click("#invite-people").await;
    desk.wait_for("#email").await;
    assert_eq!(desk.html_lang().await, lang);
    desk.check("invite").await;
    invite(&desk, "not an address", None).await;
    desk.wait_for("#email-error").await;
    desk.check("invite-errors").await;
    desk.visit(&format!("{members_path}/new")).await;
    desk.wait_for("#email").await;
    invite(&desk, ADMIN, None).await;
    desk.wait_for("#email-error").await;
    assert_eq!(desk.text("#email-error").await, m.already_member);

    invite(&desk, NEWCOMER, None).await;
    desk.wait_for("#invitation-link").await;
    let intro = desk.text("#invited-intro").await;
    assert!(intro.contains(NEWCOMER) && intro.contains(i.as_member), "{intro}");
    desk.check("invited").await;
    assert!(desk.fits_width(390, 844).await, "the link fits a phone's width");
    desk.check("invited-narrow").await;
    assert!(desk.fits_width(1280, 900).await);
    let newcomer_link = path_of(&desk.text("#invitation-link").await);
    desk.click("#to-members").await;
    desk.wait_for("#invitations").await;
    let existing_link = path_of(&invite_from_list(&desk, EXISTING, "admin").await);
    let revoked_link = path_of(&invite_from_list(&desk, REVOKED, "member").await);
    let late_link = path_of(&invite_from_list(&desk, LATE, "member").await);
    assert_eq!(desk.count(".invitation-email").await, 4, "four invitations pending");
    assert_eq!(
        app.count("memberships").await,
        1,
        "a pending invitation is no membership"
    );
    desk.check("members-pending").await;

    // One is revoked from the list, another expires.
    desk.click(&format!(".revoke-invitation[aria-label*=\"{REVOKED}\"]"))
        .await;
    desk.wait_for("#revoked-notice").await;
    assert_eq!(desk.count(".invitation-email").await, 3);
    desk.check("invitation-revoked").await;
    sqlx::query(
        "UPDATE invitations SET issued_at = now() - interval '8 days', expires_at = now() - interval '1 day'
         WHERE email = $1",
    )
    .bind(LATE)
    .execute(&app.pool)
    .await
    .expect("an expired invitation");

    // The newcomer opens their link in a browser of their own and creates the account there.
    let mut newcomer = Browser::open(driver, &app.address, lang, axe).await;
    newcomer.visit(&newcomer_link).await;
    newcomer.wait_for("#create-intro").await;
    let intro = newcomer.text("#invitation-intro").await;
    for expected in [names.org, i.as_member, NEWCOMER] {
        assert!(intro.contains(expected), "the link names {expected}: {intro}");
    }
    assert_eq!(newcomer.count("#accept").await, 0);
    newcomer.check("link-create-account").await;
    assert!(
        newcomer.fits_width(390, 844).await,
        "the link's page fits a phone's width"
    );
    newcomer.check("link-create-account-narrow").await;
    assert!(newcomer.fits_width(1280, 900).await);
    newcomer.type_into("#password", "short").await;
    newcomer.type_into("#password_confirm", "other").await;
    newcomer.click("#create-account").await;
    newcomer.wait_for("#name-error").await;
    assert_eq!(newcomer.count("#password-error").await, 1);
    newcomer.check("link-create-account-errors").await;
    assert_eq!(memberships_of(&app, NEWCOMER).await, 0, "nothing written");
    // The language switch of the form's answer comes back to the same link.
    let other = if lang == "en" { "ja" } else { "en" };
    switch_language(&newcomer, other).await;
    newcomer.wait_for("#create-intro").await;
    switch_language(&newcomer, lang).await;
    newcomer.wait_for("#create-intro").await;
    let password = "the newcomer's own long password";
    newcomer.type_into("#name", names.newcomer).await;
    newcomer.type_into("#password", password).await;
    newcomer.type_into("#password_confirm", password).await;
    newcomer.click("#create-account").await;
    newcomer.wait_for("#joined").await;
    assert_eq!(newcomer.count("#open-org").await, 0, "a member is not sent to the keys");
    assert!(
        newcomer.text("#account-link").await.contains(names.newcomer),
        "signed in as the new account at once"
    );
    newcomer.check("joined-as-member").await;
    newcomer.click("#continue").await;
    newcomer.wait_for("#account-link").await;
    newcomer.check("member-continues").await;

    // Whoever holds a used, revoked or expired link is told so.
    for (link, problem, page) in [
        (&newcomer_link, i.used, "link-used"),
        (&revoked_link, i.revoked, "link-revoked"),
        (&late_link, i.expired, "link-expired"),
    ] {
        newcomer.visit(link).await;
        newcomer.wait_for("#invitation-problem").await;
        assert_eq!(newcomer.text("#invitation-problem").await, problem, "{page}");
        assert_eq!(newcomer.count("#create-account").await, 0, "{page}");
        newcomer.check(page).await;
    }
    newcomer.close().await;

    // On a shared computer, a colleague is signed in: the link is not theirs.
    let mut shared = Browser::open(driver, &app.address, lang, axe).await;
    shared.visit("/login").await;
    sign_in(&shared, COLLEAGUE).await;
    shared.wait_for("#sign-out").await;
    shared.visit(&existing_link).await;
    shared.wait_for("#wrong-account").await;
    let wrong = shared.text("#wrong-account").await;
    assert!(wrong.contains(COLLEAGUE) && wrong.contains(EXISTING), "{wrong}");
    assert_eq!(shared.count("#accept").await, 0, "no accept button");
    shared.check("link-wrong-account").await;
    // Not even a hand-made accept form with the colleague's session works.
    let csrf = shared
        .attribute("form[action=\"/logout\"] input[name=\"csrf\"]", "value")
        .await;
    let token = &existing_link[existing_link.find('=').expect("a token") + 1..];
    shared
        .post(
            "/invitations",
            &[("csrf", &csrf), ("token", token), ("action", "accept")],
        )
        .await;
    shared.wait_for("#wrong-account").await;
    assert_eq!(shared.count("#joined").await, 0);
    assert_eq!(memberships_of(&app, COLLEAGUE).await, 0, "the colleague did not join");
    assert_eq!(memberships_of(&app, EXISTING).await, 0, "nor did the invited account");

    shared.click("#sign-out-to-accept").await;
    shared.wait_for("#sign-in").await;
    shared.visit(&existing_link).await;
    shared.wait_for("#existing-account").await;
    assert_eq!(shared.count("#not-yours").await, 1);
    assert_eq!(shared.count("#create-account").await, 0, "the account exists");
    shared.check("link-sign-in-to-accept").await;
    shared.click("#sign-in-to-accept").await;
    shared.wait_for("#sign-in").await;
    shared.check("sign-in-for-invitation").await;
    sign_in(&shared, EXISTING).await;
    shared.wait_for("#accept").await;
    assert!(
        shared.current_url().await.contains("/invitations?token="),
        "signing in comes back to the link"
    );
    shared.check("link-accept").await;

    // Pending, the invitation grants nothing: the org's keys are not there for them.
    let keys_path = format!("/o/{org}/settings/api-keys");
    shared.visit(&keys_path).await;
    shared.wait_for("h1").await;
    assert_eq!(shared.text("h1").await, t.not_found_heading);
    shared.check("org-before-accepting").await;

    shared.visit(&existing_link).await;
    shared.wait_for("#accept").await;
    shared.click("#accept").await;
    shared.wait_for("#joined").await;
    assert_eq!(shared.count("#continue").await, 0, "an admin is sent to the org");
    assert!(shared.attribute("#open-org", "href").await.ends_with(&keys_path));
    shared.check("joined-as-admin").await;
    // The answer's language switch leads on into the console (the org's keys, their only org),
    // not back to the used link.
    switch_language(&shared, other).await;
    shared.wait_for("#create-scoped").await;
    switch_language(&shared, lang).await;
    shared.wait_for("#create-scoped").await;
    shared.check("org-after-accepting").await;
    shared.close().await;

    // The admin's list: the new members, and only the expired invitation still pending.
    desk.visit(&members_path).await;
    desk.wait_for("#members").await;
    let mut listed = desk.texts("a.member-link").await;
    listed.sort();
    let mut joined = vec![names.admin, names.newcomer, names.existing];
    joined.sort();
    assert_eq!(listed, joined);
    assert_eq!(desk.texts(".invitation-email").await, [LATE]);
    assert_eq!(desk.text("#invitations .badge").await, i.state_expired);
    desk.check("members-joined").await;

    // A new link for the expired invitation replaces the old one, which stops working.
    desk.click(&format!(".new-invitation-link[aria-label*=\"{LATE}\"]"))
        .await;
    desk.wait_for("#invitation-link").await;
    let renewed_link = path_of(&desk.text("#invitation-link").await);
    desk.check("invitation-renewed").await;
    desk.visit(&late_link).await;
    desk.wait_for("#invitation-problem").await;
    assert_eq!(desk.text("#invitation-problem").await, i.unknown);
    desk.check("link-replaced").await;
    desk.visit(&members_path).await;
    desk.wait_for("#invitations").await;
    assert_eq!(desk.text("#invitations .badge").await, i.state_pending);
    desk.click(&format!(".revoke-invitation[aria-label*=\"{LATE}\"]")).await;
    desk.wait_for("#no-invitations").await;
    desk.visit(&renewed_link).await;
    desk.wait_for("#invitation-problem").await;
    assert_eq!(desk.text("#invitation-problem").await, i.revoked);

    // The audit log names who joined.
    desk.visit(&format!("/o/{org}/settings/audit-log")).await;
    desk.wait_for("table").await;
    let log = desk.text("main").await;
    for expected in [names.newcomer, names.existing, LATE] {
        assert!(log.contains(expected), "the audit log names {expected}: {log}");
    }
    desk.check("audit-log-invitations").await;
    desk.close().await;
}

#[tokio::test]
async fn people_accept_invitations_in_english_and_japanese() {
    let Some(axe) = crate::axe_or_skip() else { return };
    let driver = Driver::start(crate::CHROMEDRIVER).await;
    let en = Names {
        org: "Northwind",
        admin: "Sato",
        newcomer: "Nao Nakamura",
        existing: "Kenji Kimura",
        colleague: "Yui Suzuki",
    };
    flow(&driver, &axe, "en", en).await;
    let ja = Names {
        org: "北風商事",
        admin: "佐藤",
        newcomer: "中村 奈央",
        existing: "木村 健二",
        colleague: "鈴木 結衣",
    };
    flow(&driver, &axe, "ja", ja).await;
}
