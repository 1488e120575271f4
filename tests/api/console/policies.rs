//! Settings > Policies over HTTP: the page shows the org's allowlists and lifetime policies with
//! who changed them last; what the console saves acts at once (a cached key refused from outside
//! a new allowlist on its very next request, admitted again when the list is disabled; a
//! lifetime that caps keys made in the console and through the API); bad input answered beside
//! its field with nothing written; CSRF and cross-site posts refused; other orgs' policies not
//! found; and the console open to an admin whom the allowlist shuts out.

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::console::{Console, PASSWORD, person};
use crate::harness::signed_in::Admin;
use crate::harness::{Page, SignedInAdmin, TestApp, behind_proxy, key_status_from, location};

const EMAIL: &str = "yamada@example.com";

/// An admin of Acme, signed in from `from` (through the instance's trusted proxy) or straight
/// from the loopback address.
async fn admin_on(app: TestApp, from: Option<&'static str>) -> SignedInAdmin {
    let admin = Admin {
        org: "Acme",
        email: EMAIL,
        from,
    };
    SignedInAdmin::on(app, admin).await
}

async fn admin() -> SignedInAdmin {
    admin_on(TestApp::spawn().await, None).await
}

fn policies_page(admin: &SignedInAdmin) -> String {
    format!("/o/{}/settings/policies", admin.org)
}

/// Creates a policy through the console's form; its id.
async fn create(admin: &SignedInAdmin, fields: &[(&str, &str)]) -> Uuid {
    let res = admin.post(&policies_page(admin), fields).await;
    assert_eq!(res.status(), 303, "{fields:?} is saved");
    assert_eq!(location(&res), format!("{}?done=created", policies_page(admin)));
    sqlx::query_scalar("SELECT id FROM policies ORDER BY created_at DESC LIMIT 1")
        .fetch_one(&admin.app.pool)
        .await
        .expect("the new policy")
}

/// The rows a refused request must leave alone.
async fn written(admin: &SignedInAdmin) -> (Vec<String>, Vec<String>) {
    (
        admin.app.snapshot("policies").await,
        admin.app.snapshot("audit_events").await,
    )
}

/// The (actor kind, actor id, host(ip), details) of each event with this action, oldest first.
async fn policy_events(app: &TestApp, action: &str) -> Vec<(String, Option<Uuid>, Option<String>, Value)> {
    sqlx::query_as(
        "SELECT actor_kind::text, actor_id, host(ip), details FROM audit_events
         WHERE action = $1 ORDER BY time, id",
    )
    .bind(action)
    .fetch_all(&app.pool)
    .await
    .expect("events")
}

