//! Settings > API keys over HTTP: creating keys (every field's bad input answered beside it,
//! the review step, the show-once answer, the single-use form), the list, a key's detail, the
//! leaked-key finder and revocation, CSRF on each of their POSTs, other orgs' keys, and every
//! page of the flow in Japanese without an English message in it.

use reqwest::header::CACHE_CONTROL;
use uuid::Uuid;

use crate::harness::console::{Console, directories_status};
use crate::harness::english::{self, english_in};
use crate::harness::signed_in::{create_form, pairs};
use crate::harness::{Page, SignedInAdmin, location, logs};

/// The key value a show-once page shows.
fn key_value(html: &str) -> String {
    Page::parse(html)
        .text("code#key-value")
        .expect("a key value on the page")
}

const SCOPED: &[(&str, &str)] = &[
    ("type", "scoped"),
    ("name", "デプロイ"),
    ("expiry", "30"),
    ("scopes", "read:directories:admin"),
];

/// An admin who has created the `SCOPED` key: its value from the show-once page and its id.
async fn with_scoped_key() -> (SignedInAdmin, String, Uuid) {
    let admin = SignedInAdmin::new().await;
    let (res, _) = admin.create_key(SCOPED).await;
    let token = key_value(&res.text().await.expect("show-once page"));
    let key_id: Uuid = sqlx::query_scalar("SELECT id FROM api_keys WHERE name = 'デプロイ'")
        .fetch_one(&admin.app.pool)
        .await
        .expect("the key row");
    (admin, token, key_id)
}

#[tokio::test]
async fn the_scoped_key_form_chooses_30_days_and_lists_what_each_scope_unlocks() {
    let admin = SignedInAdmin::new().await;
    let form = Page::parse(&admin.page(&format!("{}/new?type=scoped", admin.keys())).await);
    assert_eq!(
        form.attr("#expiry-30", "value").as_deref(),
        Some("30"),
        "a 30-day choice"
    );
    assert!(form.has("#expiry-30[checked]"), "30 days is chosen by default");
    assert!(
        form.readable_text().contains("/admin/v2/orgs/{orgId}/directories"),
        "each scope lists what it unlocks"
    );
}

#[tokio::test]
async fn a_created_key_is_answered_once_with_no_redirect_and_no_store() {
    let admin = SignedInAdmin::new().await;
    let (res, _) = admin.create_key(SCOPED).await;
    assert_eq!(
        res.status(),
        200,
        "the create POST answers with the key itself, no redirect"
    );
    assert_eq!(
        res.headers().get(CACHE_CONTROL).map(|v| v.as_bytes()),
        Some(&b"no-store"[..])
    );
    let html = res.text().await.expect("show-once page");
    let token = key_value(&html);
    assert!(token.starts_with("kw_"), "{token}");
    assert!(html.contains(&admin.org.to_string()), "the org id is shown");
}

#[tokio::test]
async fn a_created_scoped_key_works_at_once_with_its_scopes_and_is_listed() {
    let (admin, token, key_id) = with_scoped_key().await;
    assert_eq!(directories_status(&admin.app, admin.org, &token).await, 200);
    let scopes: Vec<String> = sqlx::query_scalar("SELECT scope FROM api_key_scopes WHERE key_id = $1")
        .bind(key_id)
        .fetch_all(&admin.app.pool)
        .await
        .expect("scopes");
    assert_eq!(scopes, ["read:directories:admin"]);
    let list = admin.page(&admin.keys()).await;
    assert!(list.contains("デプロイ") && list.contains("read:directories:admin"));
}

