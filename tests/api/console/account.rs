//! Your account page over HTTP: each form's bad input answered beside its field with nothing
//! changed, CSRF and the origin check on every POST, the password change (the current password
//! verified and throttled, every other session ended, this one kept), ending other sessions (all,
//! or one by its public id, never another user's), the time zone every page's dates are shown
//! in, and the `user.signed_in` event that each administered org's audit log gets at sign-in.

use reqwest::header::USER_AGENT;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::harness::console::{Console, PASSWORD, person};
use crate::harness::english::{self, english_in};
use crate::harness::{Page, SignedInAdmin, TestApp, behind_proxy, location};

const EMAIL: &str = "yamada@example.com";
const NEW_PASSWORD: &str = "a much longer passphrase now";

/// The public id of the session a browser holds.
async fn public_id(app: &TestApp, console: &Console) -> Uuid {
    let cookie = console.cookie("kw_session").expect("a session cookie");
    sqlx::query_scalar("SELECT public_id FROM sessions WHERE id_hash = $1")
        .bind(Sha256::digest(cookie.as_bytes()).to_vec())
        .fetch_one(&app.pool)
        .await
        .expect("the browser's session")
}

/// Whether the browser is still signed in: its next page is the account page, not the sign-in.
async fn signed_in(console: &Console) -> bool {
    let res = console.get("/account").await;
    match res.status().as_u16() {
        200 => true,
        303 => {
            assert!(location(&res).starts_with("/login"), "{}", location(&res));
            false
        }
        other => panic!("GET /account answered {other}"),
    }
}

/// The person's row as the account page changes it.
async fn row(me: &SignedInAdmin) -> (String, Option<String>, Option<String>, Option<String>) {
    sqlx::query_as("SELECT display_name, locale, zoneinfo, password_hash FROM users WHERE id = $1")
        .bind(me.user)
        .fetch_one(&me.app.pool)
        .await
        .expect("user row")
}

async fn events(me: &SignedInAdmin, action: &str) -> Vec<(Option<Uuid>, Option<String>, serde_json::Value)> {
    sqlx::query_as(
        "SELECT org_id, host(ip), details FROM audit_events WHERE action = $1 AND actor_id = $2 ORDER BY org_id",
    )
    .bind(action)
    .bind(me.user)
    .fetch_all(&me.app.pool)
    .await
    .expect("events")
}

/// Another browser signed in as the same person.
async fn elsewhere(me: &SignedInAdmin) -> Console {
    Console::signed_in(&me.app, EMAIL).await
}

async fn password_change(me: &SignedInAdmin, current: &str, new: &str, repeat: &str) -> reqwest::Response {
    me.post(
        "/account/password",
        &[
            ("current_password", current),
            ("new_password", new),
            ("repeat_password", repeat),
        ],
    )
    .await
}

/// The page answered 422 with `message` beside the field `id` (its error linked to it).
async fn refused_beside(res: reqwest::Response, id: &str, message: &str) -> String {
    assert_eq!(res.status(), 422, "bad input at {id}");
    let html = res.text().await.expect("page");
    let page = Page::parse(&html);
    let field = page.first(&format!("#{id}")).unwrap_or_else(|| panic!("no field {id}"));
    let field = field.value();
    assert!(
        field
            .attr("aria-describedby")
            .is_some_and(|d| d.starts_with(&format!("{id}-error")))
            && field.attr("aria-invalid") == Some("true"),
        "{id} is marked invalid: {field:?}"
    );
    assert_eq!(
        page.text(&format!("p#{id}-error")).as_deref(),
        Some(message),
        "{id}'s error says {message:?}"
    );
    html
}

