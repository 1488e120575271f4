//! Joining an organization is an invitation the person accepts, held from outside: an invitation
//! adds no one and makes no account until its link is accepted, by the invited address's own
//! account or by the person creating theirs on the link's page; the inviter's answer does not say
//! whether the address has an account; a link that was revoked, used, issued again, has expired
//! or whose sender no longer governs the org says so. Accounts are managed only by the org that
//! verified their email's domain, so no org resets the password of an account it merely invited,
//! created or shares, and no admin their own. The admin API invites in Atlassian's shape.

use keyward::domain::Scope;
use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::harness::console::{Console, PASSWORD, directories_status, person};
use crate::harness::html;
use crate::harness::invitations::{
    accept, create_account, invitation_token, invite, link_form_csrf, link_path, send_create_form,
};
use crate::harness::signed_in::Admin;
use crate::harness::{
    Answer, Page, SignedInAdmin, TestApp, database_before_migration, database_server, keyward, location, run_with_stdin,
};

// ---------------------------------------------------------------------------------------------
// Reading pages and arranging what tests need.
// ---------------------------------------------------------------------------------------------

/// True when the page has an element with this id.
fn has(html: &str, id: &str) -> bool {
    Page::parse(html).has(&format!("#{id}"))
}

/// The text of the element with this id.
fn text_of(html: &str, id: &str) -> Option<String> {
    Page::parse(html).text(&format!("#{id}"))
}

/// The value of the attribute `name` of the element with this id.
fn attribute(html: &str, id: &str, name: &str) -> Option<String> {
    Page::parse(html).attr(&format!("#{id}"), name)
}

/// The account of this address under the email rule, if there is one.
async fn account(app: &TestApp, email: &str) -> Option<Uuid> {
    sqlx::query_scalar("SELECT id FROM users WHERE email_normalized = $1")
        .bind(keyward::domain::email::normalize(email))
        .fetch_optional(&app.pool)
        .await
        .expect("users")
}

async fn managed_by(app: &TestApp, user: Uuid) -> Option<Uuid> {
    sqlx::query_scalar("SELECT managed_by_org FROM users WHERE id = $1")
        .bind(user)
        .fetch_one(&app.pool)
        .await
        .expect("user")
}

/// The person's role in the org, when they are a member.
async fn role_in(app: &TestApp, org: Uuid, user: Uuid) -> Option<String> {
    sqlx::query_scalar("SELECT role::text FROM memberships WHERE org_id = $1 AND user_id = $2")
        .bind(org)
        .bind(user)
        .fetch_optional(&app.pool)
        .await
        .expect("membership")
}

/// How many `action` events the org's log has, by `actor` when given.
async fn events(app: &TestApp, org: Uuid, action: &str, actor: Option<Uuid>) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM audit_events
         WHERE org_id = $1 AND action = $2 AND ($3::uuid IS NULL OR actor_id = $3)",
    )
    .bind(org)
    .bind(action)
    .bind(actor)
    .fetch_one(&app.pool)
    .await
    .expect("events")
}

/// The invitation of this address (the latest), as (id, state, role).
async fn invitation_of(app: &TestApp, email: &str) -> (Uuid, String, String) {
    sqlx::query_as(
        "SELECT id, state, role::text FROM invitations WHERE email_normalized = $1 ORDER BY created_at DESC LIMIT 1",
    )
    .bind(keyward::domain::email::normalize(email))
    .fetch_one(&app.pool)
    .await
    .expect("an invitation of the address")
}

/// Everything inviting, accepting or a set-password link writes: what a refusal leaves alone.
async fn written(app: &TestApp) -> Vec<Vec<String>> {
    let mut state = Vec::new();
    for table in [
        "users",
        "memberships",
        "invitations",
        "sessions",
        "password_links",
        "audit_events",
    ] {
        state.push(app.snapshot(table).await);
    }
    state
}

/// `keyward domains <command> --org <org> <name>` on the app's database, as an operator runs it.
fn domain_command(app: &TestApp, command: &str, org: Uuid, name: &str) {
    let url = database_server().url(&app.db_name);
    let (status, _, stderr) = crate::harness::domains(&url, &[command, "--org", &org.to_string(), name]);
    assert_eq!(status, Some(0), "keyward domains {command} {name}: {stderr}");
}

/// The org claims `name` and the operator verifies the claim.
fn verify_domain(app: &TestApp, org: Uuid, name: &str) {
    domain_command(app, "add", org, name);
    domain_command(app, "verify", org, name);
}

