//! Members and one-step offboarding over HTTP: removing, suspending or demoting an admin lists
//! the keys they answer for and revokes them in the same POST; the last admin stays; the
//! invitation form (the invitations themselves are `invitations`); single-use set-password links
//! only for accounts the org manages; bulk revocation; a key's keys; CSRF and cross-site posts
//! refused on every form; other orgs' members 404; `keyward admin reset-password`.

use uuid::Uuid;

use crate::harness::console::{Console, PASSWORD, person};
use crate::harness::html;
use crate::harness::signed_in::Admin;
use crate::harness::{Page, SignedInAdmin, TestApp, TestKey, database_server, keyward};

/// Northwind with two admins: Ada, signed in, and Bob, who answers for two keys.
async fn org() -> (SignedInAdmin, Uuid, [TestKey; 2]) {
    let ada = Admin {
        org: "Northwind",
        email: "ada@example.com",
        from: None,
    };
    let o = SignedInAdmin::on(TestApp::spawn().await, ada).await;
    let bob = person(&o.app, "bob@example.com").await;
    o.app.member(o.org, bob, "admin").await;
    let bob_keys = [o.app.key_for(o.org, bob).await, o.app.key_for(o.org, bob).await];
    (o, bob, bob_keys)
}

/// A member's page.
fn member(o: &SignedInAdmin, user: Uuid) -> String {
    o.org_path(&format!("/settings/members/{user}"))
}

async fn is_member(o: &SignedInAdmin, user: Uuid) -> bool {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM memberships WHERE org_id = $1 AND user_id = $2)")
        .bind(o.org)
        .bind(user)
        .fetch_one(&o.app.pool)
        .await
        .expect("membership")
}

async fn events(o: &SignedInAdmin, action: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE org_id = $1 AND action = $2")
        .bind(o.org)
        .bind(action)
        .fetch_one(&o.app.pool)
        .await
        .expect("events")
}

/// What a refused request must leave as it was.
async fn state(o: &SignedInAdmin) -> Vec<Vec<String>> {
    let mut state = Vec::new();
    for table in [
        "memberships",
        "api_keys",
        "password_links",
        "invitations",
        "users",
        "audit_events",
    ] {
        state.push(o.app.snapshot(table).await);
    }
    state
}

#[tokio::test]
async fn removing_an_admin_lists_their_keys_and_revokes_them_in_the_same_step() {
    let (o, bob_id, bob_keys) = org().await;
    for key in &bob_keys {
        assert_eq!(o.key_status(key).await, 200, "bob's key works before");
    }
    let confirm = o.console.page(&format!("{}/remove", member(&o, bob_id))).await;
    for key in &bob_keys {
        assert!(
            confirm.contains(key.public_id()),
            "the confirmation lists {}",
            key.public_id()
        );
    }
    assert!(Page::parse(&confirm).has("#keys-will-be-revoked"));

    let res = o.post(&format!("{}/remove", member(&o, bob_id)), &[]).await;
    assert_eq!(res.status(), 200);
    let done = res.text().await.expect("result page");
    assert_eq!(
        Page::parse(&done).count(".revoked-key"),
        2,
        "the result lists both keys"
    );
    for key in &bob_keys {
        assert!(done.contains(key.public_id()));
        assert_eq!(o.key_status(key).await, 401, "refused at once");
    }
    assert!(!is_member(&o, bob_id).await, "bob is gone");
    assert_eq!(events(&o, "membership.removed").await, 1);
    assert_eq!(events(&o, "api_key.revoked").await, 2);
    let list = o.console.page(&format!("/o/{}/settings/members", o.org)).await;
    assert!(!list.contains("bob@example.com"));
}