#[tokio::test]
async fn the_account_page_needs_a_session_and_shows_no_org_bar() {
    let me = SignedInAdmin::new().await;
    let res = Console::new(&me.app).get("/account").await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/login?next=%2Faccount");

    let html = me.console.page("/account").await;
    assert!(html.contains(EMAIL), "the page names the account");
    assert!(!Page::parse(&html).has("#current-org-name"), "no org bar");
    assert!(
        Page::parse(&html).text(r#"option[value="UTC"][selected]"#).as_deref() == Some("UTC"),
        "UTC by default"
    );
    assert_eq!(
        Page::parse(&html).text(r#"option[value="Asia/Tokyo"]"#).as_deref(),
        Some("Asia/Tokyo (UTC+09:00)")
    );
}

#[tokio::test]
async fn a_bad_display_name_is_answered_beside_the_field_and_changes_nothing() {
    let me = SignedInAdmin::new().await;
    let before = row(&me).await;
    for (name, message) in [
        ("", "Enter a name."),
        ("   ", "Enter a name."),
        (&*"名".repeat(101), "Use at most 100 characters."),
        ("bell\u{7}", "Remove control characters from the name."),
    ] {
        let res = me.post("/account/profile", &[("display_name", name)]).await;
        refused_beside(res, "display_name", message).await;
    }
    assert_eq!(row(&me).await, before);
    assert!(events(&me, "user.profile_updated").await.is_empty());

    let res = me.post("/account/profile", &[("display_name", "  山田 花子 ")]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/account?saved=profile");
    assert_eq!(row(&me).await.0, "山田 花子");
    let html = me.console.page("/account?saved=profile").await;
    assert_eq!(
        Page::parse(&html).text("p#notice").as_deref(),
        Some("Your name was saved.")
    );
    assert!(html.contains("Signed in as 山田 花子"), "the header shows the new name");
    let events = events(&me, "user.profile_updated").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].0, Some(me.org));
    assert_eq!(events[0].2["fields"], serde_json::json!(["name"]));
}

#[tokio::test]
async fn an_unknown_language_or_time_zone_is_answered_beside_its_field_and_changes_nothing() {
    let me = SignedInAdmin::new().await;
    let before = row(&me).await;
    for language in ["", "fr", "ja-JP", "EN"] {
        let res = me.post("/account/language", &[("language", language)]).await;
        refused_beside(res, "language", "Choose one of the languages listed.").await;
    }
    // Japan is an alias of Asia/Tokyo the list leaves out.
    for zone in ["", "Mars/Olympus_Mons", "asia/tokyo", "Japan", &"A".repeat(5000)] {
        let res = me.post("/account/time-zone", &[("zone", zone)]).await;
        refused_beside(res, "zone", "Choose one of the time zones listed.").await;
    }
    assert_eq!(row(&me).await, before);
    assert!(events(&me, "user.profile_updated").await.is_empty());

    let res = me.post("/account/language", &[("language", "ja")]).await;
    assert_eq!(location(&res), "/account?saved=language");
    assert_eq!(row(&me).await.1.as_deref(), Some("ja"));
    let html = me.console.page("/account?saved=language").await;
    assert_eq!(Page::parse(&html).lang(), "ja");
    assert!(html.contains("言語を保存しました。"));
}

#[tokio::test]
async fn a_time_zone_shows_every_date_in_it_and_names_it() {
    let me = SignedInAdmin::new().await;
    let key = me.app.key(me.org, None).await;
    sqlx::query(
        "UPDATE api_keys SET last_used_at = '2026-01-15 20:30:00+00', last_used_ip = '192.0.2.1' WHERE public_id = $1",
    )
    .bind(key.public_id())
    .execute(&me.app.pool)
    .await
    .expect("last used");
    let keys = format!("/o/{}/settings/api-keys?tab=unscoped", me.org);
    let html = me.console.page(&keys).await;
    assert!(html.contains("Jan 15, 2026 20:30 UTC"), "UTC without a zone");
    assert!(html.contains("Times are shown in UTC."));

    let res = me.post("/account/time-zone", &[("zone", "Asia/Tokyo")]).await;
    assert_eq!(location(&res), "/account?saved=time-zone");
    assert_eq!(row(&me).await.2.as_deref(), Some("Asia/Tokyo"));
    let html = me.console.page(&keys).await;
    assert!(
        html.contains("Jan 16, 2026 05:30 Asia/Tokyo"),
        "nine hours on, the next day"
    );
    assert!(!html.contains("20:30 UTC"));
    assert!(html.contains("Times are shown in Asia/Tokyo."));
    let account = me.console.page("/account").await;
    assert!(Page::parse(&account).has(r#"option[value="Asia/Tokyo"][selected]"#));
    let events = events(&me, "user.profile_updated").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].2["fields"], serde_json::json!(["zoneinfo"]));
}

#[tokio::test]
async fn every_post_refuses_a_missing_or_wrong_token_and_another_site() {
    let me = SignedInAdmin::new().await;
    let other = elsewhere(&me).await;
    let other_id = public_id(&me.app, &other).await;
    let sessions_before = me.app.count("sessions").await;
    let row_before = row(&me).await;
    let one = format!("/account/sessions/{other_id}/sign-out");
    let posts: [(&str, &[(&str, &str)]); 6] = [
        ("/account/profile", &[("display_name", "Changed")]),
        ("/account/language", &[("language", "ja")]),
        ("/account/time-zone", &[("zone", "Asia/Tokyo")]),
        (
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", NEW_PASSWORD),
                ("repeat_password", NEW_PASSWORD),
            ],
        ),
        ("/account/sessions/sign-out-others", &[]),
        (&one, &[]),
    ];
    for (path, fields) in posts {
        assert_eq!(
            me.console.post(path, fields).await.status(),
            403,
            "{path} without a token"
        );
        let mut wrong = fields.to_vec();
        wrong.push(("csrf", "00ff"));
        assert_eq!(
            me.console.post(path, &wrong).await.status(),
            403,
            "{path} with a wrong token"
        );
        let cross = me.post_from_another_site(path, fields).await;
        assert_eq!(cross.status(), 403, "{path} from another site");
    }
    assert_eq!(row(&me).await, row_before);
    assert_eq!(me.app.count("sessions").await, sessions_before);
    assert!(signed_in(&other).await);
    let changes: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action <> 'user.signed_in'")
        .fetch_one(&me.app.pool)
        .await
        .expect("events");
    assert_eq!(changes, 0);
}

