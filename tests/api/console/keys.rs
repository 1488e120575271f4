//! Settings > API keys over HTTP: creating keys (every field's bad input answered beside it,
//! the review step, the show-once answer, the single-use form), the list, a key's detail, the
//! leaked-key finder and revocation, CSRF on each of their POSTs, other orgs' keys, and every
//! page of the flow in Japanese without an English message in it.

use reqwest::header::{CACHE_CONTROL, LOCATION};
use uuid::Uuid;

use crate::harness::console::{Console, directories_status, person};
use crate::harness::{TestApp, logs};

/// An admin of a fresh org, signed in; the org is named in Japanese so that no page shows an
/// English word that is not a message.
struct Admin {
    app: TestApp,
    org: Uuid,
    console: Console,
    csrf: String,
}

async fn admin() -> Admin {
    let app = TestApp::spawn().await;
    let org = app.org("アクメ株式会社").await;
    let user = person(&app, "yamada@example.com").await;
    app.member(org, user, "admin").await;
    let console = Console::signed_in(&app, "yamada@example.com").await;
    let csrf = console.csrf().await;
    Admin {
        app,
        org,
        console,
        csrf,
    }
}

impl Admin {
    fn keys(&self) -> String {
        format!("/o/{}/settings/api-keys", self.org)
    }

    /// The review step's answer for this form (csrf added).
    async fn review(&self, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut form = vec![("csrf", self.csrf.as_str())];
        form.extend_from_slice(fields);
        self.console.post(&format!("{}/review", self.keys()), &form).await
    }

    /// Reviews the form, then posts the review page's own form: the show-once answer.
    async fn create(&self, fields: &[(&str, &str)]) -> (reqwest::Response, Vec<(String, String)>) {
        let review = self.review(fields).await;
        assert_eq!(review.status(), 200, "the review step accepts {fields:?}");
        let html = review.text().await.expect("review page");
        let form = create_form(&html);
        let res = self.console.post(&self.keys(), &pairs(&form)).await;
        (res, form)
    }

    async fn key_count(&self) -> i64 {
        self.app.count("api_keys").await
    }
}