async fn status_of(app: &TestApp, id: Uuid) -> String {
    sqlx::query_scalar("SELECT status FROM policies WHERE id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .expect("policy")
}

#[tokio::test]
async fn the_page_shows_each_policy_its_rules_and_who_changed_it_last() {
    let admin = admin().await;
    let key = admin.app.key(admin.org, None).await;
    let res = admin
        .app
        .call(
            Method::POST,
            &format!("/admin/v1/orgs/{}/policies", admin.org),
            &key.token,
            Some(&json!({ "type": "ip-allowlist", "name": "Office", "rule": { "in": ["203.0.113.0/24", "2001:db8::/32"] } })),
        )
        .await;
    assert_eq!(res.status(), 200);
    let lifetime = crate::harness::arranged::lifetime_policy(&admin.app, admin.org, 90).await;
    sqlx::query("UPDATE policies SET status = 'disabled' WHERE id = $1")
        .bind(lifetime)
        .execute(&admin.app.pool)
        .await
        .expect("disable by hand");
    let other = admin.app.org("Globex").await;
    crate::harness::arranged::lifetime_policy(&admin.app, other, 12).await;

    let page = admin.console.page(&policies_page(&admin)).await;
    assert!(page.contains("Office") && page.contains("203.0.113.0/24") && page.contains("2001:db8::/32"));
    assert!(
        page.contains("by API key test key"),
        "who changed it, from the audit log"
    );
    assert!(page.contains("90 days") && page.contains("arranged"));
    assert!(Page::parse(&page).has(".badge.active") && Page::parse(&page).has(".badge.expired"));
    assert!(!page.contains("12 days"), "another org's policy is not shown");
    assert!(
        page.contains("No lifetime policy is enabled"),
        "the disabled lifetime caps nothing"
    );
    assert!(page.contains("API keys of this organization are accepted only from"));
    assert!(
        page.contains("applies to API keys only, never to this console"),
        "the page always says the console is exempt"
    );
    assert_eq!(
        Page::parse(&page).text("code#your-address").as_deref(),
        Some("127.0.0.1")
    );
    assert!(
        Page::parse(&page).has("#excludes-you"),
        "the enabled list leaves out the admin's own address"
    );
    for action in ["enable", "disable", "delete"] {
        assert!(page.contains(&format!("/{action}")), "{action} is offered");
    }
}

#[tokio::test]
async fn an_allowlist_saved_in_the_console_refuses_a_cached_key_at_once_and_disabling_it_admits_it_again() {
    let admin = admin_on(TestApp::spawn_with(behind_proxy()).await, Some("198.51.100.20")).await;
    let script = admin.app.key(admin.org, None).await;
    assert_eq!(
        key_status_from(&admin.app, &script.token, "192.0.2.7").await,
        200,
        "cached"
    );

    let id = create(
        &admin,
        &[
            ("type", "ip-allowlist"),
            ("name", "Office"),
            ("ranges", "203.0.113.0/24\n198.51.100.20\n"),
            ("enabled", "on"),
        ],
    )
    .await;
    assert_eq!(
        key_status_from(&admin.app, &script.token, "192.0.2.7").await,
        403,
        "refused on its very next request"
    );
    assert_eq!(key_status_from(&admin.app, &script.token, "203.0.113.9").await, 200);
    let created = policy_events(&admin.app, "policy.created").await;
    assert_eq!(created.len(), 1);
    let (kind, actor, ip, details) = &created[0];
    assert_eq!((kind.as_str(), *actor), ("user", Some(admin.user)));
    assert_eq!(ip.as_deref(), Some("198.51.100.20"), "from where the admin is");
    assert_eq!(details["rule"], json!({ "in": ["203.0.113.0/24", "198.51.100.20/32"] }));

    let res = admin
        .post(&format!("{}/{id}/disable", policies_page(&admin)), &[])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), format!("{}?done=disabled", policies_page(&admin)));
    assert_eq!(
        key_status_from(&admin.app, &script.token, "192.0.2.7").await,
        200,
        "admitted again on its very next request"
    );
    assert_eq!(status_of(&admin.app, id).await, "disabled");
    let page = admin.console.page(&location(&res)).await;
    assert!(Page::parse(&page).has("#policy-notice"));
    assert!(Page::parse(&page).has(&format!("#enable-{id}")));

    admin.post(&format!("{}/{id}/enable", policies_page(&admin)), &[]).await;
    assert_eq!(key_status_from(&admin.app, &script.token, "192.0.2.7").await, 403);
    // Each round's answer comes before its next request is sent: no notice is waited for.
    for round in 0..25 {
        admin
            .post(&format!("{}/{id}/disable", policies_page(&admin)), &[])
            .await;
        assert_eq!(
            key_status_from(&admin.app, &script.token, "192.0.2.7").await,
            200,
            "round {round}: admitted"
        );
        admin.post(&format!("{}/{id}/enable", policies_page(&admin)), &[]).await;
        assert_eq!(
            key_status_from(&admin.app, &script.token, "192.0.2.7").await,
            403,
            "round {round}: refused"
        );
    }
    let updated = policy_events(&admin.app, "policy.updated").await;
    assert_eq!(updated.len(), 52, "each disable and enable recorded");
    assert!(
        updated
            .iter()
            .all(|(kind, actor, _, _)| kind == "user" && *actor == Some(admin.user))
    );

    // An edit: the office range goes, the address 192.0.2.7 joins.
    let res = admin
        .post(
            &format!("{}/{id}", policies_page(&admin)),
            &[("name", "VPN"), ("ranges", "192.0.2.7"), ("enabled", "on")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(key_status_from(&admin.app, &script.token, "192.0.2.7").await, 200);
    assert_eq!(key_status_from(&admin.app, &script.token, "203.0.113.9").await, 403);

    let confirm = admin
        .console
        .page(&format!("{}/{id}/delete", policies_page(&admin)))
        .await;
    assert!(Page::parse(&confirm).has("#confirm-delete") && confirm.contains("192.0.2.7/32"));
    let res = admin.post(&format!("{}/{id}/delete", policies_page(&admin)), &[]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(key_status_from(&admin.app, &script.token, "203.0.113.9").await, 200);
    assert_eq!(admin.app.count("policies").await, 0);
    assert_eq!(policy_events(&admin.app, "policy.deleted").await.len(), 1);
}

#[tokio::test]
async fn a_lifetime_set_in_the_console_caps_keys_created_in_the_console_and_through_the_api() {
    let admin = admin().await;
    // A script's key of 30 days, made before the policy (which caps new keys only).
    let key = admin.app.key(admin.org, None).await;
    create(
        &admin,
        &[
            ("type", "api-key-lifetime"),
            ("name", "Short"),
            ("max_days", "20"),
            ("enabled", "on"),
        ],
    )
    .await;
    let keys = format!("/o/{}/settings/api-keys", admin.org);
    let form = admin.console.page(&format!("{keys}/new?type=unscoped")).await;
    assert!(Page::parse(&form).has("#expiry-7") && !Page::parse(&form).has("#expiry-30"));
    assert!(form.contains("at most 20 days"));
    let review = format!("{keys}/review");
    for (expiry, status) in [("30", 422), ("7", 200)] {
        let res = admin
            .post(
                &review,
                &[("type", "unscoped"), ("name", "nightly"), ("expiry", expiry)],
            )
            .await;
        assert_eq!(res.status(), status, "a review for {expiry} days");
    }

    let api_keys = format!("/admin/api-access/v1/orgs/{}/api-keys", admin.org);
    let asked = (chrono::Utc::now() + chrono::Duration::days(21)).to_rfc3339();
    let res = admin
        .app
        .call(
            Method::POST,
            &api_keys,
            &key.token,
            Some(&json!({ "label": "too long", "expiresAt": asked })),
        )
        .await;
    assert_eq!(res.status(), 400, "the API refuses past the console's policy");
    let res = admin
        .app
        .call(
            Method::POST,
            &api_keys,
            &key.token,
            Some(&json!({ "label": "default" })),
        )
        .await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.expect("JSON");
    let at = |field: &str| {
        created[field]
            .as_str()
            .and_then(|s| s.parse::<chrono::DateTime<chrono::Utc>>().ok())
            .expect("time")
    };
    assert_eq!(
        (at("expiresAt") - at("createdAt")).num_days(),
        20,
        "the default is cut to it"
    );
}

/// A form's fields, the field whose error they cause, and (part of) that error.
type BadInput<'a> = (Vec<(&'a str, &'a str)>, &'a str, &'a str);

#[tokio::test]
async fn bad_input_is_answered_beside_its_field_naming_the_line_and_nothing_is_written() {
    let admin = admin().await;
    let existing = create(
        &admin,
        &[("type", "ip-allowlist"), ("name", "Office"), ("ranges", "10.0.0.0/8")],
    )
    .await;
    let lifetime = create(
        &admin,
        &[("type", "api-key-lifetime"), ("name", "Year"), ("max_days", "365")],
    )
    .await;
    let before = written(&admin).await;
    let allowlist = |ranges: &'static str| vec![("type", "ip-allowlist"), ("name", "Office"), ("ranges", ranges)];
    let days = |days: &'static str| vec![("type", "api-key-lifetime"), ("name", "Limit"), ("max_days", days)];
    let cases: Vec<BadInput> = vec![
        (
            allowlist("10.0.0.0/8\n\n  office  \n192.0.2.1"),
            "ranges",
            "Line 3: “office” is not an IP address",
        ),
        (allowlist("10.0.0.0/33"), "ranges", "Line 1: “10.0.0.0/33”"),
        (allowlist(""), "ranges", "Enter at least one address or range"),
        (allowlist(" \n \n"), "ranges", "Enter at least one address or range"),
        (days("0"), "max_days", "from 1 to 365"),
        (days("366"), "max_days", "from 1 to 365"),
        (days("1.5"), "max_days", "from 1 to 365"),
        (days(""), "max_days", "from 1 to 365"),
        (
            vec![("type", "ip-allowlist"), ("name", " "), ("ranges", "10.0.0.0/8")],
            "name",
            "Enter a name.",
        ),
    ];
    let too_many: String = (0..1001)
        .map(|i| format!("10.{}.{}.0/24\n", i / 256, i % 256))
        .collect();
    let mut cases = cases;
    cases.push((
        vec![("type", "ip-allowlist"), ("name", "Big"), ("ranges", too_many.as_str())],
        "ranges",
        "at most 1000",
    ));
    for (fields, field, message) in &cases {
        let kind = fields[0].1;
        let edit = if kind == "ip-allowlist" { existing } else { lifetime };
        for path in [policies_page(&admin), format!("{}/{edit}", policies_page(&admin))] {
            let res = admin.post(&path, fields).await;
            assert_eq!(res.status(), 422, "{path} {fields:?}");
            let html = res.text().await.expect("page");
            let page = Page::parse(&html);
            let beside = page
                .text(&format!("p#{field}-error"))
                .unwrap_or_else(|| panic!("no error beside {field}: {fields:?}"));
            assert!(beside.contains(message), "{field}: {beside}");
            assert!(page.has(r#"[aria-invalid="true"]"#), "{fields:?}");
            assert!(page.has("#error-summary"));
            if *field == "ranges" && !fields[2].1.is_empty() && fields[2].1.len() < 100 {
                assert!(html.contains(fields[2].1.trim_end()), "what was typed is kept");
            }
        }
    }
    assert_eq!(written(&admin).await, before, "nothing written, no event");
    let bogus = admin
        .console
        .get(&format!("{}/new?type=data-residency", policies_page(&admin)))
        .await;
    assert_eq!(bogus.status(), 404);
}

#[tokio::test]
async fn posts_without_the_sessions_token_or_from_another_site_change_nothing() {
    let admin = admin().await;
    let id = create(
        &admin,
        &[
            ("type", "ip-allowlist"),
            ("name", "Office"),
            ("ranges", "10.0.0.0/8"),
            ("enabled", "on"),
        ],
    )
    .await;
    let before = written(&admin).await;
    let fields = [
        ("type", "ip-allowlist"),
        ("name", "Taken over"),
        ("ranges", "0.0.0.0/0"),
    ];
    let policies = policies_page(&admin);
    for path in [
        policies.clone(),
        format!("{policies}/{id}"),
        format!("{policies}/{id}/enable"),
        format!("{policies}/{id}/disable"),
        format!("{policies}/{id}/delete"),
    ] {
        let missing = admin.console.post(&path, &fields).await;
        assert_eq!(missing.status(), 403, "{path} without a token");
        let mut wrong = fields.to_vec();
        wrong.push(("csrf", "00ff"));
        assert_eq!(
            admin.console.post(&path, &wrong).await.status(),
            403,
            "{path} with a wrong token"
        );
        let cross = admin.post_from_another_site(&path, &fields).await;
        assert_eq!(cross.status(), 403, "{path} from another site");
    }
    assert_eq!(written(&admin).await, before);
}

#[tokio::test]
async fn another_orgs_policy_is_not_found_and_left_alone() {
    let admin = admin().await;
    let other = admin.app.org("Globex").await;
    let theirs = crate::harness::arranged::lifetime_policy(&admin.app, other, 30).await;
    let before = written(&admin).await;
    let policies = policies_page(&admin);
    for path in [
        format!("{policies}/{theirs}"),
        format!("{policies}/{theirs}/delete"),
        format!("{policies}/{}", Uuid::new_v4()),
        format!("{policies}/not-a-policy"),
        format!("/o/{other}/settings/policies"),
        format!("/o/{other}/settings/policies/{theirs}"),
    ] {
        assert_eq!(admin.console.get(&path).await.status(), 404, "GET {path}");
    }
    let fields = [("type", "api-key-lifetime"), ("name", "Mine now"), ("max_days", "365")];
    for path in [
        format!("{policies}/{theirs}"),
        format!("{policies}/{theirs}/enable"),
        format!("{policies}/{theirs}/disable"),
        format!("{policies}/{theirs}/delete"),
        format!("/o/{other}/settings/policies/{theirs}/delete"),
    ] {
        assert_eq!(admin.post(&path, &fields).await.status(), 404, "POST {path}");
    }
    assert_eq!(written(&admin).await, before);
}

#[tokio::test]
async fn the_console_stays_open_to_an_admin_the_allowlist_shuts_out() {
    let app = TestApp::spawn_with(behind_proxy()).await;
    let org = app.org("Acme").await;
    let key = app.key(org, None).await;
    sqlx::query(
        "INSERT INTO policies (id, org_id, type, name, status, rule)
         VALUES ($1, $2, 'ip-allowlist', 'Nowhere', 'enabled', '{\"in\": [\"192.0.2.0/24\"]}')",
    )
    .bind(Uuid::new_v4())
    .bind(org)
    .execute(&app.pool)
    .await
    .expect("an allowlist no caller is in");
    assert_eq!(key_status_from(&app, &key.token, "203.0.113.50").await, 403);

    let user = person(&app, EMAIL).await;
    app.member(org, user, "admin").await;
    let console = Console::from(&app, "203.0.113.50");
    assert_eq!(
        console.sign_in(EMAIL, PASSWORD, "").await.status(),
        303,
        "signs in from outside the list"
    );
    let path = format!("/o/{org}/settings/policies");
    let page = console.page(&path).await;
    assert_eq!(
        Page::parse(&page).text("code#your-address").as_deref(),
        Some("203.0.113.50")
    );
    assert!(Page::parse(&page).has("#excludes-you"));
    assert!(page.contains("API keys used from 203.0.113.50, where you are now, are refused."));
    let id: Uuid = sqlx::query_scalar("SELECT id FROM policies")
        .fetch_one(&app.pool)
        .await
        .expect("policy");
    let edit = console.page(&format!("{path}/{id}")).await;
    assert!(
        Page::parse(&edit).has("#excludes-you"),
        "the form says the list leaves the admin out"
    );
    let csrf = Page::parse(&page).form_token(&format!("{path}/{id}/disable"));
    let res = console.post(&format!("{path}/{id}/disable"), &[("csrf", &csrf)]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        key_status_from(&app, &key.token, "203.0.113.50").await,
        200,
        "undone from the console"
    );
}

#[tokio::test]
async fn every_policies_page_in_japanese_has_no_english_message() {
    use keyward::console::catalog::policies::{EN, JA};
    let admin = admin().await;
    admin.post("/language", &[("lang", "ja"), ("back", "/orgs")]).await;
    let id = create(
        &admin,
        &[("type", "ip-allowlist"), ("name", "本社"), ("ranges", "10.0.0.0/8")],
    )
    .await;
    create(
        &admin,
        &[
            ("type", "api-key-lifetime"),
            ("name", "短期"),
            ("max_days", "30"),
            ("enabled", "on"),
        ],
    )
    .await;
    let policies = policies_page(&admin);
    let mut pages = Vec::new();
    for path in [
        policies.clone(),
        format!("{policies}?done=created"),
        format!("{policies}/new?type=ip-allowlist"),
        format!("{policies}/new?type=api-key-lifetime"),
        format!("{policies}/{id}"),
        format!("{policies}/{id}/delete"),
    ] {
        pages.push((path.clone(), admin.console.page(&path).await));
    }
    let bad = admin
        .post(&policies, &[("type", "ip-allowlist"), ("name", ""), ("ranges", "x")])
        .await;
    assert_eq!(bad.status(), 422);
    pages.push(("errors".into(), bad.text().await.expect("page")));
    for (path, html) in pages {
        assert_eq!(Page::parse(&html).lang(), "ja", "{path}");
        for ((name, en), (_, ja)) in EN.all().into_iter().zip(JA.all()) {
            let fixed = en
                .split(['{', '}'])
                .step_by(2)
                .map(str::trim)
                .filter(|p| p.contains(' '));
            for part in fixed.filter(|_| en != ja) {
                assert!(!html.contains(part), "{path}: {name} in English: {part:?}");
            }
        }
    }
}

#[tokio::test]
async fn many_policies_of_one_type_page_on_with_a_keyset() {
    let admin = admin().await;
    for i in 0..51 {
        sqlx::query(
            "INSERT INTO policies (id, org_id, type, name, status, rule, created_at)
             VALUES ($1, $2, 'ip-allowlist', $3, 'disabled', '{\"in\": [\"10.0.0.0/8\"]}', now() - make_interval(secs => 100 - $4))",
        )
        .bind(Uuid::new_v4())
        .bind(admin.org)
        .bind(format!("list-{i:02}"))
        .bind(f64::from(i))
        .execute(&admin.app.pool)
        .await
        .expect("policy");
    }
    let first = admin.console.page(&policies_page(&admin)).await;
    assert_eq!(Page::parse(&first).count("li.card.policy"), 50);
    assert!(first.contains("list-00") && first.contains("list-49") && !first.contains("list-50"));
    let next = Page::parse(&first).href("#next-allowlists").expect("a next page");
    let second = admin.console.page(&next).await;
    assert_eq!(Page::parse(&second).count("li.card.policy"), 1);
    assert!(second.contains("list-50") && !second.contains("list-49"));
    assert!(!Page::parse(&second).has("#lifetimes"), "a later page is of one type");
    assert!(!Page::parse(&second).has("#next-allowlists"));
}

#[tokio::test]
async fn a_form_of_up_to_64_kib_is_read_and_a_larger_one_is_refused_with_nothing_written() {
    let admin = admin().await;
    // The most ranges an allowlist holds, one a line: about 16 kB of form.
    let ranges: Vec<String> = (0..1000).map(|i| format!("10.{}.{}.0/24", i / 256, i % 256)).collect();
    let ranges = ranges.join("\n");
    assert!(ranges.len() > 10_000);
    let id = create(
        &admin,
        &[("type", "ip-allowlist"), ("name", "Offices"), ("ranges", &ranges)],
    )
    .await;
    let stored: i32 = sqlx::query_scalar("SELECT jsonb_array_length(rule -> 'in') FROM policies WHERE id = $1")
        .bind(id)
        .fetch_one(&admin.app.pool)
        .await
        .expect("the policy");
    assert_eq!(stored, 1000, "every range was read");

    let before = written(&admin).await;
    let padding = "x".repeat(70 * 1024);
    let res = admin
        .post(
            &policies_page(&admin),
            &[
                ("type", "ip-allowlist"),
                ("name", "Too big"),
                ("ranges", "10.0.0.0/8"),
                ("note", &padding),
            ],
        )
        .await;
    assert_eq!(res.status(), 413, "a body over 64 KiB is not read");
    assert_eq!(written(&admin).await, before, "nothing written");
}