#[tokio::test]
async fn a_wrong_current_password_changes_nothing() {
    let me = SignedInAdmin::new().await;
    let other = elsewhere(&me).await;
    let before = row(&me).await;
    let res = password_change(&me, "not my password at all", NEW_PASSWORD, NEW_PASSWORD).await;
    let html = refused_beside(res, "current_password", "This is not your current password.").await;
    assert!(!html.contains(NEW_PASSWORD), "passwords are never shown again");
    assert_eq!(row(&me).await, before);
    assert!(signed_in(&other).await, "the other session goes on");
    assert!(events(&me, "user.password_changed").await.is_empty());
}

#[tokio::test]
async fn the_new_passwords_rules_are_answered_beside_their_fields() {
    let me = SignedInAdmin::new().await;
    let before = row(&me).await;
    let res = password_change(&me, "", NEW_PASSWORD, NEW_PASSWORD).await;
    refused_beside(res, "current_password", "Enter your current password.").await;
    let res = password_change(&me, PASSWORD, "too short", "too short").await;
    refused_beside(res, "new_password", "Use at least 12 characters.").await;
    let res = password_change(&me, PASSWORD, NEW_PASSWORD, "a different passphrase").await;
    refused_beside(res, "repeat_password", "The two passwords do not match.").await;
    assert_eq!(row(&me).await, before);
}