#[tokio::test]
async fn a_revoked_key_is_refused_with_401_before_the_revocation_is_answered() {
    let (admin, token, key_id) = with_scoped_key().await;
    assert_eq!(directories_status(&admin.app, admin.org, &token).await, 200);
    let revoke = format!("{}/{key_id}/revoke", admin.keys());
    assert!(
        Page::parse(&admin.page(&revoke).await).has("#confirm-revoke"),
        "revocation asks for confirmation"
    );
    let res = admin.post(&revoke, &[]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        directories_status(&admin.app, admin.org, &token).await,
        401,
        "refused before the answer arrived"
    );
    let back = location(&res);
    assert!(
        Page::parse(&admin.page(&back).await).has(".badge.revoked"),
        "the list shows it revoked"
    );
    let detail = admin.page(&format!("{}/{key_id}", admin.keys())).await;
    assert!(
        detail.contains("Created") && detail.contains("Revoked"),
        "its lifecycle"
    );
}

#[tokio::test]
async fn a_key_value_is_on_no_page_but_the_show_once_answer() {
    let (admin, token, key_id) = with_scoped_key().await;
    let list = admin.page(&admin.keys()).await;
    let detail = admin.page(&format!("{}/{key_id}", admin.keys())).await;
    let res = admin.post(&format!("{}/{key_id}/revoke", admin.keys()), &[]).await;
    let revoked_list = admin.page(&location(&res)).await;
    let revoked_detail = admin.page(&format!("{}/{key_id}", admin.keys())).await;
    for page in [list, detail, revoked_list, revoked_detail] {
        assert!(
            !page.contains(&token),
            "the value is on no page but the show-once answer"
        );
    }
}

#[tokio::test]
async fn an_unscoped_key_carries_its_warning_through_every_step() {
    let admin = SignedInAdmin::new().await;
    let form = admin.console.page(&format!("{}/new?type=unscoped", admin.keys())).await;
    assert!(Page::parse(&form).has("#unscoped-warning"));
    let review = admin
        .review_key(&[("type", "unscoped"), ("name", "全権"), ("expiry", "7")])
        .await;
    assert!(Page::parse(&review.text().await.expect("review")).has("#unscoped-warning"));
    let (res, _) = admin
        .create_key(&[("type", "unscoped"), ("name", "全権"), ("expiry", "7")])
        .await;
    let token = key_value(&res.text().await.expect("show-once"));
    assert_eq!(directories_status(&admin.app, admin.org, &token).await, 200);
    let unscoped: bool = sqlx::query_scalar("SELECT NOT scoped FROM api_keys")
        .fetch_one(&admin.app.pool)
        .await
        .expect("key");
    assert!(unscoped);
}

#[tokio::test]
async fn replaying_the_create_post_creates_nothing_and_shows_nothing() {
    let admin = SignedInAdmin::new().await;
    let (first, form) = admin.create_key(SCOPED).await;
    let token = key_value(&first.text().await.expect("show-once"));
    let again = admin.console.post(&admin.keys(), &pairs(&form)).await;
    assert_eq!(again.status(), 409);
    let html = again.text().await.expect("page");
    assert!(Page::parse(&html).has("#form-used"));
    assert!(!html.contains("kw_") && !html.contains(&token), "no key is shown again");
    assert_eq!(admin.app.count("api_keys").await, 1);
}

