//! Members and one-step offboarding in a real browser, in English then Japanese: an admin who
//! created two keys is removed (the confirmation lists both, both keys are refused at once, the
//! member is gone), another is suspended the same way, the last admin cannot be removed, a
//! set-password link is offered only for an account the org manages (not one's own, not one
//! managed elsewhere) and works once, and the audit log shows each event with its actor and
//! address. A screenshot of every page, and axe-core over each.

use keyward::console::catalog::{Lang, members};

use crate::browser::{Browser, Driver};
use crate::console::{self, directories_status};
use crate::helpers::TestApp;

struct Names {
    org: &'static str,
    admin: &'static str,
    leaver: &'static str,
    sleeper: &'static str,
    newcomer: &'static str,
}

/// A member without a password yet, whose account the org manages.
const NEWCOMER: &str = "nora@northwind.example";

async fn flow(driver: &Driver, axe: &str, lang: &str, names: Names) {
    let m = members::of(Lang::from_tag(lang).expect("a console language"));
    let app = TestApp::spawn().await;
    let org = app.org(names.org).await;
    let people = [
        ("sato@example.com", names.admin),
        ("leaver@example.com", names.leaver),
        ("sleeper@example.com", names.sleeper),
    ];
    let mut ids = Vec::new();
    for (email, name) in people {
        let user = console::person(&app, email).await;
        sqlx::query("UPDATE users SET display_name = $2 WHERE id = $1")
            .bind(user)
            .bind(name)
            .execute(&app.pool)
            .await
            .expect("name");
        app.member(org, user, "admin").await;
        ids.push(user);
    }
    // The newcomer's address is at the org's verified domain: the org manages the account.
    app.domain(org, "northwind.example", true).await;
    let newcomer = app.user(NEWCOMER, Some(org)).await;
    sqlx::query("UPDATE users SET display_name = $2 WHERE id = $1")
        .bind(newcomer)
        .bind(names.newcomer)
        .execute(&app.pool)
        .await
        .expect("name");
    app.member(org, newcomer, "member").await;
    let leaver_keys = [app.key_for(org, ids[1]).await, app.key_for(org, ids[1]).await];
    let sleeper_keys = [app.key_for(org, ids[2]).await, app.key_for(org, ids[2]).await];

    let mut browser = Browser::open(driver, &app.address, lang, axe).await;
    browser.visit("/login").await;
    browser.type_into("#email", "sato@example.com").await;
    browser.type_into("#password", console::PASSWORD).await;
    browser.click("#sign-in").await;
    browser.wait_for("#create-scoped").await;

    let members = format!("/o/{org}/settings/members");
    browser.visit(&members).await;
    browser.wait_for("#members").await;
    browser.check("members").await;

    // The keys list offers to revoke every key of a creator; its confirmation lists them.
    browser
        .visit(&format!("/o/{org}/settings/api-keys?tab=unscoped&creator={}", ids[1]))
        .await;
    browser.click("#revoke-by-creator").await;
    browser.wait_for("#confirm-bulk-revoke").await;
    assert_eq!(browser.count(".answered-key").await, 2);
    browser.check("bulk-revoke-confirm").await;

    // Removing an admin who created two keys.
    browser.visit(&members).await;
    browser.wait_for("#members").await;
    browser.click_text("a.member-link", names.leaver).await;
    browser.wait_for("#remove").await;
    assert_eq!(
        browser.count("#managed-elsewhere").await,
        1,
        "no set-password link for an account the org does not manage"
    );
    assert_eq!(browser.count("#new-link").await, 0);
    browser.scroll_to("#managed-elsewhere").await;
    browser.check("member").await;
    browser.click("#remove").await;
    browser.wait_for("#confirm-step").await;
    assert_eq!(
        browser.count(".answered-key").await,
        2,
        "the confirmation lists both keys"
    );
    browser.check("remove-confirm").await;
    browser.click("#confirm-step").await;
    browser.wait_for("#done-title").await;
    assert_eq!(browser.count(".revoked-key").await, 2);
    browser.check("removed").await;
    for key in &leaver_keys {
        assert_eq!(directories_status(&app, org, &key.token).await, 401, "refused at once");
    }
    browser.visit(&members).await;
    browser.wait_for("#members").await;
    assert_eq!(
        browser.count(&format!("a[href$=\"{}\"]", ids[1])).await,
        0,
        "the member is gone"
    );

    // The same with suspension.
    browser.click_text("a.member-link", names.sleeper).await;
    browser.wait_for("#suspend").await;
    browser.click("#suspend").await;
    browser.wait_for("#revoke-keys").await;
    browser.check("suspend-confirm").await;
    browser.click("#confirm-step").await;
    browser.wait_for("#done-title").await;
    assert_eq!(browser.count(".revoked-key").await, 2);
    for key in &sleeper_keys {
        assert_eq!(directories_status(&app, org, &key.token).await, 401);
    }
    browser.click("#back").await;
    browser.wait_for("#restore").await;
    browser.check("member-suspended").await;

    // Make the sleeper a member, then the admin is the last admin: they cannot be removed.
    browser.visit(&format!("{members}/{}/demote", ids[2])).await;
    browser.wait_for("#confirm-step").await;
    browser.check("demote-confirm").await;
    browser.click("#confirm-step").await;
    browser.wait_for("#done-title").await;
    browser.visit(&format!("{members}/{}/remove", ids[0])).await;
    browser.wait_for("#last-admin-refused").await;
    assert_eq!(browser.count("#confirm-step").await, 0, "nothing to confirm");
    browser.check("last-admin").await;

    // An account the org manages (it verified the address's domain): promoted, then a
    // set-password link issued from its page works once. The admin's own page offers none.
    browser.visit(&format!("{members}/{}", ids[0])).await;
    browser.wait_for("#own-account").await;
    assert_eq!(browser.count("#new-link").await, 0, "no link for oneself");
    browser.scroll_to("#own-account").await;
    browser.check("member-own").await;
    browser.visit(&members).await;
    browser.wait_for("#members").await;
    let managed: Vec<String> = browser.texts("td.managed").await;
    assert_eq!(
        managed.iter().filter(|cell| *cell == m.yes).count(),
        1,
        "only the newcomer's account is managed here: {managed:?}"
    );
    browser.click_text("a.member-link", names.newcomer).await;
    browser.wait_for("#new-link").await;
    browser.scroll_to("#new-link").await;
    browser.check("member-managed").await;
    browser.click("#promote").await;
    browser.wait_for("#demote").await;
    browser.click("#new-link").await;
    browser.wait_for("#link-value").await;
    browser.check("link-shown-once").await;
    let link = browser.text("#link-value").await;
    let path = &link[link.find("/welcome").expect("a welcome link")..];
    browser.click("#sign-out").await;
    browser.wait_for("#sign-in").await;
    browser.visit(path).await;
    browser.wait_for("#set-password").await;
    browser.check("welcome").await;
    let password = "newcomer's own long password";
    browser.type_into("#password", password).await;
    browser.type_into("#password_confirm", password).await;
    browser.click("#set-password").await;
    browser.wait_for("#password-set").await;
    browser.check("password-set").await;
    browser.visit(path).await;
    browser.wait_for("#welcome-problem").await;
    browser.check("link-used").await;

    // The newcomer signs in and reads the audit log: every step, with its actor and address.
    browser.visit("/login").await;
    browser.type_into("#email", NEWCOMER).await;
    browser.type_into("#password", password).await;
    browser.click("#sign-in").await;
    browser.wait_for("#create-scoped").await;
    browser.visit(&format!("/o/{org}/settings/audit-log")).await;
    browser.wait_for("table").await;
    let log = browser.text("main").await;
    for expected in [names.admin, names.leaver, names.sleeper, "127.0.0.1"] {
        assert!(log.contains(expected), "the audit log names {expected}: {log}");
    }
    browser.check("audit-log-offboarding").await;
    browser.close().await;
}

#[tokio::test]
async fn admins_are_offboarded_with_their_keys_in_english_and_japanese() {
    let Some(axe) = crate::axe_or_skip() else { return };
    let driver = Driver::start(crate::CHROMEDRIVER).await;
    let en = Names {
        org: "Northwind",
        admin: "Sato",
        leaver: "Lee Leaver",
        sleeper: "Sam Sleeper",
        newcomer: "Nora Newcomer",
    };
    flow(&driver, &axe, "en", en).await;
    let ja = Names {
        org: "北風商事",
        admin: "佐藤",
        leaver: "離任 太郎",
        sleeper: "休職 花子",
        newcomer: "新人 次郎",
    };
    flow(&driver, &axe, "ja", ja).await;
}