/// `keyward admin add` making `email` (password `PASSWORD`) an admin of `org`.
fn admin_add(app: &TestApp, email: &str, org: Uuid) {
    let mut add = keyward();
    add.args([
        "admin",
        "add",
        "--email",
        email,
        "--name",
        "Added",
        "--org",
        &org.to_string(),
    ])
    .env("DATABASE_URL", database_server().url(&app.db_name));
    let output = run_with_stdin(add, &format!("{PASSWORD}\n"));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

/// The console's new-key form, as an admin sends it.
const KEY_FORM: [(&str, &str); 5] = [
    ("type", "scoped"),
    ("name", "Taken over"),
    ("expiry", "30"),
    ("expiry_date", ""),
    ("scopes", "read:orgs:admin"),
];

/// Acme, whose only admin, Ada, is signed in.
async fn acme() -> SignedInAdmin {
    let ada = Admin {
        org: "Acme",
        email: "ada@acme.example",
        from: None,
    };
    SignedInAdmin::on(TestApp::spawn().await, ada).await
}

fn members(o: &SignedInAdmin) -> String {
    o.org_path("/settings/members")
}

fn member(o: &SignedInAdmin, user: Uuid) -> String {
    o.org_path(&format!("/settings/members/{user}"))
}

/// Ada sends the members form: `email` invited in `role`.
async fn invite_to_acme(o: &SignedInAdmin, email: &str, role: &str) -> reqwest::Response {
    invite(&o.console, &o.csrf, o.org, email, role).await
}

/// Ada invites `email` in `role`; the link's token.
async fn invited(o: &SignedInAdmin, email: &str, role: &str) -> String {
    let res = invite_to_acme(o, email, role).await;
    assert_eq!(res.status(), 200, "{email} invited");
    invitation_token(&res.text().await.expect("page"))
}

/// A new admin of Acme, with `PASSWORD`.
async fn new_admin(o: &SignedInAdmin, email: &str) -> Uuid {
    let user = person(&o.app, email).await;
    o.app.member(o.org, user, "admin").await;
    user
}

// ---------------------------------------------------------------------------------------------
// Finding 1: no org makes or resets the password of an account it does not manage.
// ---------------------------------------------------------------------------------------------

/// Two orgs, and carol@b-corp.example's account made by A's admin, mallory, through A's own
/// invitation, with a password mallory knows.
struct Takeover {
    app: TestApp,
    a: Uuid,
    b: Uuid,
    mallory: Console,
    mallory_csrf: String,
    carol: Uuid,
    known: &'static str,
}

async fn carol_made_by_a() -> Takeover {
    let app = TestApp::spawn().await;
    let a = app.org("A Corp").await;
    let mallory_id = person(&app, "mallory@a-corp.example").await;
    app.member(a, mallory_id, "admin").await;
    let b = app.org("B Corp").await;
    let bea = person(&app, "bea@b-corp.example").await;
    app.member(b, bea, "admin").await;
    let mallory = Console::signed_in(&app, "mallory@a-corp.example").await;
    let mallory_csrf = mallory.csrf().await;

    let res = invite(&mallory, &mallory_csrf, a, "carol@b-corp.example", "member").await;
    assert_eq!(res.status(), 200);
    let token = invitation_token(&res.text().await.expect("page"));
    assert_eq!(
        account(&app, "carol@b-corp.example").await,
        None,
        "an invitation makes no account: none exists until someone accepts"
    );
    let known = "mallory chose this password";
    let res = create_account(&Console::new(&app), &token, "Carol", known).await;
    assert_eq!(res.status(), 200, "mallory accepts A's own invitation");
    let carol = account(&app, "carol@b-corp.example")
        .await
        .expect("the account A's link made");
    Takeover {
        app,
        a,
        b,
        mallory,
        mallory_csrf,
        carol,
        known,
    }
}

#[tokio::test]
async fn an_account_made_with_one_orgs_invitation_opens_nothing_of_another_org_until_it_accepts_that_orgs_invitation() {
    let t = carol_made_by_a().await;
    let bea = Console::signed_in(&t.app, "bea@b-corp.example").await;
    let bea_csrf = bea.csrf().await;
    let res = invite(&bea, &bea_csrf, t.b, "carol@b-corp.example", "admin").await;
    assert_eq!(res.status(), 200, "B invites the address as an admin");
    let b_token = invitation_token(&res.text().await.expect("page"));

    let as_carol = Console::new(&t.app);
    assert_eq!(
        as_carol.sign_in("carol@b-corp.example", t.known, "").await.status(),
        303,
        "mallory's password signs in to the account mallory made"
    );
    for page in ["api-keys", "members", "audit-log", "policies"] {
        let path = format!("/o/{}/settings/{page}", t.b);
        assert_eq!(as_carol.get(&path).await.status(), 404, "{path}");
    }
    let keys = t.app.snapshot("api_keys").await;
    let csrf = as_carol.csrf().await;
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(&KEY_FORM);
    let res = as_carol.post(&format!("/o/{}/settings/api-keys", t.b), &form).await;
    assert_eq!(res.status(), 404, "no key of B can be made");
    assert_eq!(t.app.snapshot("api_keys").await, keys);
    assert_eq!(role_in(&t.app, t.b, t.carol).await, None, "not a member of B");

    let res = accept(&as_carol, &b_token).await;
    assert_eq!(res.status(), 200);
    assert!(has(&res.text().await.expect("page"), "open-org"));
    assert_eq!(
        as_carol.get(&format!("/o/{}/settings/api-keys", t.b)).await.status(),
        200,
        "accepting B's own invitation, with B's link, is what opens B"
    );
    assert_eq!(role_in(&t.app, t.b, t.carol).await.as_deref(), Some("admin"));
}

#[tokio::test]
async fn an_org_issues_a_set_password_link_for_an_account_it_invited_only_once_it_has_verified_its_domain() {
    let t = carol_made_by_a().await;
    let member_page = format!("/o/{}/settings/members/{}", t.a, t.carol);
    let post_link = || async {
        t.mallory
            .post(
                &format!("{member_page}/password-link"),
                &[("csrf", t.mallory_csrf.as_str())],
            )
            .await
    };
    assert_eq!(
        managed_by(&t.app, t.carol).await,
        None,
        "no org verified b-corp.example"
    );
    let page = t.mallory.page(&member_page).await;
    assert!(has(&page, "managed-elsewhere"));
    assert!(!has(&page, "new-link"));
    let before = written(&t.app).await;
    assert_eq!(
        post_link().await.status(),
        403,
        "A made the account, but does not manage it"
    );
    assert_eq!(written(&t.app).await, before, "no link, no event");
    assert_eq!(t.app.count("password_links").await, 0);

    verify_domain(&t.app, t.a, "b-corp.example");
    assert_eq!(managed_by(&t.app, t.carol).await, Some(t.a));
    assert!(has(&t.mallory.page(&member_page).await, "new-link"));
    let res = post_link().await;
    assert_eq!(
        res.status(),
        200,
        "the org that verified the domain manages its accounts"
    );
    assert!(has(&res.text().await.expect("page"), "link-value"));

    domain_command(&t.app, "remove", t.a, "b-corp.example");
    assert_eq!(
        post_link().await.status(),
        403,
        "removing the claim releases the account"
    );
}

#[tokio::test]
async fn an_admin_made_by_setup_or_the_cli_is_not_managed_by_their_first_org_so_a_peer_admin_cannot_reset_their_password()
 {
    let app = TestApp::spawn().await;
    let token = app.setup_token();
    let browser = Console::new(&app);
    let setup = browser.page(&format!("/setup?token={token}")).await;
    let csrf = Page::parse(&setup).form_token("/setup");
    let res = browser
        .post(
            "/setup",
            &[
                ("csrf", csrf.as_str()),
                ("token", &token),
                ("email", "ada@engines.example"),
                ("name", "Ada"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
                ("org_name", "Analytical Engines"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303, "setup made ada the first admin");
    let org: Uuid = sqlx::query_scalar("SELECT id FROM orgs")
        .fetch_one(&app.pool)
        .await
        .expect("the org");
    admin_add(&app, "grace@engines.example", org);
    let ada = account(&app, "ada@engines.example").await.expect("ada");
    let grace = account(&app, "grace@engines.example").await.expect("grace");
    assert_eq!(
        managed_by(&app, ada).await,
        None,
        "setup's org does not manage ada's account"
    );
    assert_eq!(managed_by(&app, grace).await, None, "nor `admin add`'s org grace's");

    for (admin, peer) in [("ada@engines.example", grace), ("grace@engines.example", ada)] {
        let console = Console::signed_in(&app, admin).await;
        let csrf = console.csrf().await;
        let page = format!("/o/{org}/settings/members/{peer}");
        assert!(has(&console.page(&page).await, "managed-elsewhere"), "{admin}");
        let res = console.post(&format!("{page}/password-link"), &[("csrf", &csrf)]).await;
        assert_eq!(res.status(), 403, "{admin} cannot reset a peer admin's password");
    }
    assert_eq!(app.count("password_links").await, 0);
}

// ---------------------------------------------------------------------------------------------
// Finding 2: an invitation adds no one until the person consents.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_invitation_adds_no_one_and_counts_no_admin_until_it_is_accepted() {
    let o = acme().await;
    let dave = person(&o.app, "dave@example.com").await;
    let memberships = o.app.snapshot("memberships").await;
    let token = invited(&o, "dave@example.com", "admin").await;
    assert_eq!(
        o.app.snapshot("memberships").await,
        memberships,
        "memberships unchanged"
    );
    let list = o.console.page(&members(&o)).await;
    assert!(
        !Page::parse(&list)
            .texts("td:not([class])")
            .contains(&"dave@example.com".to_owned()),
        "not among the members"
    );
    assert!(
        Page::parse(&list)
            .texts("td.invitation-email")
            .contains(&"dave@example.com".to_owned()),
        "but pending"
    );

    let dave_console = Console::signed_in(&o.app, "dave@example.com").await;
    for page in ["api-keys", "members", "audit-log"] {
        let path = format!("/o/{}/settings/{page}", o.org);
        assert_eq!(dave_console.get(&path).await.status(), 404, "{path}");
    }
    // Ada is still the only admin: the invited one does not count.
    let remove_ada = format!("{}/remove", member(&o, o.user));
    let res = o.console.get(&remove_ada).await;
    assert_eq!(res.status(), 409);
    assert!(has(&res.text().await.expect("page"), "last-admin-refused"));
    assert_eq!(o.post(&remove_ada, &[]).await.status(), 409);

    assert_eq!(accept(&dave_console, &token).await.status(), 200);
    assert_eq!(role_in(&o.app, o.org, dave).await.as_deref(), Some("admin"));
    assert_eq!(
        o.console.get(&remove_ada).await.status(),
        200,
        "once dave accepted, ada is no longer the last admin"
    );
}

#[tokio::test]
async fn the_inviters_answer_is_the_same_whether_the_address_has_an_account_or_not() {
    let o = acme().await;
    person(&o.app, "dave@example.com").await;
    let mut answers = Vec::new();
    for email in ["dave@example.com", "erin@example.com"] {
        let res = invite_to_acme(&o, email, "member").await;
        let status = res.status();
        let mut headers: Vec<(String, String)> = res
            .headers()
            .iter()
            .filter(|(name, _)| !matches!(name.as_str(), "date" | "content-length" | "x-request-id"))
            .map(|(name, value)| (name.as_str().to_owned(), value.to_str().unwrap_or_default().to_owned()))
            .collect();
        headers.sort();
        let html = res.text().await.expect("page");
        let token = invitation_token(&html);
        let expires_at: chrono::DateTime<chrono::Utc> =
            sqlx::query_scalar("SELECT expires_at FROM invitations WHERE email = $1")
                .bind(email)
                .fetch_one(&o.app.pool)
                .await
                .expect("invitation");
        let expiry = expires_at.format("%b %-d, %Y %H:%M").to_string();
        assert!(html.contains(&expiry), "the page says when the link expires: {html}");
        let page = html
            .replace(&token, "{token}")
            .replace(email, "{email}")
            .replace(&expiry, "{expiry}");
        answers.push((status, headers, page));
    }
    assert_eq!(answers[0].0, 200);
    assert_eq!(
        answers[0], answers[1],
        "apart from the address, the link and its expiry, the answers are one"
    );
}

#[tokio::test]
async fn an_invitees_sign_ins_leave_no_event_in_the_inviting_org_until_they_accept() {
    let o = acme().await;
    let globex = o.app.org("Globex").await;
    let dave = person(&o.app, "dave@example.com").await;
    o.app.member(globex, dave, "admin").await;
    let token = invited(&o, "dave@example.com", "admin").await;
    let of_dave = |org: Uuid| {
        let pool = o.app.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM audit_events WHERE org_id = $1 AND (actor_id = $2 OR target_id = $2::text)",
            )
            .bind(org)
            .bind(dave)
            .fetch_one(&pool)
            .await
            .expect("events")
        }
    };

    let browser = Console::new(&o.app);
    assert_eq!(
        browser
            .sign_in("dave@example.com", "not the password", "")
            .await
            .status(),
        401
    );
    assert_eq!(browser.sign_in("dave@example.com", PASSWORD, "").await.status(), 303);
    assert_eq!(of_dave(o.org).await, 0, "nothing of dave in Acme's log");
    assert!(
        events(&o.app, globex, "user.signed_in", Some(dave)).await >= 1,
        "the sign-in is in the log of the org dave administers"
    );

    assert_eq!(accept(&browser, &token).await.status(), 200);
    Console::signed_in(&o.app, "dave@example.com").await;
    for action in ["invitation.accepted", "membership.added", "user.signed_in"] {
        assert_eq!(events(&o.app, o.org, action, Some(dave)).await, 1, "{action}");
    }
}

// ---------------------------------------------------------------------------------------------
// Finding 3: never one's own account.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_admin_cannot_issue_a_set_password_link_for_their_own_account_even_where_their_org_manages_it() {
    let o = acme().await;
    let bob = new_admin(&o, "bob@acme.example").await;
    verify_domain(&o.app, o.org, "acme.example");
    assert_eq!(
        managed_by(&o.app, o.user).await,
        Some(o.org),
        "Acme manages ada's account"
    );

    let page = o.console.page(&member(&o, o.user)).await;
    assert!(has(&page, "own-account"), "her own page points to the account page");
    assert!(!has(&page, "new-link"));
    let before = written(&o.app).await;
    let res = o.post(&format!("{}/password-link", member(&o, o.user)), &[]).await;
    assert_eq!(res.status(), 403);
    assert_eq!(written(&o.app).await, before, "no password_links row, no event");
    assert_eq!(o.app.count("password_links").await, 0);
    assert_eq!(events(&o.app, o.org, "user.password_link_issued", None).await, 0);

    let res = o.post(&format!("{}/password-link", member(&o, bob)), &[]).await;
    assert_eq!(res.status(), 200, "another admin's account Acme manages gets one");
}