#[tokio::test]
async fn every_fields_bad_input_is_answered_beside_it_and_nothing_is_created() {
    let admin = SignedInAdmin::new().await;
    let long = "あ".repeat(101);
    let past = (chrono::Utc::now() - chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    let far = (chrono::Utc::now() + chrono::Duration::days(367))
        .format("%Y-%m-%d")
        .to_string();
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![
                ("type", "scoped"),
                ("name", "  "),
                ("expiry", "30"),
                ("scopes", "read:orgs:admin"),
            ],
            "name-error",
        ),
        (
            vec![
                ("type", "scoped"),
                ("name", &long),
                ("expiry", "30"),
                ("scopes", "read:orgs:admin"),
            ],
            "name-error",
        ),
        (
            vec![
                ("type", "scoped"),
                ("name", "期限"),
                ("expiry", "date"),
                ("expiry_date", &past),
                ("scopes", "read:orgs:admin"),
            ],
            "expiry-error",
        ),
        (
            vec![
                ("type", "scoped"),
                ("name", "期限"),
                ("expiry", "date"),
                ("expiry_date", &far),
                ("scopes", "read:orgs:admin"),
            ],
            "expiry-error",
        ),
        (
            vec![
                ("type", "scoped"),
                ("name", "期限"),
                ("expiry", "400"),
                ("scopes", "read:orgs:admin"),
            ],
            "expiry-error",
        ),
        (
            vec![("type", "scoped"), ("name", "スコープなし"), ("expiry", "30")],
            "scopes-error",
        ),
        (
            vec![
                ("type", "scoped"),
                ("name", "不明"),
                ("expiry", "30"),
                ("scopes", "read:everything:admin"),
            ],
            "scopes-error",
        ),
    ];
    for (fields, error) in cases {
        for path in [format!("{}/review", admin.keys()), admin.keys()] {
            let mut form = vec![("csrf", admin.csrf.as_str())];
            form.extend_from_slice(&fields);
            let res = admin.console.post(&path, &form).await;
            let status = res.status();
            let html = res.text().await.expect("page");
            assert_eq!(status, 422, "{path} {fields:?}");
            if path.ends_with("/review") {
                assert!(
                    Page::parse(&html).has(&format!("#{error}")),
                    "{fields:?}: {error} beside its field"
                );
                assert!(
                    Page::parse(&html).has(&format!(r#"[aria-describedby="{error}"]"#)),
                    "{fields:?}: tied to its field"
                );
                let name = fields
                    .iter()
                    .find(|(k, _)| *k == "name")
                    .map(|(_, v)| *v)
                    .unwrap_or_default();
                assert!(
                    Page::parse(&html).has_value(r#"input[name="name"]"#, name),
                    "the name is kept as typed"
                );
            }
        }
    }
    assert_eq!(admin.app.count("api_keys").await, 0);
}

#[tokio::test]
async fn the_orgs_lifetime_policy_caps_the_console_and_its_presets() {
    let admin = SignedInAdmin::new().await;
    crate::harness::arranged::lifetime_policy(&admin.app, admin.org, 30).await;
    let form = admin.console.page(&format!("{}/new?type=scoped", admin.keys())).await;
    assert!(
        Page::parse(&form).has("#expiry-30") && !Page::parse(&form).has("#expiry-90"),
        "presets past the policy are not offered"
    );
    assert!(Page::parse(&form).has("#policy-note"));
    let res = admin
        .review_key(&[
            ("type", "scoped"),
            ("name", "長期"),
            ("expiry", "90"),
            ("scopes", "read:orgs:admin"),
        ])
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.expect("page").contains("at most 30 days"));
    let in_40 = (chrono::Utc::now() + chrono::Duration::days(40))
        .format("%Y-%m-%d")
        .to_string();
    let res = admin
        .review_key(&[
            ("type", "scoped"),
            ("name", "長期"),
            ("expiry", "date"),
            ("expiry_date", &in_40),
            ("scopes", "read:orgs:admin"),
        ])
        .await;
    assert_eq!(res.status(), 422);
    assert_eq!(admin.app.count("api_keys").await, 0);
}

/// The `max` of the form's date field: the last day a key may end on, in the viewer's zone.
fn date_max(form: &str) -> String {
    Page::parse(form)
        .attr("#expiry_date", "max")
        .expect("the date field's max")
}

#[tokio::test]
async fn a_date_is_that_whole_day_in_the_viewers_time_zone_and_the_last_day_works_at_any_hour() {
    let admin = SignedInAdmin::new().await;
    sqlx::query("UPDATE users SET zoneinfo = 'Asia/Tokyo'")
        .execute(&admin.app.pool)
        .await
        .expect("zone");
    let tokyo = chrono_tz::Asia::Tokyo;
    let day = (chrono::Utc::now().with_timezone(&tokyo) + chrono::Duration::days(20)).date_naive();
    let form = admin.console.page(&format!("{}/new?type=scoped", admin.keys())).await;
    assert!(form.contains("Asia/Tokyo"), "the form names the zone its dates are in");
    let (res, _) = admin
        .create_key(&[
            ("type", "scoped"),
            ("name", "東京"),
            ("expiry", "date"),
            ("expiry_date", &day.to_string()),
            ("scopes", "read:orgs:admin"),
        ])
        .await;
    assert_eq!(res.status(), 200);
    let expires: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT expires_at FROM api_keys WHERE name = '東京'")
            .fetch_one(&admin.app.pool)
            .await
            .expect("the key");
    assert_eq!(
        expires.with_timezone(&tokyo).naive_local(),
        day.and_hms_opt(23, 59, 59).expect("time"),
        "the end of that day in Tokyo"
    );

    // The last day the form offers works whatever the hour: the key ends at the year's limit.
    let last = date_max(&form);
    let before = chrono::Utc::now();
    let (res, _) = admin
        .create_key(&[
            ("type", "scoped"),
            ("name", "一年"),
            ("expiry", "date"),
            ("expiry_date", &last),
            ("scopes", "read:orgs:admin"),
        ])
        .await;
    let after = chrono::Utc::now();
    assert_eq!(res.status(), 200);
    assert!(
        Page::parse(&res.text().await.expect("page")).has("#expiry-clamped"),
        "the page says the key ends at the limit"
    );
    let expires: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT expires_at FROM api_keys WHERE name = '一年'")
            .fetch_one(&admin.app.pool)
            .await
            .expect("the key");
    assert!(
        expires >= before + chrono::Duration::days(365) && expires <= after + chrono::Duration::days(365),
        "365 days from its creation: {expires}"
    );
    let day_after =
        (chrono::NaiveDate::parse_from_str(&last, "%Y-%m-%d").expect("date") + chrono::Days::new(1)).to_string();
    let res = admin
        .review_key(&[
            ("type", "scoped"),
            ("name", "長すぎ"),
            ("expiry", "date"),
            ("expiry_date", &day_after),
            ("scopes", "read:orgs:admin"),
        ])
        .await;
    assert_eq!(res.status(), 422, "the day after the last is refused");
}

#[tokio::test]
async fn posts_without_the_sessions_token_or_from_another_site_change_nothing() {
    let admin = SignedInAdmin::new().await;
    let (created, _) = admin.create_key(SCOPED).await;
    let token = key_value(&created.text().await.expect("show-once"));
    let key_id: Uuid = sqlx::query_scalar("SELECT id FROM api_keys")
        .fetch_one(&admin.app.pool)
        .await
        .expect("key");
    let posts = [
        format!("{}/review", admin.keys()),
        admin.keys(),
        format!("{}/{key_id}/revoke", admin.keys()),
        format!("{}/find", admin.keys()),
    ];
    for path in &posts {
        let mut fields: Vec<(&str, &str)> = SCOPED.to_vec();
        fields.push(("key", &token));
        let missing = admin.console.post(path, &fields).await;
        assert_eq!(missing.status(), 403, "{path} without a token");
        let mut wrong = fields.clone();
        wrong.push(("csrf", "00ff"));
        assert_eq!(
            admin.console.post(path, &wrong).await.status(),
            403,
            "{path} with a wrong token"
        );
        let cross = admin.post_from_another_site(path, &fields).await;
        assert_eq!(cross.status(), 403, "{path} from another site");
    }
    assert_eq!(admin.app.count("api_keys").await, 1);
    assert_eq!(
        directories_status(&admin.app, admin.org, &token).await,
        200,
        "the key was not revoked"
    );
}

#[tokio::test]
async fn another_orgs_keys_and_pages_are_not_found() {
    let admin = SignedInAdmin::new().await;
    let other = admin.app.org("よその組織").await;
    let theirs = admin.app.key(other, None).await;
    let member_only = admin.app.org("メンバーだけの組織").await;
    let user: Uuid = sqlx::query_scalar("SELECT id FROM users")
        .fetch_one(&admin.app.pool)
        .await
        .expect("user");
    admin.app.member(member_only, user, "member").await;
    for path in [
        format!("/o/{other}/settings/api-keys"),
        format!("/o/{member_only}/settings/api-keys"),
        format!("/o/{}/settings/api-keys", Uuid::new_v4()),
        format!("{}/{}", admin.keys(), theirs.id),
        format!("{}/{}/revoke", admin.keys(), theirs.id),
        format!("/o/{other}/settings/api-keys/{}", theirs.id),
        format!("{}/not-a-key", admin.keys()),
    ] {
        assert_eq!(admin.console.get(&path).await.status(), 404, "{path}");
    }
    let res = admin
        .console
        .post(
            &format!("{}/{}/revoke", admin.keys(), theirs.id),
            &[("csrf", &admin.csrf)],
        )
        .await;
    assert_eq!(res.status(), 404);
    assert_eq!(
        directories_status(&admin.app, other, &theirs.token).await,
        200,
        "their key still works"
    );
}

#[tokio::test]
async fn a_pasted_leaked_key_is_found_on_either_tab_without_its_value_anywhere() {
    let admin = SignedInAdmin::new().await;
    let (created, _) = admin
        .create_key(&[("type", "unscoped"), ("name", "漏洩"), ("expiry", "7")])
        .await;
    let token = key_value(&created.text().await.expect("show-once"));
    let lines_before = logs().lines().count();
    let res = admin
        .console
        .post(
            &format!("{}/find", admin.keys()),
            &[("csrf", &admin.csrf), ("key", &token)],
        )
        .await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.expect("found page");
    assert!(
        html.contains("漏洩") && Page::parse(&html).has("#revoke"),
        "the key, with the way to revoke it"
    );
    assert!(!html.contains(&token));
    let secret = &token[token.len() - 20..];
    assert!(
        !logs().lines().skip(lines_before).any(|line| line.contains(secret)),
        "no log line carries the value"
    );

    let other = admin.app.org("よその組織").await;
    let theirs = admin.app.key(other, None).await;
    for (value, message) in [
        (theirs.token.as_str(), "No API key of this organization"),
        ("kw_nonsense", "not a keyward API key"),
    ] {
        let res = admin
            .console
            .post(
                &format!("{}/find", admin.keys()),
                &[("csrf", &admin.csrf), ("key", value)],
            )
            .await;
        assert_eq!(res.status(), 422);
        let html = res.text().await.expect("list page");
        assert!(
            Page::parse(&html).has("#leaked-key-error") && html.contains(message),
            "{value}"
        );
        assert!(!html.contains(value), "the pasted value is not sent back");
    }
}

#[tokio::test]
async fn the_list_filters_searches_sorts_and_pages_without_gaps() {
    let admin = SignedInAdmin::new().await;
    for n in 0..60 {
        admin
            .app
            .key(admin.org, Some(&[keyward::domain::Scope::ReadOrgs]))
            .await;
        if n % 20 == 0 {
            admin.app.key(admin.org, None).await;
        }
    }
    let all: Vec<String> = sqlx::query_scalar("SELECT public_id FROM api_keys WHERE scoped")
        .fetch_all(&admin.app.pool)
        .await
        .expect("keys");
    for sort in ["created", "expires", "last_used"] {
        let mut seen = Vec::new();
        let mut path = format!("{}?tab=scoped&sort={sort}", admin.keys());
        for _ in 0..10 {
            let page = Page::parse(&admin.console.page(&path).await);
            seen.extend(page.texts("td > code"));
            let Some(next) = page.href("#next-page") else {
                break;
            };
            path = next;
        }
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), seen.len(), "{sort}: no key twice");
        let mut expected = all.clone();
        expected.sort();
        assert_eq!(sorted, expected, "{sort}: every scoped key once");
    }
    let unscoped = admin.console.page(&format!("{}?tab=unscoped", admin.keys())).await;
    assert_eq!(Page::parse(&unscoped).count(".key-link"), 3);
    let one = &all[7];
    let found = admin
        .console
        .page(&format!("{}?tab=scoped&q={}", admin.keys(), &one[..6]))
        .await;
    assert!(found.contains(one.as_str()));
    let revoked = admin
        .console
        .page(&format!("{}?tab=scoped&status=revoked", admin.keys()))
        .await;
    assert!(Page::parse(&revoked).has("#empty-tab"), "no revoked key yet");
}