pub fn pairs(form: &[(String, String)]) -> Vec<(&str, &str)> {
    form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// Every hidden field of the review page's create form, in order (values as the page
/// escapes them: the tests' values need no escaping).
pub fn create_form(html: &str) -> Vec<(String, String)> {
    let start = html
        .find(r#"<form method="post" action="/o/"#)
        .expect("the create form");
    let end = start + html[start..].find("</form>").expect("form end");
    let marker = r#"<input type="hidden" name=""#;
    html[start..end]
        .match_indices(marker)
        .map(|(at, _)| {
            let rest = &html[start + at + marker.len()..];
            let (name, rest) = rest.split_once('"').expect("a name");
            let value = rest
                .strip_prefix(r#" value=""#)
                .and_then(|v| v.split_once('"'))
                .map(|(v, _)| v)
                .unwrap_or_default();
            (name.to_owned(), value.to_owned())
        })
        .collect()
}

/// The key value a show-once page shows.
fn key_value(html: &str) -> String {
    let marker = r#"<code id="key-value">"#;
    let start = html.find(marker).expect("a key value on the page") + marker.len();
    html[start..].chars().take_while(|&c| c != '<').collect()
}

const SCOPED: &[(&str, &str)] = &[
    ("type", "scoped"),
    ("name", "デプロイ"),
    ("expiry", "30"),
    ("scopes", "read:directories:admin"),
];

#[tokio::test]
async fn a_scoped_key_is_created_shown_once_works_and_is_revoked_at_once() {
    let admin = admin().await;
    let form = admin.console.page(&format!("{}/new?type=scoped", admin.keys())).await;
    assert!(
        form.contains(r#"id="expiry-30" value="30" checked"#),
        "30 days is chosen by default"
    );
    assert!(
        form.contains("/admin/v2/orgs/{orgId}/directories"),
        "each scope lists what it unlocks"
    );

    let (res, _) = admin.create(SCOPED).await;
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
    assert_eq!(directories_status(&admin.app, admin.org, &token).await, 200);

    let key_id: Uuid = sqlx::query_scalar("SELECT id FROM api_keys WHERE name = 'デプロイ'")
        .fetch_one(&admin.app.pool)
        .await
        .expect("the key row");
    let scopes: Vec<String> = sqlx::query_scalar("SELECT scope FROM api_key_scopes WHERE key_id = $1")
        .bind(key_id)
        .fetch_all(&admin.app.pool)
        .await
        .expect("scopes");
    assert_eq!(scopes, ["read:directories:admin"]);
    let list = admin.console.page(&admin.keys()).await;
    assert!(list.contains("デプロイ") && list.contains("read:directories:admin"));

    let revoke = format!("{}/{key_id}/revoke", admin.keys());
    assert!(admin.console.page(&revoke).await.contains("confirm-revoke"));
    let res = admin.console.post(&revoke, &[("csrf", &admin.csrf)]).await;
    assert_eq!(res.status(), 303);
    let back = res
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        directories_status(&admin.app, admin.org, &token).await,
        401,
        "refused before the answer arrived"
    );
    assert!(
        admin.console.page(&back).await.contains(r#"class="badge revoked""#),
        "the list shows it revoked"
    );

    let detail = admin.console.page(&format!("{}/{key_id}", admin.keys())).await;
    assert!(
        detail.contains("Created") && detail.contains("Revoked"),
        "its lifecycle"
    );
    for page in [list, detail, admin.console.page(&back).await] {
        assert!(
            !page.contains(&token),
            "the value is on no page but the show-once answer"
        );
    }
}

#[tokio::test]
async fn an_unscoped_key_carries_its_warning_through_every_step() {
    let admin = admin().await;
    let form = admin.console.page(&format!("{}/new?type=unscoped", admin.keys())).await;
    assert!(form.contains(r#"id="unscoped-warning""#));
    let review = admin
        .review(&[("type", "unscoped"), ("name", "全権"), ("expiry", "7")])
        .await;
    assert!(
        review
            .text()
            .await
            .expect("review")
            .contains(r#"id="unscoped-warning""#)
    );
    let (res, _) = admin
        .create(&[("type", "unscoped"), ("name", "全権"), ("expiry", "7")])
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
    let admin = admin().await;
    let (first, form) = admin.create(SCOPED).await;
    let token = key_value(&first.text().await.expect("show-once"));
    let again = admin.console.post(&admin.keys(), &pairs(&form)).await;
    assert_eq!(again.status(), 409);
    let html = again.text().await.expect("page");
    assert!(html.contains(r#"id="form-used""#));
    assert!(!html.contains("kw_") && !html.contains(&token), "no key is shown again");
    assert_eq!(admin.key_count().await, 1);
}

#[tokio::test]
async fn every_fields_bad_input_is_answered_beside_it_and_nothing_is_created() {
    let admin = admin().await;
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
                    html.contains(&format!(r#"id="{error}""#)),
                    "{fields:?}: {error} beside its field"
                );
                assert!(
                    html.contains(&format!(r#"aria-describedby="{error}""#)),
                    "{fields:?}: tied to its field"
                );
                let name = fields
                    .iter()
                    .find(|(k, _)| *k == "name")
                    .map(|(_, v)| *v)
                    .unwrap_or_default();
                assert!(
                    html.contains(&format!(r#"value="{name}""#)),
                    "the name is kept as typed"
                );
            }
        }
    }
    assert_eq!(admin.key_count().await, 0);
}

#[tokio::test]
async fn the_orgs_lifetime_policy_caps_the_console_and_its_presets() {
    let admin = admin().await;
    crate::admin_api::policies::lifetime_policy(&admin.app, admin.org, 30).await;
    let form = admin.console.page(&format!("{}/new?type=scoped", admin.keys())).await;
    assert!(
        form.contains(r#"id="expiry-30""#) && !form.contains(r#"id="expiry-90""#),
        "presets past the policy are not offered"
    );
    assert!(form.contains(r#"id="policy-note""#));
    let res = admin
        .review(&[
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
        .review(&[
            ("type", "scoped"),
            ("name", "長期"),
            ("expiry", "date"),
            ("expiry_date", &in_40),
            ("scopes", "read:orgs:admin"),
        ])
        .await;
    assert_eq!(res.status(), 422);
    assert_eq!(admin.key_count().await, 0);
}

/// The `max` of the form's date field: the last day a key may end on, in the viewer's zone.
fn date_max(form: &str) -> String {
    let start = form.find(r#"id="expiry_date""#).expect("the date field");
    let max = start + form[start..].find(r#"max=""#).expect("a max") + 5;
    form[max..].chars().take_while(|&c| c != '"').collect()
}

#[tokio::test]
async fn a_date_is_that_whole_day_in_the_viewers_time_zone_and_the_last_day_works_at_any_hour() {
    let admin = admin().await;
    sqlx::query("UPDATE users SET zoneinfo = 'Asia/Tokyo'")
        .execute(&admin.app.pool)
        .await
        .expect("zone");
    let tokyo = chrono_tz::Asia::Tokyo;
    let day = (chrono::Utc::now().with_timezone(&tokyo) + chrono::Duration::days(20)).date_naive();
    let form = admin.console.page(&format!("{}/new?type=scoped", admin.keys())).await;
    assert!(form.contains("Asia/Tokyo"), "the form names the zone its dates are in");
    let (res, _) = admin
        .create(&[
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
        .create(&[
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
        res.text().await.expect("page").contains(r#"id="expiry-clamped""#),
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
        .review(&[
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
    let admin = admin().await;
    let (created, _) = admin.create(SCOPED).await;
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
        let mut genuine = fields.clone();
        genuine.push(("csrf", &admin.csrf));
        let cross = admin
            .console
            .request(reqwest::Method::POST, path)
            .header("Origin", "https://evil.example")
            .form(&genuine)
            .send()
            .await
            .expect("request");
        assert_eq!(cross.status(), 403, "{path} from another site");
    }
    assert_eq!(admin.key_count().await, 1);
    assert_eq!(
        directories_status(&admin.app, admin.org, &token).await,
        200,
        "the key was not revoked"
    );
}

#[tokio::test]
async fn another_orgs_keys_and_pages_are_not_found() {
    let admin = admin().await;
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
    let admin = admin().await;
    let (created, _) = admin
        .create(&[("type", "unscoped"), ("name", "漏洩"), ("expiry", "7")])
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
        html.contains("漏洩") && html.contains(r#"id="revoke""#),
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
            html.contains(r#"id="leaked-key-error""#) && html.contains(message),
            "{value}"
        );
        assert!(!html.contains(value), "the pasted value is not sent back");
    }
}

#[tokio::test]
async fn the_list_filters_searches_sorts_and_pages_without_gaps() {
    let admin = admin().await;
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
            let html = admin.console.page(&path).await;
            seen.extend(html.match_indices("<td><code>").map(|(at, m)| {
                html[at + m.len()..]
                    .chars()
                    .take_while(|&c| c != '<')
                    .collect::<String>()
            }));
            let Some(at) = html.find(r#"id="next-page" href=""#) else {
                break;
            };
            let rest = &html[at + r#"id="next-page" href=""#.len()..];
            path = rest
                .chars()
                .take_while(|&c| c != '"')
                .collect::<String>()
                .replace("&#38;", "&");
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
    assert_eq!(unscoped.matches(r#"class="key-link""#).count(), 3);
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
    assert!(revoked.contains(r#"id="empty-tab""#), "no revoked key yet");
}

/// Every text of `html` a person reads: text between tags and the attributes read aloud or
/// shown (labels, the copy button's words).
fn readable_text(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    let mut tag = String::new();
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                tag.clear();
            }
            '>' => {
                in_tag = false;
                for attribute in [
                    "aria-label=\"",
                    "data-label=\"",
                    "data-done=\"",
                    "title=\"",
                    "placeholder=\"",
                ] {
                    if let Some(at) = tag.find(attribute) {
                        text.push('\n');
                        text.extend(tag[at + attribute.len()..].chars().take_while(|&c| c != '"'));
                    }
                }
                text.push('\n');
            }
            c if in_tag => tag.push(c),
            c => text.push(c),
        }
    }
    text
}

/// The English messages (those that differ from their Japanese) found in a Japanese page.
fn english_in(text: &str) -> Vec<String> {
    use keyward::console::catalog::{EN, JA, Lang};
    let mut english: Vec<(String, String)> = EN
        .all()
        .into_iter()
        .zip(JA.all())
        .filter(|((_, en), (_, ja))| en != ja && !en.contains('%'))
        .map(|((name, en), _)| (name.to_owned(), en.to_owned()))
        .collect();
    for &scope in keyward::domain::Scope::ALL {
        english.push((scope.name().to_owned(), Lang::En.scope_description(scope).to_owned()));
    }
    for endpoint in keyward::api::endpoints::ENDPOINTS {
        english.push((endpoint.path.to_owned(), endpoint.summary.to_owned()));
    }
    let mut found = Vec::new();
    for (name, message) in english {
        // A message with placeholders: each fixed part of two words or more (a lone word such as
        // "from" is also a technical token: a query parameter's name).
        let whole = !message.contains('{');
        let parts = message.split(['{', '}']).step_by(2).map(str::trim);
        for part in parts.filter(|p| whole || p.contains(' ')) {
            if text.contains(part) {
                found.push(format!("{name}: {part:?}"));
            }
        }
    }
    found
}

#[tokio::test]
async fn every_page_of_the_flow_in_japanese_has_no_english_message() {
    let admin = admin().await;
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
    let review = admin.review(SCOPED).await.text().await.expect("review");
    pages.push(("review".into(), review.clone()));
    let bad = admin
        .review(&[
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
        assert!(html.contains(r#"<html lang="ja">"#), "{page} is Japanese");
        let english = english_in(&readable_text(html));
        assert!(english.is_empty(), "{page} shows English messages: {english:?}");
    }
}