// ---------------------------------------------------------------------------------------------
// The link's page.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_new_person_creates_their_account_on_the_link_page_and_is_a_signed_in_member() {
    let o = acme().await;
    let token = invited(&o, "erin@example.com", "member").await;
    let erin = Console::new(&o.app);
    let page = erin.page(&link_path(&token)).await;
    let intro = text_of(&page, "invitation-intro").expect("what the link invites to");
    assert!(intro.contains("Acme") && intro.contains("erin@example.com"), "{intro}");
    assert!(has(&page, "create-intro") && has(&page, "create-account"));
    assert!(!has(&page, "existing-account") && !has(&page, "accept"));
    let form = Page::parse(&page);
    assert_eq!(form.input(r#"form[action="/invitations"]"#, "token"), token);
    assert_eq!(form.input(r#"form[action="/invitations"]"#, "action"), "create");
    let csrf = link_form_csrf(&page);

    let good = "erin's own passphrase";
    let before = written(&o.app).await;
    for (name, password, confirm, error) in [
        ("", good, good, "name-error"),
        ("Erin", "short", "short", "password-error"),
        ("Erin", good, "something else entirely", "password_confirm-error"),
    ] {
        let res = erin
            .post(
                "/invitations",
                &[
                    ("csrf", csrf.as_str()),
                    ("token", &token),
                    ("action", "create"),
                    ("name", name),
                    ("password", password),
                    ("password_confirm", confirm),
                ],
            )
            .await;
        assert_eq!(res.status(), 422, "{error}");
        assert!(has(&res.text().await.expect("page"), error), "{error}");
    }
    assert_eq!(written(&o.app).await, before, "nothing written");

    let res = create_account(&erin, &token, "Erin", good).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("set-cookie").is_some(), "signed in at once");
    let html = res.text().await.expect("page");
    assert!(has(&html, "joined") && has(&html, "continue"));
    assert!(!has(&html, "open-org"), "a member has no org pages to open");
    assert_eq!(erin.get("/account").await.status(), 200, "the new account is signed in");

    let id = account(&o.app, "erin@example.com").await.expect("erin's account");
    assert_eq!(role_in(&o.app, o.org, id).await.as_deref(), Some("member"));
    let accepted_by: Option<Uuid> = sqlx::query_scalar("SELECT accepted_by FROM invitations WHERE state = 'accepted'")
        .fetch_one(&o.app.pool)
        .await
        .expect("the accepted invitation");
    assert_eq!(accepted_by, Some(id));
    for action in ["user.created", "invitation.accepted", "membership.added"] {
        assert_eq!(events(&o.app, o.org, action, Some(id)).await, 1, "{action}, by erin");
    }
    assert_eq!(
        Console::new(&o.app)
            .sign_in("erin@example.com", good, "")
            .await
            .status(),
        303,
        "the password she chose signs in"
    );
}

#[tokio::test]
async fn an_existing_account_accepts_by_signing_in_as_the_invited_address() {
    let o = acme().await;
    let dave = person(&o.app, "dave@example.com").await;
    let token = invited(&o, " Dave@EXAMPLE.com", "admin").await;
    let browser = Console::new(&o.app);
    let res = browser.get(&link_path(&token)).await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.expect("page");
    assert!(has(&page, "existing-account") && has(&page, "not-yours"));
    assert!(!has(&page, "create-account") && !has(&page, "accept") && !has(&page, "wrong-account"));
    let next = link_path(&token);
    let encoded: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
    assert_eq!(
        attribute(&page, "sign-in-to-accept", "href"),
        Some(format!("/login?next={encoded}"))
    );

    let res = browser.sign_in("dave@example.com", PASSWORD, &next).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], next.as_str(), "back to the link");
    let page = browser.page(&next).await;
    assert!(has(&page, "accept"));
    assert!(!has(&page, "wrong-account"), "the invited account is the right one");
    let form = Page::parse(&page);
    assert_eq!(form.input(r#"form[action="/invitations"]"#, "action"), "accept");
    assert_eq!(
        form.form_token("/invitations"),
        browser.csrf().await,
        "the session's token"
    );
    assert_eq!(role_in(&o.app, o.org, dave).await, None, "not yet");

    let users = o.app.count("users").await;
    let res = accept(&browser, &token).await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.expect("page");
    assert!(has(&html, "joined"));
    assert_eq!(
        attribute(&html, "open-org", "href"),
        Some(format!("/o/{}/settings/api-keys", o.org))
    );
    assert_eq!(role_in(&o.app, o.org, dave).await.as_deref(), Some("admin"));
    assert_eq!(o.app.count("users").await, users, "dave's own account, no new one");
    assert_eq!(
        browser.get(&format!("/o/{}/settings/api-keys", o.org)).await.status(),
        200
    );
    for action in ["invitation.accepted", "membership.added"] {
        assert_eq!(events(&o.app, o.org, action, Some(dave)).await, 1, "{action}, by dave");
    }
    assert_eq!(events(&o.app, o.org, "user.created", None).await, 0);
}

#[tokio::test]
async fn another_signed_in_account_cannot_accept_someone_elses_invitation() {
    let o = acme().await;
    let dave = person(&o.app, "dave@example.com").await;
    person(&o.app, "eve@example.com").await;
    let token = invited(&o, "dave@example.com", "admin").await;
    let eve = Console::signed_in(&o.app, "eve@example.com").await;
    let res = eve.get(&link_path(&token)).await;
    assert_eq!(res.status(), 403);
    let page = res.text().await.expect("page");
    assert!(has(&page, "wrong-account"));
    assert!(
        Page::parse(&page).has(r#"form[action="/logout"]"#),
        "a way to sign out and back in as dave"
    );
    assert!(!has(&page, "accept") && !has(&page, "create-account"));

    let before = written(&o.app).await;
    let csrf = eve.csrf().await;
    let res = eve
        .post(
            "/invitations",
            &[("csrf", csrf.as_str()), ("token", &token), ("action", "accept")],
        )
        .await;
    assert_eq!(res.status(), 403);
    assert!(has(&res.text().await.expect("page"), "wrong-account"));
    assert_eq!(written(&o.app).await, before, "nothing written");

    // The page's sign-out form leads back to the link once dave has signed in.
    let form = Page::parse(&page);
    let sign_out = r#"form[action="/logout"]"#;
    let (csrf, next) = (form.input(sign_out, "csrf"), form.input(sign_out, "next"));
    assert_eq!(next, link_path(&token));
    let res = eve.post("/logout", &[("csrf", csrf.as_str()), ("next", &next)]).await;
    assert_eq!(res.status(), 303);
    let encoded: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
    assert_eq!(
        res.headers()["location"],
        format!("/login?ended=signed-out&next={encoded}").as_str()
    );
    let res = eve.sign_in("dave@example.com", PASSWORD, &next).await;
    assert_eq!(res.headers()["location"], next.as_str(), "back to the link");
    assert_eq!(
        accept(&eve, &token).await.status(),
        200,
        "dave, in that browser, accepts"
    );
    assert_eq!(role_in(&o.app, o.org, dave).await.as_deref(), Some("admin"));
}

/// What a link's page says is wrong with it: a 400 with the problem, and no form.
async fn problem_of(browser: &Console, token: &str) -> (Option<String>, bool) {
    let res = browser.get(&link_path(token)).await;
    assert_eq!(res.status(), 400, "an unusable link");
    let page = res.text().await.expect("page");
    assert!(!Page::parse(&page).has(r#"[action="/invitations"]"#), "nothing to send");
    (text_of(&page, "invitation-problem"), has(&page, "invitation-intro"))
}

/// Ada invites `email`, then revokes the invitation from the list: the link's token and the
/// invitation's id.
async fn revoked_link(o: &SignedInAdmin, email: &str) -> (String, Uuid) {
    let token = invited(o, email, "member").await;
    let (id, _, _) = invitation_of(&o.app, email).await;
    let res = o.post(&format!("{}/invitations/{id}/revoke", members(o)), &[]).await;
    assert_eq!(res.status(), 303);
    (token, id)
}

/// A link whose account has been created on its page.
async fn used_link(o: &SignedInAdmin) -> String {
    let token = invited(o, "used@example.com", "member").await;
    assert_eq!(
        create_account(&Console::new(&o.app), &token, "Used", "a good long passphrase")
            .await
            .status(),
        200
    );
    token
}

/// A link issued eight days ago, a day past its week.
async fn expired_link(o: &SignedInAdmin) -> String {
    let token = invited(o, "late@example.com", "member").await;
    sqlx::query(
        "UPDATE invitations SET issued_at = now() - interval '8 days', expires_at = now() - interval '1 day'
         WHERE email = 'late@example.com'",
    )
    .execute(&o.app.pool)
    .await
    .expect("expired");
    token
}

/// `again@example.com` invited, invited again as an admin, then issued a link from the list:
/// the three links, oldest first.
async fn issued_three_times(o: &SignedInAdmin) -> [String; 3] {
    let first = invited(o, "again@example.com", "member").await;
    let second = invited(o, "AGAIN@example.com", "admin").await;
    let (id, _, _) = invitation_of(&o.app, "again@example.com").await;
    let res = o.post(&format!("{}/invitations/{id}/link", members(o)), &[]).await;
    assert_eq!(res.status(), 200);
    let third = invitation_token(&res.text().await.expect("page"));
    [first, second, third]
}

#[tokio::test]
async fn a_pending_invitation_is_listed_with_its_revoke_form() {
    let o = acme().await;
    invited(&o, "rev@example.com", "member").await;
    let (id, _, _) = invitation_of(&o.app, "rev@example.com").await;
    let revoke = format!("{}/invitations/{id}/revoke", members(&o));
    let list = Page::parse(&o.console.page(&members(&o)).await);
    assert!(list.has("#invitations") && list.has(&format!(r#"form[action="{revoke}"]"#)));
}

#[tokio::test]
async fn a_revoked_invitation_leaves_the_list_and_its_link_says_so() {
    let o = acme().await;
    let token = invited(&o, "rev@example.com", "member").await;
    let (id, _, _) = invitation_of(&o.app, "rev@example.com").await;
    let res = o.post(&format!("{}/invitations/{id}/revoke", members(&o)), &[]).await;
    assert_eq!(res.status(), 303);
    let to = location(&res);
    assert_eq!(to, format!("{}?revoked={id}", members(&o)));
    let list = o.console.page(&to).await;
    assert!(has(&list, "revoked-notice") && has(&list, "no-invitations"));
    let (problem, intro) = problem_of(&Console::new(&o.app), &token).await;
    assert!(intro, "the page still says what the link was for");
    assert!(problem.is_some(), "revoked");
    assert_eq!(events(&o.app, o.org, "invitation.revoked", None).await, 1);
}

#[tokio::test]
async fn a_revoked_invitation_gets_no_new_link_and_is_not_revoked_twice() {
    let o = acme().await;
    let (_, id) = revoked_link(&o, "rev@example.com").await;
    let res = o.post(&format!("{}/invitations/{id}/link", members(&o)), &[]).await;
    assert_eq!(res.status(), 409, "a revoked invitation gets no new link");
    assert!(has(&res.text().await.expect("page"), "invitation-gone"));
    let revoke = format!("{}/invitations/{id}/revoke", members(&o));
    assert_eq!(o.post(&revoke, &[]).await.status(), 409);
    assert_eq!(events(&o.app, o.org, "invitation.revoked", None).await, 1);
}

#[tokio::test]
async fn a_used_link_says_so() {
    let o = acme().await;
    let token = used_link(&o).await;
    let (problem, intro) = problem_of(&Console::new(&o.app), &token).await;
    assert!(intro);
    assert!(problem.is_some(), "used");
}

#[tokio::test]
async fn inviting_again_keeps_one_invitation_in_the_new_role_and_each_new_link_ends_the_earlier_ones() {
    let o = acme().await;
    let browser = Console::new(&o.app);
    let [first, second, third] = issued_three_times(&o).await;
    let (_, state, role) = invitation_of(&o.app, "again@example.com").await;
    assert_eq!(
        (state.as_str(), role.as_str()),
        ("pending", "admin"),
        "one invitation, the new role"
    );
    for old in [&first, &second] {
        let (problem, intro) = problem_of(&browser, old).await;
        assert!(!intro, "an old link is no invitation's any more");
        assert!(problem.is_some(), "issued again");
    }
    assert_eq!(browser.get(&link_path(&third)).await.status(), 200);
    assert_eq!(events(&o.app, o.org, "invitation.reissued", None).await, 2);
}

#[tokio::test]
async fn a_link_that_was_never_one_reads_as_one_issued_again() {
    let o = acme().await;
    let browser = Console::new(&o.app);
    let [first, second, _] = issued_three_times(&o).await;
    let mut unknown = Vec::new();
    for old in [first.as_str(), second.as_str(), "0123456789abcdef"] {
        let (problem, intro) = problem_of(&browser, old).await;
        assert!(!intro);
        unknown.push(problem.expect("unknown"));
    }
    assert!(unknown.iter().all(|p| *p == unknown[0]), "{unknown:?}");
}

#[tokio::test]
async fn an_expired_link_says_so_and_its_form_sent_anyway_makes_nothing() {
    let o = acme().await;
    let token = expired_link(&o).await;
    let (problem, intro) = problem_of(&Console::new(&o.app), &token).await;
    assert!(intro);
    assert!(problem.is_some(), "expired");
    // Its form, sent anyway (with a token from a page this browser could open).
    let open = invited(&o, "open@example.com", "member").await;
    let late = Console::new(&o.app);
    let csrf = link_form_csrf(&late.page(&link_path(&open)).await);
    let before = written(&o.app).await;
    let res = send_create_form(&late, csrf.as_str(), &token, "Late", "a good long passphrase").await;
    assert_eq!(res.status(), 400);
    assert_eq!(written(&o.app).await, before, "an expired link makes nothing");
}

#[tokio::test]
async fn inviting_an_expired_address_again_gives_a_new_week() {
    let o = acme().await;
    expired_link(&o).await;
    let renewed = invited(&o, "late@example.com", "member").await;
    let expires_at: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT expires_at FROM invitations WHERE email = 'late@example.com'")
            .fetch_one(&o.app.pool)
            .await
            .expect("invitation");
    assert!(
        expires_at > chrono::Utc::now() + chrono::Duration::days(6),
        "a new week"
    );
    assert_eq!(Console::new(&o.app).get(&link_path(&renewed)).await.status(), 200);
}

#[tokio::test]
async fn revoked_used_expired_and_unknown_links_each_say_which() {
    let o = acme().await;
    let browser = Console::new(&o.app);
    let (revoked, _) = revoked_link(&o, "rev@example.com").await;
    let used = used_link(&o).await;
    let expired = expired_link(&o).await;
    let mut said = Vec::new();
    for token in [revoked.as_str(), used.as_str(), expired.as_str(), "0123456789abcdef"] {
        said.push(problem_of(&browser, token).await.0.expect("a problem"));
    }
    for (i, one) in said.iter().enumerate() {
        for other in &said[i + 1..] {
            assert_ne!(one, other, "each says which");
        }
    }
}

#[tokio::test]
async fn an_invitation_never_outlives_its_senders_standing_even_when_it_comes_back() {
    let o = acme().await;
    let bob = new_admin(&o, "bob@acme.example").await;
    let bob_console = Console::signed_in(&o.app, "bob@acme.example").await;
    let bob_csrf = bob_console.csrf().await;
    let bob_page = member(&o, bob);
    let browser = Console::new(&o.app);
    for (step, fields, undo, undo_fields) in [
        ("suspend", vec![("revoke_keys", "on")], Some("restore"), vec![]),
        ("role", vec![("role", "member")], Some("role"), vec![("role", "admin")]),
        ("remove", vec![], None, vec![]),
    ] {
        let email = format!("{step}@example.com");
        let res = invite(&bob_console, &bob_csrf, o.org, &email, "member").await;
        assert_eq!(res.status(), 200, "bob invites {email}");
        let token = invitation_token(&res.text().await.expect("page"));
        let csrf = link_form_csrf(&browser.page(&link_path(&token)).await);

        assert!(
            o.post(&format!("{bob_page}/{step}"), &fields)
                .await
                .status()
                .is_success()
        );
        let (problem, intro) = problem_of(&browser, &token).await;
        assert!(problem.is_some() && intro, "{step}: the link says it cannot be used");
        let before = written(&o.app).await;
        let res = send_create_form(&browser, csrf.as_str(), &token, "Invitee", "the invitee's passphrase").await;
        assert_eq!(res.status(), 400, "{step}: refused");
        assert_eq!(written(&o.app).await, before, "{step}: nothing written");
        let (id, state, _) = invitation_of(&o.app, &email).await;
        assert_eq!(state, "revoked", "{step}");
        let recorded: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM audit_events WHERE org_id = $1 AND action = 'invitation.revoked'
               AND target_kind = 'invitation' AND target_id = $2",
        )
        .bind(o.org)
        .bind(id.to_string())
        .fetch_one(&o.app.pool)
        .await
        .expect("events");
        assert_eq!(recorded, 1, "{step}: the org's log names the withdrawn invitation");

        if let Some(undo) = undo {
            assert_eq!(o.post(&format!("{bob_page}/{undo}"), &undo_fields).await.status(), 303);
            problem_of(&browser, &token).await;
        }
    }
    assert_eq!(events(&o.app, o.org, "invitation.revoked", None).await, 3);
    assert!(has(&o.console.page(&members(&o)).await, "no-invitations"));
}

#[tokio::test]
async fn both_forms_of_a_links_page_need_their_csrf_token() {
    let o = acme().await;
    // Creating an account: the pre-session token of the browser that opened the link, sent from
    // this site.
    let token = invited(&o, "erin@example.com", "member").await;
    let browser = Console::new(&o.app);
    let csrf = link_form_csrf(&browser.page(&link_path(&token)).await);
    let fields = [
        ("token", token.as_str()),
        ("action", "create"),
        ("name", "Erin"),
        ("password", "erin's good passphrase"),
        ("password_confirm", "erin's good passphrase"),
    ];
    let with = |csrf: &str| {
        let mut form = vec![("csrf".to_owned(), csrf.to_owned())];
        form.extend(fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        form
    };
    let before = written(&o.app).await;
    assert_eq!(browser.post("/invitations", &fields).await.status(), 403, "without it");
    let sign_in_token = browser.sign_in_form("").await;
    let res = browser
        .request(Method::POST, "/invitations")
        .form(&with(&sign_in_token))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 403, "the sign-in form's token is not this form's");
    let res = browser
        .request(Method::POST, "/invitations")
        .header("Origin", "https://evil.example")
        .form(&with(&csrf))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 403, "from another site");
    let stranger = Console::new(&o.app);
    stranger.page(&link_path(&token)).await;
    let res = stranger
        .request(Method::POST, "/invitations")
        .form(&with(&csrf))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 403, "another browser's token");
    assert_eq!(written(&o.app).await, before, "nothing written");

    // Accepting: the session's token, sent from this site.
    let dave = person(&o.app, "dave@example.com").await;
    let token = invited(&o, "dave@example.com", "member").await;
    let dave_console = Console::signed_in(&o.app, "dave@example.com").await;
    let csrf = link_form_csrf(&dave_console.page(&link_path(&token)).await);
    let before = written(&o.app).await;
    let fields = [("token", token.as_str()), ("action", "accept")];
    assert_eq!(
        dave_console.post("/invitations", &fields).await.status(),
        403,
        "without it"
    );
    let res = dave_console
        .request(Method::POST, "/invitations")
        .header("Origin", "https://evil.example")
        .form(&[("csrf", csrf.as_str()), ("token", &token), ("action", "accept")])
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 403, "from another site");
    assert_eq!(written(&o.app).await, before, "nothing written");
    assert_eq!(
        accept(&dave_console, &token).await.status(),
        200,
        "the link still works"
    );
    assert_eq!(role_in(&o.app, o.org, dave).await.as_deref(), Some("member"));
}

#[tokio::test]
async fn another_orgs_invitation_is_neither_listed_nor_revoked_nor_reissued() {
    let o = acme().await;
    let globex = o.app.org("Globex").await;
    let gus = person(&o.app, "gus@globex.example").await;
    o.app.member(globex, gus, "admin").await;
    let (theirs, token) = o.app.invitation(globex, "guest@example.com", "member", gus).await;
    assert!(!o.console.page(&members(&o)).await.contains("guest@example.com"));
    let before = written(&o.app).await;
    for action in ["link", "revoke"] {
        let res = o
            .post(&format!("{}/invitations/{theirs}/{action}", members(&o)), &[])
            .await;
        assert_eq!(res.status(), 409, "{action}: no pending invitation of Acme's");
        let res = o
            .post(
                &format!("/o/{globex}/settings/members/invitations/{theirs}/{action}"),
                &[],
            )
            .await;
        assert_eq!(res.status(), 404, "{action}: Globex's pages are not Acme's admin's");
    }
    assert_eq!(written(&o.app).await, before);
    assert_eq!(Console::new(&o.app).get(&link_path(&token)).await.status(), 200);
}

// ---------------------------------------------------------------------------------------------
// The admin API: `POST /admin/v2/orgs/{orgId}/users/invite`.
// ---------------------------------------------------------------------------------------------

fn invite_path(org: Uuid) -> String {
    format!("/admin/v2/orgs/{org}/users/invite")
}

/// The API's invite answer to `body`, sent with the key `token`.
async fn invite_through_api(app: &TestApp, org: Uuid, token: &str, body: &Value) -> Answer {
    app.api_json(Method::POST, &invite_path(org), token, body).await
}

/// Atlassian's request, in full, as its clients send it.
fn atlassian_request(emails: &[&str]) -> Value {
    json!({
        "emails": emails,
        "permissionRules": [],
        "additionalGroups": [],
        "sendNotification": true,
        "notificationText": "Welcome to Acme",
    })
}

/// The token of an `invitationLink`.
fn token_of_link(app: &TestApp, link: &Value) -> String {
    let link = link.as_str().expect("a link");
    link.strip_prefix(&format!("{}/invitations?token=", app.address))
        .unwrap_or_else(|| panic!("a link under the instance's address: {link}"))
        .to_owned()
}

#[tokio::test]
async fn the_api_takes_atlassians_invitation_request_and_answers_in_its_shape_with_a_link_and_no_id() {
    let o = acme().await;
    person(&o.app, "dave@example.com").await;
    let key = o.app.key_for(o.org, o.user).await;
    let users = o.app.snapshot("users").await;
    let memberships = o.app.snapshot("memberships").await;
    let res = invite_through_api(
        &o.app,
        o.org,
        &key.token,
        &atlassian_request(&["dave@example.com", "erin@example.com"]),
    )
    .await;
    assert_eq!(res.status(), 200);
    let answer: Value = res.json().await.expect("JSON");
    let shapes = crate::harness::contract::wire_shapes();
    let shape = &shapes["operations"]["POST /admin/v2/orgs/{orgId}/users/invite"]["200"];
    assert_eq!(
        crate::harness::contract::validate(shapes, shape, &answer, "$"),
        Ok(()),
        "Atlassian's MultidirectoryInviteSuccessResponse, with invitationLink: {answer}"
    );
    let data = answer["data"].as_array().expect("data");
    assert_eq!(data.len(), 2);
    for (entry, email) in data.iter().zip(["dave@example.com", "erin@example.com"]) {
        let fields: Vec<&str> = entry
            .as_object()
            .expect("an entry")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            fields,
            ["email", "invitationLink", "results"],
            "no id, with or without an account"
        );
        assert_eq!(entry["email"], email);
        assert_eq!(entry["results"], json!([]));
        token_of_link(&o.app, &entry["invitationLink"]);
    }
    assert_eq!(o.app.snapshot("users").await, users, "no account made");
    assert_eq!(o.app.snapshot("memberships").await, memberships, "no one added");
    let sent: Vec<(String, Option<Uuid>, Option<Uuid>)> =
        sqlx::query_as("SELECT role::text, invited_by, invited_by_key FROM invitations")
            .fetch_all(&o.app.pool)
            .await
            .expect("invitations");
    assert_eq!(sent, vec![("member".to_owned(), Some(o.user), Some(key.id)); 2]);
    assert_eq!(events(&o.app, o.org, "invitation.sent", Some(key.id)).await, 2);
}

#[tokio::test]
async fn an_api_invitation_link_is_accepted_in_the_console() {
    let o = acme().await;
    let dave = person(&o.app, "dave@example.com").await;
    let key = o.app.key(o.org, Some(&[Scope::WriteAccounts])).await;
    let res = invite_through_api(
        &o.app,
        o.org,
        &key.token,
        &json!({ "emails": ["dave@example.com", "erin@example.com"] }),
    )
    .await;
    assert_eq!(res.status(), 200);
    let answer: Value = res.json().await.expect("JSON");
    let dave_token = token_of_link(&o.app, &answer["data"][0]["invitationLink"]);
    let erin_token = token_of_link(&o.app, &answer["data"][1]["invitationLink"]);

    let erin = Console::new(&o.app);
    let res = create_account(&erin, &erin_token, "Erin", "erin's good passphrase").await;
    assert_eq!(res.status(), 200);
    assert!(has(&res.text().await.expect("page"), "continue"), "as a member");
    let erin_id = account(&o.app, "erin@example.com").await.expect("erin");
    assert_eq!(role_in(&o.app, o.org, erin_id).await.as_deref(), Some("member"));

    let dave_console = Console::signed_in(&o.app, "dave@example.com").await;
    assert_eq!(accept(&dave_console, &dave_token).await.status(), 200);
    assert_eq!(role_in(&o.app, o.org, dave).await.as_deref(), Some("member"));
}

#[tokio::test]
async fn inviting_through_the_api_needs_write_accounts_and_a_key_whose_holder_is_an_active_admin() {
    let o = acme().await;
    // Mia made a key as an admin, then was made a member and kept it.
    let mia = new_admin(&o, "mia@acme.example").await;
    let mias_key = o.app.key_for(o.org, mia).await;
    let res = o
        .post(&format!("{}/role", member(&o, mia)), &[("role", "member")])
        .await;
    assert_eq!(res.status(), 200);
    let others: Vec<Scope> = Scope::ALL
        .iter()
        .copied()
        .filter(|&s| s != Scope::WriteAccounts)
        .collect();
    let without = o.app.key(o.org, Some(&others)).await;
    let body = atlassian_request(&["new@example.com"]);
    let before = written(&o.app).await;

    let res = invite_through_api(&o.app, o.org, &without.token, &body).await;
    assert_eq!(res.status(), 403);
    assert_eq!(
        res.headers()["www-authenticate"],
        r#"Bearer error="insufficient_scope", scope="write:accounts:admin""#
    );

    let res = invite_through_api(&o.app, o.org, &mias_key.token, &body).await;
    assert_eq!(res.status(), 403);
    let answer: Value = res.json().await.expect("JSON");
    assert_eq!(answer["errors"][0]["code"], "ADMIN-403-5", "mia is no admin: {answer}");
    assert_eq!(written(&o.app).await, before, "nothing written");

    let with = o.app.key(o.org, Some(&[Scope::WriteAccounts])).await;
    let res = invite_through_api(&o.app, o.org, &with.token, &body).await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_key_invites_members_only_and_never_an_admin() {
    let o = acme().await;
    let key = o.app.key(o.org, Some(&[Scope::WriteAccounts])).await;
    let before = written(&o.app).await;
    for role in ["atlassian/admin", "atlassian/user"] {
        let mut body = atlassian_request(&["new@example.com"]);
        body["permissionRules"] = json!([{ "resource": "ari:cloud:platform::org/acme", "role": role }]);
        let res = invite_through_api(&o.app, o.org, &key.token, &body).await;
        assert_eq!(res.status(), 400, "{role}");
        let answer: Value = res.json().await.expect("JSON");
        assert_eq!(answer["errors"][0]["code"], "ADMIN-UAM-400-3", "{role}: {answer}");
    }
    assert_eq!(written(&o.app).await, before, "nothing written");

    let res = invite_through_api(&o.app, o.org, &key.token, &atlassian_request(&["new@example.com"])).await;
    assert_eq!(res.status(), 200);
    let answer: Value = res.json().await.expect("JSON");
    let token = token_of_link(&o.app, &answer["data"][0]["invitationLink"]);
    assert_eq!(invitation_of(&o.app, "new@example.com").await.2, "member");
    let res = create_account(&Console::new(&o.app), &token, "New", "a good long passphrase").await;
    assert!(has(&res.text().await.expect("page"), "continue"));
    let new = account(&o.app, "new@example.com").await.expect("the account");
    assert_eq!(role_in(&o.app, o.org, new).await.as_deref(), Some("member"));
}

#[tokio::test]
async fn a_bad_invitation_request_is_a_400_that_invites_no_one() {
    let o = acme().await;
    let key = o.app.key_for(o.org, o.user).await;
    let many: Vec<String> = (0..26).map(|n| format!("p{n}@example.com")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let before = written(&o.app).await;
    for (body, code) in [
        (atlassian_request(&[]), "ADMIN-UAM-400-1"),
        (atlassian_request(&many), "ADMIN-UAM-400-1"),
        (
            atlassian_request(&["fine@example.com", "not an email"]),
            "ADMIN-UAM-400-1",
        ),
        (
            json!({ "emails": ["fine@example.com"], "additionalGroups": ["ddcc4cea-cf43-4241-8f68-015a6c11ae14"] }),
            "ADMIN-UAM-400-1",
        ),
    ] {
        let res = invite_through_api(&o.app, o.org, &key.token, &body).await;
        assert_eq!(res.status(), 400, "{body}");
        let answer: Value = res.json().await.expect("JSON");
        assert_eq!(answer["errors"][0]["code"], code, "{body}: {answer}");
    }
    assert_eq!(written(&o.app).await, before, "nothing written");
    let res = invite_through_api(&o.app, o.org, &key.token, &atlassian_request(&many[..25])).await;
    assert_eq!(res.status(), 200, "25 is the most");
}

#[tokio::test]
async fn one_address_written_several_ways_is_invited_once() {
    let o = acme().await;
    let key = o.app.key_for(o.org, o.user).await;
    let body = atlassian_request(&["Zed@Example.com", " zed@example.COM", "zed@example.com"]);
    let res = invite_through_api(&o.app, o.org, &key.token, &body).await;
    assert_eq!(res.status(), 200);
    let answer: Value = res.json().await.expect("JSON");
    assert_eq!(answer["data"].as_array().map(Vec::len), Some(1), "{answer}");
    assert_eq!(o.app.count("invitations").await, 1);
    assert_eq!(events(&o.app, o.org, "invitation.sent", None).await, 1);
}

#[tokio::test]
async fn an_address_already_a_member_is_a_409_and_no_one_is_invited() {
    let o = acme().await;
    let key = o.app.key_for(o.org, o.user).await;
    let before = written(&o.app).await;
    let body = atlassian_request(&["new@example.com", "ADA@acme.example"]);
    let res = invite_through_api(&o.app, o.org, &key.token, &body).await;
    assert_eq!(res.status(), 409);
    let answer: Value = res.json().await.expect("JSON");
    assert_eq!(answer["errors"][0]["code"], "ADMIN-409-5", "{answer}");
    assert_eq!(
        written(&o.app).await,
        before,
        "all or none: new@example.com is not invited"
    );
}

#[tokio::test]
async fn an_invitation_sent_with_a_key_is_withdrawn_once_the_key_is_revoked() {
    let o = acme().await;
    let key = o.app.key_for(o.org, o.user).await;
    let res = invite_through_api(&o.app, o.org, &key.token, &atlassian_request(&["new@example.com"])).await;
    let answer: Value = res.json().await.expect("JSON");
    let token = token_of_link(&o.app, &answer["data"][0]["invitationLink"]);
    let browser = Console::new(&o.app);
    assert_eq!(browser.get(&link_path(&token)).await.status(), 200);

    let res = o
        .post(&format!("/o/{}/settings/api-keys/{}/revoke", o.org, key.id), &[])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(directories_status(&o.app, o.org, &key.token).await, 401);
    let (problem, intro) = problem_of(&browser, &token).await;
    assert!(problem.is_some() && intro, "withdrawn with the key that sent it");
}

// ---------------------------------------------------------------------------------------------
// Managed accounts follow verified domains.
// ---------------------------------------------------------------------------------------------

/// What the members list says in its "Managed account" column for this address.
fn managed_cell(list: &str, email: &str) -> String {
    let page = Page::parse(list);
    let row = page
        .all("tr")
        .into_iter()
        .find(|row| html::texts_of(*row, "td:not([class])").iter().any(|cell| cell == email))
        .unwrap_or_else(|| panic!("{email} listed"));
    html::texts_of(row, "td.managed").pop().expect("the managed column")
}

/// Whether the key's org may change the account (`GET /users/{id}/manage`).
async fn may_change(app: &TestApp, token: &str, user: Uuid) -> bool {
    let res = app.api(Method::GET, &format!("/users/{user}/manage"), token).await;
    assert_eq!(res.status(), 200);
    let privileges: Value = res.json().await.expect("JSON");
    privileges["profile.write"]["allowed"].as_bool().expect("profile.write")
}

#[tokio::test]
async fn verifying_a_domain_makes_the_org_manage_its_accounts_and_removing_the_claim_releases_them() {
    let o = acme().await;
    let carol = person(&o.app, "carol@acme.example").await;
    o.app.member(o.org, carol, "member").await;
    let una = person(&o.app, "una@elsewhere.example").await;
    o.app.member(o.org, una, "member").await;
    let key = o.app.key(o.org, Some(&[Scope::ReadAccounts])).await;
    assert!(!may_change(&o.app, &key.token, carol).await);
    assert_eq!(
        managed_cell(&o.console.page(&members(&o)).await, "carol@acme.example"),
        "No"
    );

    verify_domain(&o.app, o.org, "acme.example");
    assert!(
        may_change(&o.app, &key.token, carol).await,
        "Acme manages carol's account now"
    );
    assert!(!may_change(&o.app, &key.token, una).await, "not another domain's");
    let list = o.console.page(&members(&o)).await;
    assert_eq!(managed_cell(&list, "carol@acme.example"), "Yes");
    assert_eq!(managed_cell(&list, "ada@acme.example"), "Yes");
    assert_eq!(managed_cell(&list, "una@elsewhere.example"), "No");

    domain_command(&o.app, "remove", o.org, "acme.example");
    assert!(!may_change(&o.app, &key.token, carol).await, "released");
    assert_eq!(
        managed_cell(&o.console.page(&members(&o)).await, "carol@acme.example"),
        "No"
    );
    assert_eq!(managed_by(&o.app, carol).await, None);
}

#[tokio::test]
async fn a_new_account_is_managed_by_the_org_that_verified_its_domain_and_only_that_org_invites_one_into_being() {
    let o = acme().await;
    verify_domain(&o.app, o.org, "acme.example");
    let globex = o.app.org("Globex").await;
    let gus = person(&o.app, "gus@globex.example").await;
    o.app.member(globex, gus, "admin").await;

    let token = invited(&o, "new@acme.example", "member").await;
    let res = create_account(&Console::new(&o.app), &token, "New", "a good long passphrase").await;
    assert_eq!(res.status(), 200);
    let new = account(&o.app, "new@acme.example").await.expect("new");
    assert_eq!(managed_by(&o.app, new).await, Some(o.org));
    assert_eq!(
        managed_cell(&o.console.page(&members(&o)).await, "new@acme.example"),
        "Yes"
    );

    // Globex may invite an address of Acme's domain, but not make its account: no org chooses
    // the password of an account another org manages.
    let (_, theirs) = o.app.invitation(globex, "hired@acme.example", "member", gus).await;
    let (problem, intro) = problem_of(&Console::new(&o.app), &theirs).await;
    assert!(problem.is_some() && intro, "the page says why");
    let browser = Console::new(&o.app);
    let (_, usable) = o.app.invitation(globex, "free@free.example", "member", gus).await;
    let csrf = link_form_csrf(&browser.page(&link_path(&usable)).await);
    let before = written(&o.app).await;
    let res = send_create_form(&browser, csrf.as_str(), &theirs, "Hired", "globex chose this one").await;
    assert_eq!(res.status(), 400);
    assert_eq!(written(&o.app).await, before, "no account made");

    // An address of a domain no org verified: nobody manages it.
    assert_eq!(
        create_account(&browser, &usable, "Free", "a good long passphrase")
            .await
            .status(),
        200
    );
    let free = account(&o.app, "free@free.example").await.expect("free");
    assert_eq!(managed_by(&o.app, free).await, None);

    // The operator's door too.
    admin_add(&o.app, "ops@acme.example", globex);
    let ops = account(&o.app, "ops@acme.example").await.expect("ops");
    assert_eq!(
        managed_by(&o.app, ops).await,
        Some(o.org),
        "`keyward admin add` for Globex"
    );
}

#[tokio::test]
async fn changing_an_accounts_email_gives_it_to_the_org_that_verified_the_new_domain() {
    let o = acme().await;
    let carol = person(&o.app, "carol@acme.example").await;
    o.app.member(o.org, carol, "member").await;
    let dan = person(&o.app, "dan@acme.example").await;
    o.app.member(o.org, dan, "member").await;
    verify_domain(&o.app, o.org, "acme.example");
    let globex = o.app.org("Globex").await;
    verify_domain(&o.app, globex, "globex.example");
    let key = o
        .app
        .key(o.org, Some(&[Scope::WriteAccounts, Scope::ReadAccounts]))
        .await;
    assert!(may_change(&o.app, &key.token, carol).await);

    let email = format!("/users/{carol}/manage/email");
    let res = o
        .app
        .api_json(
            Method::PUT,
            &email,
            &key.token,
            &json!({ "email": "carol@elsewhere.example" }),
        )
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(
        managed_by(&o.app, carol).await,
        None,
        "no org verified elsewhere.example"
    );
    let res = o
        .app
        .api_json(
            Method::PUT,
            &email,
            &key.token,
            &json!({ "email": "carol@acme.example" }),
        )
        .await;
    assert_eq!(res.status(), 403, "Acme no longer manages the account");

    let before = written(&o.app).await;
    let res = o
        .app
        .api_json(
            Method::PUT,
            &format!("/users/{dan}/manage/email"),
            &key.token,
            &json!({ "email": "dan@globex.example" }),
        )
        .await;
    assert_eq!(res.status(), 409, "no org moves an account into another org's domain");
    let answer: Value = res.json().await.expect("JSON");
    assert_eq!(answer["errors"][0]["code"], "ADMIN-409-7", "{answer}");
    assert_eq!(written(&o.app).await, before);
}

// ---------------------------------------------------------------------------------------------
// The migration that brought invitations and domain-managed accounts in.
// ---------------------------------------------------------------------------------------------

/// Migration 20261208000001_invitations_and_managed_accounts.
const INVITATIONS: i64 = 20261208000001;

#[tokio::test]
async fn the_migration_unmanages_accounts_their_first_org_managed_and_gives_a_verified_domains_accounts_to_the_org_that_verified_it()
 {
    let (pool, _) = database_before_migration(INVITATIONS).await;

    let first = crate::harness::arranged::org_row(&pool, "First").await;
    let verifier = crate::harness::arranged::org_row(&pool, "Verifier").await;
    claim(&pool, first, "claimed.example", "unverified").await;
    claim(&pool, verifier, "verified.example", "verified").await;
    // Accounts as the old rule left them: managed by the org that made them, their first.
    let ann = user_row(&pool, "ann@first.example", Some(first)).await;
    let dan = user_row(&pool, "dan@claimed.example", Some(first)).await;
    let ben = user_row(&pool, "Ben@Verified.EXAMPLE", Some(first)).await;
    let eve = user_row(&pool, "eve@verified.example", None).await;
    let lee = user_row(&pool, "lee@first.example", None).await;

    keyward::store::migrate(&pool).await.expect("the migration applies");
    for (user, manager, why) in [
        (ann, None, "no verified domain: their first org no longer manages them"),
        (dan, None, "a claim is not a verification"),
        (ben, Some(verifier), "the verifying org, under the email rule"),
        (
            eve,
            Some(verifier),
            "the verifying org, though no org managed it before",
        ),
        (lee, None, "nobody, as before"),
    ] {
        let managed: Option<Uuid> = sqlx::query_scalar("SELECT managed_by_org FROM users WHERE id = $1")
            .bind(user)
            .fetch_one(&pool)
            .await
            .expect("user");
        assert_eq!(managed, manager, "{why}");
    }
}

async fn claim(pool: &PgPool, org: Uuid, name: &str, status: &str) {
    sqlx::query(
        "INSERT INTO domains (id, org_id, name, claim_type, status, verified_at)
         VALUES ($1, $2, $3, 'dns', $4, CASE WHEN $4 = 'verified' THEN now() END)",
    )
    .bind(Uuid::new_v4())
    .bind(org)
    .bind(name)
    .bind(status)
    .execute(pool)
    .await
    .expect("domain");
}

async fn user_row(pool: &PgPool, email: &str, managed_by: Option<Uuid>) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query("INSERT INTO users (id, email, display_name, managed_by_org) VALUES ($1, $2, 'Someone', $3)")
        .bind(id)
        .bind(email)
        .bind(managed_by)
        .execute(pool)
        .await
        .expect("user");
    id
}

#[tokio::test]
async fn an_account_is_never_made_twice_for_one_address_even_past_the_pages_own_check() {
    // The link's page offers to create an account only when the address has none; the rule
    // itself holds below the page, for an account made after the page was read.
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let admin = person(&app, "admin@acme.example").await;
    app.member(org, admin, "admin").await;
    let (_, token) = app.invitation(org, "erin@elsewhere.example", "member", admin).await;
    let erin = person(&app, "Erin@elsewhere.example").await;
    let before = written(&app).await;

    let name = keyward::domain::DisplayName::parse("A second Erin").expect("a name");
    let origin = keyward::store::audit::Origin::default();
    let hash = keyward::auth::argon2id::hash(b"a second erin's password").expect("argon2id hash");
    let refused =
        keyward::service::people::invitations::accept_with_new_account(&app.pool, &token, &name, &hash, &origin).await;
    assert!(
        matches!(
            refused,
            Err(keyward::service::people::invitations::AcceptError::AccountExists)
        ),
        "{refused:?}"
    );
    assert_eq!(written(&app).await, before, "no account, membership or event");
    assert_eq!(role_in(&app, org, erin).await, None);
}