#[tokio::test]
async fn every_page_of_the_flow_in_japanese_has_no_english_message() {
    let admin = SignedInAdmin::new().await;
    let res = admin
        .console
        .post("/language", &[("csrf", &admin.csrf), ("lang", "ja"), ("back", "/orgs")])
        .await;
    assert_eq!(res.status(), 303);
    let keys = admin.keys();
    let mut pages: Vec<(String, String)> = Vec::new();
    for path in [
        "/orgs".to_owned(),
        keys.clone(),
        format!("{keys}?tab=unscoped"),
        format!("{keys}/new"),
        format!("{keys}/new?type=scoped"),
        format!("{keys}/new?type=unscoped"),
    ] {
        pages.push((path.clone(), admin.console.page(&path).await));
    }
    let review = admin.review_key(SCOPED).await.text().await.expect("review");
    pages.push(("review".into(), review.clone()));
    let bad = admin
        .review_key(&[
            ("type", "scoped"),
            ("name", ""),
            ("expiry", "date"),
            ("expiry_date", "x"),
        ])
        .await;
    pages.push(("review with errors".into(), bad.text().await.expect("errors")));
    let form = create_form(&review);
    let created = admin
        .console
        .post(&keys, &pairs(&form))
        .await
        .text()
        .await
        .expect("show-once");
    let token = key_value(&created);
    pages.push(("show-once".into(), created));
    pages.push((
        "form used".into(),
        admin
            .console
            .post(&keys, &pairs(&form))
            .await
            .text()
            .await
            .expect("used"),
    ));
    let key_id: Uuid = sqlx::query_scalar("SELECT id FROM api_keys")
        .fetch_one(&admin.app.pool)
        .await
        .expect("key");
    directories_status(&admin.app, admin.org, &token).await;
    pages.push(("detail".into(), admin.console.page(&format!("{keys}/{key_id}")).await));
    pages.push((
        "revoke".into(),
        admin.console.page(&format!("{keys}/{key_id}/revoke")).await,
    ));
    let found = admin
        .console
        .post(&format!("{keys}/find"), &[("csrf", &admin.csrf), ("key", &token)])
        .await;
    pages.push(("found".into(), found.text().await.expect("found")));
    let not_found = admin
        .console
        .post(&format!("{keys}/find"), &[("csrf", &admin.csrf), ("key", "x")])
        .await;
    pages.push(("find error".into(), not_found.text().await.expect("find error")));
    admin
        .console
        .post(&format!("{keys}/{key_id}/revoke"), &[("csrf", &admin.csrf)])
        .await;
    directories_status(&admin.app, admin.org, &token).await;
    pages.push((
        "revoked list".into(),
        admin.console.page(&format!("{keys}?revoked=abc")).await,
    ));
    pages.push((
        "detail after revocation".into(),
        admin.console.page(&format!("{keys}/{key_id}")).await,
    ));
    pages.push((
        "not found".into(),
        admin.console.get("/o/nothing").await.text().await.expect("404"),
    ));
    let forbidden = admin.console.post(&format!("{keys}/review"), &[("csrf", "bad")]).await;
    pages.push(("forbidden".into(), forbidden.text().await.expect("403")));
    let stranger = Console::new(&admin.app);
    let login = stranger
        .request(reqwest::Method::GET, "/login")
        .header("Accept-Language", "ja,en;q=0.5")
        .send()
        .await
        .expect("login");
    pages.push(("sign-in".into(), login.text().await.expect("login page")));

    for (page, html) in &pages {
        assert_eq!(Page::parse(html).lang(), "ja", "{page} is Japanese");
        let messages = [english::layout(), english::scopes_and_endpoints()].concat();
        let english = english_in(&Page::parse(html).readable_text(), &messages);
        assert!(english.is_empty(), "{page} shows English messages: {english:?}");
    }
}