#[tokio::test]
async fn changing_the_password_ends_every_other_session_and_keeps_this_one() {
    let me = SignedInAdmin::new().await;
    let other = elsewhere(&me).await;
    let res = password_change(&me, PASSWORD, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/account?saved=password");

    assert!(!signed_in(&other).await, "the other browser must sign in again");
    let html = me.console.page("/account?saved=password").await;
    assert!(html.contains("Your password was changed."));
    assert_eq!(me.app.count("sessions").await, 1);
    let events = events(&me, "user.password_changed").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].0, Some(me.org));
    assert_eq!(events[0].2["sessions_ended"], 1);

    let old = Console::new(&me.app).sign_in(EMAIL, PASSWORD, "").await;
    assert_eq!(old.status(), 401, "the old password no longer signs in");
    let new = Console::new(&me.app).sign_in(EMAIL, NEW_PASSWORD, "").await;
    assert_eq!(new.status(), 303, "the new one does");
}

#[tokio::test]
async fn wrong_current_passwords_are_throttled() {
    let me = SignedInAdmin::new().await;
    for _ in 0..5 {
        let res = password_change(&me, "guessing the password", NEW_PASSWORD, NEW_PASSWORD).await;
        assert_eq!(res.status(), 422);
    }
    let before = row(&me).await;
    let res = password_change(&me, PASSWORD, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(res.status(), 429, "even the right password waits now");
    let html = res.text().await.expect("page");
    let error = Page::parse(&html).text("#current_password-error").unwrap_or_default();
    assert!(error.starts_with("Too many wrong passwords."), "{error}");
    assert_eq!(row(&me).await, before);
}

#[tokio::test]
async fn signing_out_everywhere_else_ends_the_others_and_keeps_this_one() {
    let me = SignedInAdmin::new().await;
    let (second, third) = (elsewhere(&me).await, elsewhere(&me).await);
    let html = me.console.page("/account").await;
    assert_eq!(
        html.matches("/sign-out\"").count(),
        2,
        "the two others each offer a sign-out"
    );
    assert_eq!(Page::parse(&html).count("#this-session"), 1);

    let res = me.post("/account/sessions/sign-out-others", &[]).await;
    assert_eq!(location(&res), "/account?saved=others");
    assert!(!signed_in(&second).await);
    assert!(!signed_in(&third).await);
    let html = me.console.page("/account?saved=others").await;
    assert!(html.contains("You were signed out everywhere else."));
    assert!(Page::parse(&html).has("#no-other-sessions"));
    let events = events(&me, "user.other_sessions_ended").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].2["sessions_ended"], 2);
}

#[tokio::test]
async fn signing_out_one_other_session_ends_just_that_one() {
    let me = SignedInAdmin::new().await;
    let (second, third) = (elsewhere(&me).await, elsewhere(&me).await);
    let id = public_id(&me.app, &second).await;
    let html = me.console.page("/account").await;
    assert!(html.contains(&format!("/account/sessions/{id}/sign-out")));

    let res = me.post(&format!("/account/sessions/{id}/sign-out"), &[]).await;
    assert_eq!(location(&res), "/account?saved=session");
    assert!(!signed_in(&second).await);
    assert!(signed_in(&third).await);
    assert!(signed_in(&me.console).await);
    let events = events(&me, "user.other_sessions_ended").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].2["session"], id.to_string());
}

#[tokio::test]
async fn another_users_session_and_this_one_are_not_found_and_nothing_ends() {
    let me = SignedInAdmin::new().await;
    person(&me.app, "sato@example.com").await;
    let theirs = Console::signed_in(&me.app, "sato@example.com").await;
    let their_id = public_id(&me.app, &theirs).await;
    let mine = public_id(&me.app, &me.console).await;
    for id in [
        their_id.to_string(),
        mine.to_string(),
        Uuid::new_v4().to_string(),
        "not-an-id".into(),
    ] {
        let res = me.post(&format!("/account/sessions/{id}/sign-out"), &[]).await;
        assert_eq!(res.status(), 404, "{id}");
    }
    assert!(signed_in(&theirs).await);
    assert!(signed_in(&me.console).await);
    assert!(events(&me, "user.other_sessions_ended").await.is_empty());
}

/// A `user.signed_in` event: its org, address, user agent and target.
type SignInEvent = (Uuid, Option<String>, Option<String>, Option<String>);