#[tokio::test]
async fn suspending_an_admin_revokes_their_keys_by_default_and_ends_their_access_at_once() {
    let (o, bob_id, bob_keys) = org().await;
    let other = o.app.org("Contoso").await;
    o.app.member(other, bob_id, "admin").await;
    let bob = Console::signed_in(&o.app, "bob@example.com").await;
    assert_eq!(bob.get(&format!("/o/{}/settings/api-keys", o.org)).await.status(), 200);

    let confirm = o.console.page(&format!("{}/suspend", member(&o, bob_id))).await;
    assert!(
        Page::parse(&confirm).has(r#"input[name="revoke_keys"][value="on"][checked]"#),
        "revoking their keys is checked by default"
    );
    let res = o
        .post(&format!("{}/suspend", member(&o, bob_id)), &[("revoke_keys", "on")])
        .await;
    assert_eq!(res.status(), 200);
    for key in &bob_keys {
        assert_eq!(o.key_status(key).await, 401);
    }
    assert_eq!(
        bob.get(&format!("/o/{}/settings/api-keys", o.org)).await.status(),
        404,
        "bob's open session gets no page of this org on its next request"
    );
    assert_eq!(
        bob.get(&format!("/o/{other}/settings/api-keys")).await.status(),
        200,
        "their other org is untouched"
    );
    let page = o.console.page(&member(&o, bob_id)).await;
    assert!(Page::parse(&page).has("#restore"), "a suspended member can be restored");
    assert_eq!(events(&o, "membership.suspended").await, 1);

    let res = o.post(&format!("{}/restore", member(&o, bob_id)), &[]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(bob.get(&format!("/o/{}/settings/api-keys", o.org)).await.status(), 200);
}

#[tokio::test]
async fn suspending_or_demoting_without_the_checkbox_keeps_the_keys() {
    let (o, bob_id, bob_keys) = org().await;
    let res = o.post(&format!("{}/suspend", member(&o, bob_id)), &[]).await;
    assert_eq!(res.status(), 200);
    assert!(Page::parse(&res.text().await.expect("page")).has("#revoked-none"));
    for key in &bob_keys {
        assert_eq!(o.key_status(key).await, 200, "kept: the box was unchecked");
    }
    o.post(&format!("{}/restore", member(&o, bob_id)), &[]).await;
    let res = o
        .post(&format!("{}/role", member(&o, bob_id)), &[("role", "member")])
        .await;
    assert_eq!(res.status(), 200);
    for key in &bob_keys {
        assert_eq!(o.key_status(key).await, 200);
    }
    let role: String = sqlx::query_scalar("SELECT role::text FROM memberships WHERE org_id = $1 AND user_id = $2")
        .bind(o.org)
        .bind(bob_id)
        .fetch_one(&o.app.pool)
        .await
        .expect("role");
    assert_eq!(role, "member");
}

#[tokio::test]
async fn suspending_an_already_suspended_admin_with_the_box_checked_still_revokes_their_keys() {
    let (o, bob_id, bob_keys) = org().await;
    o.post(&format!("{}/suspend", member(&o, bob_id)), &[]).await;
    let again = o.console.page(&format!("{}/suspend", member(&o, bob_id))).await;
    assert_eq!(
        Page::parse(&again).count(".answered-key"),
        2,
        "the keys are still listed"
    );
    let res = o
        .post(&format!("{}/suspend", member(&o, bob_id)), &[("revoke_keys", "on")])
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(Page::parse(&res.text().await.expect("page")).count(".revoked-key"), 2);
    for key in &bob_keys {
        assert_eq!(o.key_status(key).await, 401, "what the page listed is gone");
    }
}

#[tokio::test]
async fn a_link_stops_working_when_the_admin_who_issued_it_is_offboarded() {
    let (o, bob_id, _) = org().await;
    let carol = o.app.user("carol@example.com", Some(o.org)).await;
    o.app.member(o.org, carol, "admin").await;
    let bob = Console::signed_in(&o.app, "bob@example.com").await;
    let csrf = bob.csrf().await;
    let res = bob
        .post(&format!("{}/password-link", member(&o, carol)), &[("csrf", &csrf)])
        .await;
    let token = link_token(&res.text().await.expect("page"));
    let browser = Console::new(&o.app);
    assert_eq!(browser.get(&format!("/welcome?token={token}")).await.status(), 200);
    let form = welcome_form(&browser, &token).await;

    o.post(&format!("{}/suspend", member(&o, bob_id)), &[]).await;
    assert_eq!(
        browser.get(&format!("/welcome?token={token}")).await.status(),
        400,
        "a suspended admin's links no longer work"
    );
    let password = "bob wants to be carol now";
    let res = browser
        .post(
            "/welcome",
            &[
                ("csrf", &form),
                ("token", &token),
                ("password", password),
                ("password_confirm", password),
            ],
        )
        .await;
    assert_eq!(res.status(), 400);
    let hash: Option<String> = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(carol)
        .fetch_one(&o.app.pool)
        .await
        .expect("carol");
    assert_eq!(hash, None, "carol's account was not taken over");
    o.post(&format!("{}/restore", member(&o, bob_id)), &[]).await;
    assert_eq!(
        browser.get(&format!("/welcome?token={token}")).await.status(),
        200,
        "the rule is the issuer's standing, judged when the link is used"
    );
}

#[tokio::test]
async fn demoting_an_admin_revokes_their_keys_in_the_same_step() {
    let (o, bob_id, bob_keys) = org().await;
    let confirm = o.console.page(&format!("{}/demote", member(&o, bob_id))).await;
    assert_eq!(Page::parse(&confirm).count(".answered-key"), 2);
    let res = o
        .post(
            &format!("{}/role", member(&o, bob_id)),
            &[("role", "member"), ("revoke_keys", "on")],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(Page::parse(&res.text().await.expect("page")).count(".revoked-key"), 2);
    for key in &bob_keys {
        assert_eq!(o.key_status(key).await, 401);
    }
    let res = o
        .post(&format!("{}/role", member(&o, bob_id)), &[("role", "admin")])
        .await;
    assert_eq!(res.status(), 303, "made admin again, without a confirmation");
}

#[tokio::test]
async fn the_last_admin_can_be_neither_removed_demoted_nor_suspended() {
    let (o, bob_id, _) = org().await;
    // Bob leaves first: Ada is then the only admin.
    o.post(&format!("{}/remove", member(&o, bob_id)), &[]).await;
    let ada: Uuid = sqlx::query_scalar("SELECT id FROM users WHERE email = 'ada@example.com'")
        .fetch_one(&o.app.pool)
        .await
        .expect("ada");
    let detail = o.console.page(&member(&o, ada)).await;
    assert!(Page::parse(&detail).has("#last-admin-note"));
    for step in ["remove", "suspend", "demote"] {
        let res = o.console.get(&format!("{}/{step}", member(&o, ada))).await;
        assert_eq!(res.status(), 409, "{step}");
        let html = res.text().await.expect("page");
        assert!(Page::parse(&html).has("#last-admin-refused"), "{step}");
        assert!(!Page::parse(&html).has("#confirm-step"), "{step}: nothing to confirm");
    }
    let before = state(&o).await;
    for (path, fields) in [
        ("remove", vec![]),
        ("suspend", vec![("revoke_keys", "on")]),
        ("role", vec![("role", "member"), ("revoke_keys", "on")]),
    ] {
        let res = o.post(&format!("{}/{path}", member(&o, ada)), &fields).await;
        assert_eq!(res.status(), 409, "{path}");
        assert!(Page::parse(&res.text().await.expect("page")).has("#last-admin-refused"));
    }
    assert_eq!(state(&o).await, before, "nothing changed");
}

/// The token of the set-password link a page shows.
fn link_token(html: &str) -> String {
    let link = Page::parse(html).text("code#link-value").expect("a link on the page");
    link.split_once("token=").expect("a token in the link").1.to_owned()
}

/// The welcome form's fields for `token`, as a browser fetching `/welcome` gets them.
async fn welcome_form(browser: &Console, token: &str) -> String {
    let html = browser.page(&format!("/welcome?token={token}")).await;
    Page::parse(&html).form_token("/welcome")
}

#[tokio::test]
async fn a_managed_members_set_password_link_is_issued_from_their_page_and_works_once() {
    let (o, _, _) = org().await;
    let carol = o.app.user("carol@example.com", Some(o.org)).await;
    o.app.member(o.org, carol, "member").await;
    let page = o.console.page(&member(&o, carol)).await;
    assert!(Page::parse(&page).has("#new-link"), "this org manages carol's account");

    let res = o.post(&format!("{}/password-link", member(&o, carol)), &[]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers().get("cache-control").and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let token = link_token(&res.text().await.expect("page"));
    let stored: Vec<u8> = sqlx::query_scalar("SELECT token_hash FROM password_links")
        .fetch_one(&o.app.pool)
        .await
        .expect("link");
    assert_eq!(
        stored,
        keyward::service::people::password_links::token_hash(&token),
        "its SHA-256 is stored"
    );
    let anywhere: bool = sqlx::query_scalar("SELECT strpos(p::text, $1) > 0 FROM password_links p")
        .bind(&token)
        .fetch_one(&o.app.pool)
        .await
        .expect("row text");
    assert!(!anywhere, "the token itself is in no column");
    assert_eq!(events(&o, "user.password_link_issued").await, 1);

    let browser = Console::new(&o.app);
    let csrf = welcome_form(&browser, &token).await;
    let res = browser
        .post(
            "/welcome",
            &[
                ("csrf", &csrf),
                ("token", &token),
                ("password", "short"),
                ("password_confirm", "short"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(Page::parse(&res.text().await.expect("page")).has("#password-error"));
    let new_password = "a brand new password for carol";
    let res = browser
        .post(
            "/welcome",
            &[
                ("csrf", &csrf),
                ("token", &token),
                ("password", new_password),
                ("password_confirm", new_password),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert!(Page::parse(&res.text().await.expect("page")).has("#password-set"));
    assert_eq!(
        browser.sign_in("carol@example.com", new_password, "").await.status(),
        303,
        "the new password signs in"
    );

    let replay = browser
        .post(
            "/welcome",
            &[
                ("csrf", &csrf),
                ("token", &token),
                ("password", "another password altogether"),
                ("password_confirm", "another password altogether"),
            ],
        )
        .await;
    assert_eq!(replay.status(), 400, "the same form sent again sets nothing");
    let later = Console::new(&o.app);
    assert_eq!(later.sign_in("carol@example.com", new_password, "").await.status(), 303);
    let again = Console::new(&o.app);
    let res = again.get(&format!("/welcome?token={token}")).await;
    assert_eq!(res.status(), 400, "the link works once");
    assert!(Page::parse(&res.text().await.expect("page")).has("#welcome-problem"));
    assert_eq!(events(&o, "user.password_set").await, 1);
}

#[tokio::test]
async fn an_invitation_is_made_by_email_and_role_and_bad_input_is_answered_beside_its_field() {
    let (o, _, _) = org().await;
    let dave = person(&o.app, "dave@example.com").await;
    let members = format!("/o/{}/settings/members", o.org);
    let form = o.console.page(&format!("{members}/new")).await;
    assert!(Page::parse(&form).has("#invite"), "the invitation form");
    assert!(
        Page::parse(&o.console.page(&members).await).has("#invite-people"),
        "the list links to it"
    );
    let before = state(&o).await;
    for (fields, error) in [
        (vec![("email", "not an email"), ("role", "member")], "email-error"),
        (vec![("email", ""), ("role", "member")], "email-error"),
        (vec![("email", "dave@example.com"), ("role", "owner")], "role-error"),
        (vec![("email", "dave@example.com")], "role-error"),
        (vec![("email", " BOB@example.com"), ("role", "member")], "email-error"),
    ] {
        let res = o.post(&members, &fields).await;
        assert_eq!(res.status(), 422, "{fields:?}");
        let html = res.text().await.expect("page");
        assert!(Page::parse(&html).has(&format!("#{error}")), "{fields:?}");
        let typed = fields[0].1;
        if !typed.is_empty() {
            assert!(
                Page::parse(&html).has_value("[value]", typed),
                "what was typed is kept: {fields:?}"
            );
        }
    }
    assert_eq!(state(&o).await, before, "nothing written");

    let res = o
        .post(&members, &[("email", "DAVE@example.com"), ("role", "member")])
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers().get("cache-control").and_then(|v| v.to_str().ok()),
        Some("no-store"),
        "the page shows a link"
    );
    let html = res.text().await.expect("page");
    assert!(Page::parse(&html).has("#invitation-link"));
    assert!(Page::parse(&html).has("#to-members"));
    assert!(!is_member(&o, dave).await, "an invitation adds no one");
    assert_eq!(events(&o, "invitation.sent").await, 1);
    assert_eq!(events(&o, "membership.added").await, 0);
    let list = o.console.page(&members).await;
    assert!(
        Page::parse(&list)
            .texts("td.invitation-email")
            .contains(&"DAVE@example.com".to_owned()),
        "the list shows it pending"
    );
}

#[tokio::test]
async fn a_new_link_is_issued_only_for_accounts_this_org_manages() {
    let (o, _, _) = org().await;
    let elsewhere = o.app.org("Elsewhere").await;
    let foreign = o.app.user("foreign@example.com", Some(elsewhere)).await;
    o.app.member(o.org, foreign, "member").await;
    let page = o.console.page(&member(&o, foreign)).await;
    assert!(Page::parse(&page).has("#managed-elsewhere"));
    assert!(!Page::parse(&page).has("#new-link"));
    let res = o.post(&format!("{}/password-link", member(&o, foreign)), &[]).await;
    assert_eq!(res.status(), 403, "another org's account is never taken over");
    assert_eq!(o.app.count("password_links").await, 0);

    let ours = o.app.user("ours@example.com", Some(o.org)).await;
    o.app.member(o.org, ours, "member").await;
    let first = link_token(
        &o.post(&format!("{}/password-link", member(&o, ours)), &[])
            .await
            .text()
            .await
            .expect("page"),
    );
    let second = link_token(
        &o.post(&format!("{}/password-link", member(&o, ours)), &[])
            .await
            .text()
            .await
            .expect("page"),
    );
    let browser = Console::new(&o.app);
    assert_eq!(
        browser.get(&format!("/welcome?token={first}")).await.status(),
        400,
        "a newer link retires the older"
    );
    assert_eq!(browser.get(&format!("/welcome?token={second}")).await.status(), 200);
}

#[tokio::test]
async fn every_members_post_refuses_a_missing_token_and_a_cross_site_origin() {
    let (o, bob_id, bob_keys) = org().await;
    let bob = member(&o, bob_id);
    let (invitation, _) = o.app.invitation(o.org, "invited@example.com", "member", bob_id).await;
    let invitation = format!("/o/{}/settings/members/invitations/{invitation}", o.org);
    let posts = [
        (
            format!("/o/{}/settings/members", o.org),
            vec![("email", "x@example.com"), ("role", "member")],
        ),
        (format!("{invitation}/link"), vec![]),
        (format!("{invitation}/revoke"), vec![]),
        (format!("{bob}/remove"), vec![]),
        (format!("{bob}/suspend"), vec![("revoke_keys", "on")]),
        (format!("{bob}/role"), vec![("role", "member")]),
        (format!("{bob}/restore"), vec![]),
        (format!("{bob}/password-link"), vec![]),
        (
            format!("/o/{}/settings/api-keys/revoke-by-creator", o.org),
            vec![("user", "")],
        ),
    ];
    let user = bob_id.to_string();
    let before = state(&o).await;
    for (path, mut fields) in posts {
        if path.ends_with("revoke-by-creator") {
            fields = vec![("user", user.as_str())];
        }
        let res = o.console.post(&path, &fields).await;
        assert_eq!(res.status(), 403, "{path} without a token");
        let mut with_token = vec![("csrf", o.csrf.as_str())];
        with_token.extend_from_slice(&fields);
        let res = o
            .console
            .request(reqwest::Method::POST, &path)
            .header("Origin", "https://evil.example")
            .form(&with_token)
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 403, "{path} from another site");
    }
    assert_eq!(state(&o).await, before, "nothing changed");
    for key in &bob_keys {
        assert_eq!(o.key_status(key).await, 200);
    }

    // The set-password form: its pre-session token, and from this site only.
    let carol = o.app.user("carol@example.com", Some(o.org)).await;
    o.app.member(o.org, carol, "member").await;
    let res = o.post(&format!("{}/password-link", member(&o, carol)), &[]).await;
    let token = link_token(&res.text().await.expect("page"));
    let browser = Console::new(&o.app);
    let csrf = welcome_form(&browser, &token).await;
    let password = "a perfectly good password";
    let fields = [
        ("token", token.as_str()),
        ("password", password),
        ("password_confirm", password),
    ];
    let res = browser.post("/welcome", &fields).await;
    assert_eq!(res.status(), 403, "without its token");
    let mut with_token = vec![("csrf", csrf.as_str())];
    with_token.extend_from_slice(&fields);
    let res = browser
        .request(reqwest::Method::POST, "/welcome")
        .header("Origin", "https://evil.example")
        .form(&with_token)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 403, "from another site");
    let stranger = Console::new(&o.app);
    assert_eq!(
        stranger.post("/welcome", &with_token).await.status(),
        403,
        "another browser's token"
    );
    assert_eq!(
        browser.get(&format!("/welcome?token={token}")).await.status(),
        200,
        "the link still works"
    );
}

#[tokio::test]
async fn another_orgs_members_are_not_found() {
    let (o, _, _) = org().await;
    let other = o.app.org("Contoso").await;
    let stranger = person(&o.app, "stranger@example.com").await;
    o.app.member(other, stranger, "admin").await;
    o.app.key_for(other, stranger).await;
    let before = state(&o).await;
    for path in [
        member(&o, stranger),
        format!("{}/remove", member(&o, stranger)),
        format!("/o/{other}/settings/members"),
        format!("/o/{other}/settings/members/new"),
        format!("/o/{other}/settings/members/{stranger}"),
        format!("/o/{}/settings/api-keys/revoke-by-creator?user={stranger}", o.org),
        format!("/o/{}/settings/members/not-a-uuid", o.org),
    ] {
        assert_eq!(o.console.get(&path).await.status(), 404, "{path}");
    }
    let user = stranger.to_string();
    for (path, fields) in [
        (format!("{}/remove", member(&o, stranger)), vec![]),
        (format!("{}/suspend", member(&o, stranger)), vec![("revoke_keys", "on")]),
        (
            format!("/o/{other}/settings/members"),
            vec![("email", "x@example.com"), ("role", "admin")],
        ),
        (
            format!("/o/{}/settings/api-keys/revoke-by-creator", o.org),
            vec![("user", user.as_str())],
        ),
    ] {
        assert_eq!(o.post(&path, &fields).await.status(), 404, "{path}");
    }
    assert_eq!(state(&o).await, before);
}

#[tokio::test]
async fn the_list_shows_each_members_role_status_and_active_keys_with_search_and_pages() {
    let (o, bob_id, _) = org().await;
    let list = o.console.page(&format!("/o/{}/settings/members", o.org)).await;
    assert!(list.contains("bob@example.com"));
    assert!(
        list.contains(&format!("creator={}\">2</a>", bob_id)),
        "bob answers for two active keys, linked to them"
    );
    let found = o.console.page(&format!("/o/{}/settings/members?q=BOB", o.org)).await;
    assert_eq!(Page::parse(&found).count(".member-link"), 1);
    let start = chrono::Utc::now() - chrono::Duration::days(1);
    for n in 0..60 {
        let user = o.app.user(&format!("m{n:02}@example.com"), None).await;
        // Several members join at one instant: the cursor must still see each once.
        let joined = start + chrono::Duration::seconds(n / 4);
        o.app.member_at(o.org, user, "member", Some(joined)).await;
    }
    let mut seen = Vec::new();
    let mut path = format!("/o/{}/settings/members?role=member", o.org);
    for _ in 0..5 {
        let page = Page::parse(&o.console.page(&path).await);
        for row in page.all("tr") {
            if !html::holds(row, "a.member-link") {
                continue;
            }
            let text = html::text(row);
            let email_at = text.find("@example.com").expect("an email");
            seen.push(text[email_at - 3..email_at].to_owned());
        }
        let Some(next) = page.href("#next-page") else {
            break;
        };
        path = next;
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(seen.len(), 60, "every member once: {seen:?}");
    assert_eq!(unique.len(), 60);
}

#[tokio::test]
async fn bulk_revocation_revokes_every_key_still_unrevoked_when_the_post_arrives() {
    let (o, bob_id, bob_keys) = org().await;
    let list = o
        .console
        .page(&format!(
            "/o/{}/settings/api-keys?tab=unscoped&creator={}",
            o.org, bob_id
        ))
        .await;
    assert!(
        Page::parse(&list).has("#revoke-by-creator"),
        "the filtered list offers it"
    );
    let path = format!("/o/{}/settings/api-keys/revoke-by-creator", o.org);
    let confirm = o.console.page(&format!("{path}?user={}", bob_id)).await;
    assert_eq!(Page::parse(&confirm).count(".answered-key"), 2);
    let late = o.app.key_for(o.org, bob_id).await;
    let user = bob_id.to_string();
    let res = o.post(&path, &[("user", &user)]).await;
    assert_eq!(res.status(), 200);
    let done = res.text().await.expect("page");
    assert_eq!(Page::parse(&done).count(".revoked-key"), 3, "the late key too");
    for key in bob_keys.iter().chain([&late]) {
        assert_eq!(o.key_status(key).await, 401);
    }
    assert!(is_member(&o, bob_id).await, "revoking keys removes no one");
}

#[tokio::test]
async fn revoking_a_key_offers_to_revoke_the_keys_created_with_it() {
    let (o, bob_id, bob_keys) = org().await;
    let parent = &bob_keys[0];
    let child = child_key(&o, bob_id, parent, 7).await;
    let grandchild = child_key(&o, bob_id, &child, 3).await;
    let detail = o
        .console
        .page(&format!("/o/{}/settings/api-keys/{}", o.org, parent.id))
        .await;
    assert!(Page::parse(&detail).has(".child-key"), "the detail page lists it");
    let confirm = o
        .console
        .page(&format!("/o/{}/settings/api-keys/{}/revoke", o.org, parent.id))
        .await;
    assert!(Page::parse(&confirm).has(r#"input[name="with_created"][value="on"][checked]"#));
    assert!(
        confirm.contains(grandchild.public_id()),
        "the confirmation lists every key made with it"
    );
    let res = o
        .post(
            &format!("/o/{}/settings/api-keys/{}/revoke", o.org, parent.id),
            &[("with_created", "on")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(o.key_status(parent).await, 401);
    assert_eq!(o.key_status(&child).await, 401, "the key created with it too");
    assert_eq!(o.key_status(&grandchild).await, 401, "and the key that key created");

    let other = &bob_keys[1];
    let kept = child_key(&o, bob_id, other, 7).await;
    o.post(&format!("/o/{}/settings/api-keys/{}/revoke", o.org, other.id), &[])
        .await;
    assert_eq!(o.key_status(other).await, 401);
    assert_eq!(o.key_status(&kept).await, 200, "unchecked: the other key stays");
}

/// A key created through the API with `parent`, as the API would record it.
async fn child_key(o: &SignedInAdmin, bob_id: Uuid, parent: &TestKey, days: u16) -> TestKey {
    use keyward::domain::api_key::KeyName;
    let request = keyward::service::keys::KeyRequest {
        org_id: o.org.into(),
        name: KeyName::parse("made by a script").expect("name"),
        scopes: keyward::domain::KeyScopes::Unscoped,
        expiry: keyward::domain::api_key::AskedExpiry::InDays(days),
        created_by: keyward::domain::actor::Actor::Key(parent.id),
        responsible_user_id: Some(bob_id.into()),
        origin: Default::default(),
    };
    let argon2 = keyward::auth::argon2id::Argon2Pool::new(2);
    let created = keyward::service::keys::create(&o.app.pool, &argon2, &request)
        .await
        .expect("key");
    let (id, token) = (created.id.uuid(), created.token);
    TestKey {
        id,
        token: token.expose_token(),
    }
}

#[tokio::test]
async fn reset_password_prints_a_link_for_the_day_the_last_admin_forgets() {
    let (o, _, _) = org().await;
    let url = database_server().url(&o.app.db_name);
    let output = keyward()
        .args([
            "--database-url",
            &url,
            "admin",
            "reset-password",
            "--email",
            "ada@example.com",
        ])
        .env("KEYWARD_PUBLIC_URL", "https://keys.example.com")
        .output()
        .expect("run keyward");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    assert_eq!(stdout.lines().count(), 1, "stdout is the link alone");
    assert!(
        stdout.starts_with("https://keys.example.com/welcome?token="),
        "under the public address: {stdout}"
    );
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains(stdout.trim()),
        "the link is not logged"
    );
    let token = stdout.trim().split_once("token=").expect("a link").1.to_owned();
    let browser = Console::new(&o.app);
    let csrf = welcome_form(&browser, &token).await;
    let password = "remembered this time, surely";
    let res = browser
        .post(
            "/welcome",
            &[
                ("csrf", &csrf),
                ("token", &token),
                ("password", password),
                ("password_confirm", password),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        o.console.get(&format!("/o/{}/settings/members", o.org)).await.status(),
        303,
        "setting the password ended every session of the account"
    );
    assert_eq!(
        browser.sign_in("ada@example.com", PASSWORD, "").await.status(),
        401,
        "the old one does not"
    );
    assert_eq!(browser.sign_in("ada@example.com", password, "").await.status(), 303);

    let unknown = keyward()
        .args([
            "--database-url",
            &url,
            "admin",
            "reset-password",
            "--email",
            "nobody@example.com",
        ])
        .output()
        .expect("run keyward");
    assert_eq!(unknown.status.code(), Some(2));
    assert!(unknown.stdout.is_empty());
}