#[tokio::test]
async fn signing_in_records_an_event_in_every_administered_org_with_the_address() {
    let app = TestApp::spawn_with(behind_proxy()).await;
    let user = person(&app, EMAIL).await;
    let (first, second, member_of, suspended) = (
        app.org("一").await,
        app.org("二").await,
        app.org("三").await,
        app.org("四").await,
    );
    app.member(first, user, "admin").await;
    app.member(second, user, "admin").await;
    app.member(member_of, user, "member").await;
    app.member(suspended, user, "admin").await;
    sqlx::query("UPDATE memberships SET suspended_at = now() WHERE org_id = $1")
        .bind(suspended)
        .execute(&app.pool)
        .await
        .expect("suspend");

    let console = Console::from(&app, "198.51.100.20");
    let csrf = console.sign_in_form("").await;
    let res = console
        .request(reqwest::Method::POST, "/login")
        .header(USER_AGENT, "Firefox/140.0 (test)")
        .form(&[
            ("csrf", csrf.as_str()),
            ("next", ""),
            ("email", EMAIL),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("sign in");
    assert_eq!(res.status(), 303);

    let mut expected = vec![first, second];
    expected.sort();
    let events: Vec<SignInEvent> = sqlx::query_as(
        "SELECT org_id, host(ip), user_agent, target_id FROM audit_events
         WHERE action = 'user.signed_in' AND actor_kind = 'user' AND actor_id = $1 ORDER BY org_id",
    )
    .bind(user)
    .fetch_all(&app.pool)
    .await
    .expect("events");
    assert_eq!(
        events.iter().map(|e| e.0).collect::<Vec<_>>(),
        expected,
        "one per administered org"
    );
    for (_, ip, agent, target) in &events {
        assert_eq!(ip.as_deref(), Some("198.51.100.20"));
        assert_eq!(agent.as_deref(), Some("Firefox/140.0 (test)"));
        assert_eq!(target.as_deref(), Some(user.to_string().as_str()));
    }

    let session: (Option<String>, Option<String>) = sqlx::query_as("SELECT host(ip), user_agent FROM sessions")
        .fetch_one(&app.pool)
        .await
        .expect("session");
    assert_eq!(
        session,
        (Some("198.51.100.20".into()), Some("Firefox/140.0 (test)".into()))
    );
    let html = console.page("/account").await;
    assert!(html.contains("198.51.100.20") && html.contains("Firefox/140.0 (test)"));
}

#[tokio::test]
async fn the_page_speaks_japanese_with_its_errors_and_notices() {
    let me = SignedInAdmin::new().await;
    let _other = elsewhere(&me).await;
    let res = me.post("/account/language", &[("language", "ja")]).await;
    assert_eq!(res.status(), 303);
    let pages = [
        me.console.page("/account?saved=password").await,
        me.post("/account/profile", &[("display_name", "")])
            .await
            .text()
            .await
            .expect("page"),
        me.post("/account/time-zone", &[("zone", "Nowhere")])
            .await
            .text()
            .await
            .expect("page"),
        password_change(&me, "", "short", "").await.text().await.expect("page"),
    ];
    for html in pages {
        assert_eq!(Page::parse(&html).lang(), "ja");
        let english = english_in(&html, &[english::layout(), english::account_page()].concat());
        assert!(english.is_empty(), "English on the Japanese page: {english:?}");
    }
}

#[tokio::test]
async fn what_someone_administering_no_org_does_is_recorded_in_no_orgs_log() {
    let app = TestApp::spawn().await;
    let org = app.org("アクメ").await;
    let user = person(&app, EMAIL).await;
    app.member(org, user, "member").await;
    Console::signed_in(&app, EMAIL).await;
    let orgs: Vec<Option<Uuid>> =
        sqlx::query_scalar("SELECT org_id FROM audit_events WHERE action = 'user.signed_in' AND actor_id = $1")
            .bind(user)
            .fetch_all(&app.pool)
            .await
            .expect("events");
    assert_eq!(
        orgs,
        [None],
        "one event, in no org's log (a member's org does not see its sign-ins)"
    );
}
