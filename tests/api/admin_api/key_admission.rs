//! The API-key middleware and the first key-guarded endpoints: what each kind of presented key
//! gets, and that the rules hold when measured from outside (metrics, a database behind a
//! proxy the test cuts).

use chrono::Duration;
use keyward::domain::Scope;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::db_proxy::{Mode, app_behind_db_proxy};
use crate::harness::{Answer, Redactions, TestApp, TestKey, json_of};

const ARGON2_STARTED: &str = "keyward_argon2_verifications_started_total";

fn auth(outcome: &str) -> String {
    format!("keyward_api_auth_total{{outcome=\"{outcome}\"}}")
}

/// Changes the last character of a valid token, so its checksum no longer matches.
fn with_bad_checksum(token: &str) -> String {
    let mut chars: Vec<char> = token.chars().collect();
    let last = chars.len() - 1;
    chars[last] = if chars[last] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

/// A well-formed token with a valid checksum for `public_id` and a secret nobody issued.
fn forged(public_id: &str) -> String {
    let body = format!("kw_{public_id}_{}", "Z".repeat(32));
    format!("{body}{}", keyward::domain::token::checksum(&body))
}

fn random_public_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_owned()
}

#[tokio::test]
async fn every_kind_of_presented_key_gets_its_answer() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let good = app.key(org, Some(&[Scope::ReadOrgs])).await;
    // Expired by the time it is presented: the database stamps creation, so it lives briefly.
    let expired = app.key_with(org, None, Duration::seconds(1)).await;
    let expired_by = tokio::time::Instant::now() + std::time::Duration::from_millis(1100);
    let revoked = app.key(org, None).await;
    let uncached = app.key(org, None).await;
    keyward::service::keys::revoke(
        &app.pool,
        None,
        org.into(),
        revoked.id.into(),
        keyward::domain::actor::Actor::System,
        &Default::default(),
    )
    .await
    .expect("revoke");

    tokio::time::sleep_until(expired_by).await;

    let path = "/admin/v1/orgs";
    let unauthorized_cases: [(&str, Option<String>); 8] = [
        ("no header", None),
        ("another scheme", Some(format!("Basic {}", good.token))),
        ("malformed", Some("Bearer not-a-key".into())),
        (
            "bad checksum",
            Some(format!("Bearer {}", with_bad_checksum(&good.token))),
        ),
        ("unknown id", Some(format!("Bearer {}", forged(&random_public_id())))),
        (
            "wrong secret on a miss",
            Some(format!("Bearer {}", forged(uncached.public_id()))),
        ),
        ("expired on a miss", Some(format!("Bearer {}", expired.token))),
        ("revoked on a miss", Some(format!("Bearer {}", revoked.token))),
    ];
    for (case, header) in unauthorized_cases {
        let mut request = app.client.get(format!("{}{path}", app.address));
        if let Some(header) = header {
            request = request.header("Authorization", header);
        }
        let res = request.send().await.expect("request");
        assert_eq!(res.status(), 401, "{case}");
        assert_eq!(
            res.headers()["content-type"],
            "application/json;charset=UTF-8",
            "{case}"
        );
        let body: Value = res.json().await.expect("a JSON body");
        assert_eq!(body["code"], 401, "{case}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(
            !message.contains("revoked") && !message.contains("expired"),
            "{case}: nothing disclosed before proof: {message}"
        );
    }

    let ok = app.api(Method::GET, path, &good.token).await;
    assert_eq!(ok.status(), 200);
    let body = json_of(ok).await;
    assert_eq!(body["data"][0]["id"], org.to_string());
    assert_eq!(body["data"][0]["type"], "orgs");
    assert_eq!(body["data"][0]["attributes"]["name"], "Acme");

    let argon2_before = app.metric(ARGON2_STARTED).await;
    let wrong_against_cache = app.api(Method::GET, path, &forged(good.public_id())).await;
    assert_eq!(
        wrong_against_cache.status(),
        401,
        "a wrong secret against a cached proof"
    );
    assert_eq!(app.metric(ARGON2_STARTED).await, argon2_before, "and no argon2 for it");
    assert!(app.metric(&auth("wrong_secret")).await >= 2.0);
    assert!(app.metric(&auth("malformed")).await >= 4.0);
}

#[tokio::test]
async fn a_key_that_expires_while_cached_is_refused_and_told_so() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let short = app.key_with(org, None, Duration::seconds(2)).await;
    assert_eq!(app.api(Method::GET, "/admin/v1/key", &short.token).await.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let res = app.api(Method::GET, "/admin/v1/key", &short.token).await;
    assert_eq!(res.status(), 401);
    assert!(
        json_of(res).await["message"]
            .as_str()
            .unwrap_or_default()
            .contains("expired")
    );
    assert_eq!(app.metric(&auth("expired")).await, 1.0);
}

#[tokio::test]
async fn revoking_through_the_api_refuses_the_key_on_the_very_next_request() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let admin = app.key(org, Some(&[Scope::DeleteKeys, Scope::ReadKeys])).await;
    let victim = app.key(org, None).await;
    assert_eq!(app.api(Method::GET, "/admin/v1/key", &victim.token).await.status(), 200);

    let revoke = format!("/admin/api-access/v1/orgs/{org}/api-keys/revoke/{}", victim.id);
    assert_eq!(app.api(Method::PATCH, &revoke, &admin.token).await.status(), 204);
    let next = app.api(Method::GET, "/admin/v1/key", &victim.token).await;
    assert_eq!(next.status(), 401);
    assert!(
        json_of(next).await["message"]
            .as_str()
            .unwrap_or_default()
            .contains("revoked"),
        "the proven caller is told why"
    );
    assert_eq!(
        app.api(Method::PATCH, &revoke, &admin.token).await.status(),
        204,
        "revoking twice is a quiet success"
    );

    let events: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = 'api_key.revoked' AND target_id = $1")
            .bind(victim.id.to_string())
            .fetch_one(&app.pool)
            .await
            .expect("audit");
    assert_eq!(events, 1, "one revocation, one event");
    let unknown = format!(
        "/admin/api-access/v1/orgs/{org}/api-keys/revoke/{}",
        uuid::Uuid::new_v4()
    );
    assert_eq!(app.api(Method::PATCH, &unknown, &admin.token).await.status(), 404);
}

#[tokio::test]
async fn another_org_and_an_unknown_org_get_the_same_404() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let other = app.org("Globex").await;
    let key = app.key(org, None).await;
    let mut answers = Vec::new();
    for target in [
        other.to_string(),
        uuid::Uuid::new_v4().to_string(),
        "not-an-id".to_owned(),
    ] {
        for path in [
            format!("/admin/v1/orgs/{target}"),
            format!("/admin/api-access/v1/orgs/{target}/api-keys"),
        ] {
            let res = app.api(Method::GET, &path, &key.token).await;
            let status = res.status().as_u16();
            let mut body = json_of(res).await;
            body["errors"][0]["id"] = Value::Null;
            answers.push((status, body));
        }
    }
    assert!(answers.iter().all(|a| a == &answers[0]), "{answers:#?}");
    assert_eq!(answers[0].0, 404);
    assert_eq!(answers[0].1["errors"][0]["code"], "ADMIN-404-2");
    assert_eq!(app.metric(&auth("foreign_org")).await, 6.0);
}

#[tokio::test]
async fn a_scoped_key_outside_its_scopes_gets_403_naming_the_scope() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let key = app.key(org, Some(&[Scope::ReadOrgs])).await;
    let res = app
        .api(
            Method::GET,
            &format!("/admin/api-access/v1/orgs/{org}/api-keys"),
            &key.token,
        )
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(
        res.headers()["www-authenticate"],
        r#"Bearer error="insufficient_scope", scope="read:keys:admin""#
    );
    assert_eq!(
        app.api(Method::GET, &format!("/admin/v1/orgs/{org}"), &key.token)
            .await
            .status(),
        200
    );
    assert_eq!(
        app.api(Method::GET, "/admin/v1/key", &key.token).await.status(),
        200,
        "GET /admin/v1/key needs no scope"
    );
    assert_eq!(app.metric(&auth("insufficient_scope")).await, 1.0);
}

#[tokio::test]
async fn an_unscoped_key_may_call_every_endpoint() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let key = app.key(org, None).await;
    let other = app.key(org, Some(&[Scope::ReadOrgs])).await;
    for (method, path, status) in [
        (Method::GET, "/admin/v1/key".to_owned(), 200),
        (Method::GET, "/admin/v1/orgs".to_owned(), 200),
        (Method::GET, format!("/admin/v1/orgs/{org}"), 200),
        (Method::GET, format!("/admin/api-access/v1/orgs/{org}/api-keys"), 200),
        (
            Method::PATCH,
            format!("/admin/api-access/v1/orgs/{org}/api-keys/revoke/{}", other.id),
            204,
        ),
    ] {
        assert_eq!(app.api(method, &path, &key.token).await.status(), status, "{path}");
    }
}

#[tokio::test]
async fn the_key_endpoint_and_the_keys_list_describe_keys_without_their_secrets() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let key = app.key(org, Some(&[Scope::ReadKeys, Scope::ReadOrgs])).await;
    for _ in 0..3 {
        app.key(org, None).await;
    }
    let me = json_of(app.api(Method::GET, "/admin/v1/key", &key.token).await).await;
    assert_eq!(me["data"]["id"], key.id.to_string());
    assert_eq!(me["data"]["orgId"], org.to_string());
    assert_eq!(me["data"]["scoped"], true);
    assert_eq!(
        me["data"]["scopes"],
        serde_json::json!(["read:keys:admin", "read:orgs:admin"])
    );

    let mut seen = Vec::new();
    let mut url = format!("{}/admin/api-access/v1/orgs/{org}/api-keys?limit=3", app.address);
    for _ in 0..5 {
        let path = url.strip_prefix(&app.address).expect("links.next is on this server");
        let page = json_of(app.api(Method::GET, path, &key.token).await).await;
        for item in page["data"].as_array().expect("data") {
            seen.push(item["id"].as_str().expect("id").to_owned());
            assert!(item.get("token").is_none());
        }
        match page["links"]["next"].as_str() {
            Some(next) => url = next.to_owned(),
            None => break,
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 4, "every key exactly once across pages");
    let bad = app
        .api(
            Method::GET,
            &format!("/admin/api-access/v1/orgs/{org}/api-keys?cursor=zz"),
            &key.token,
        )
        .await;
    assert_eq!(bad.status(), 400);
    assert_eq!(json_of(bad).await["errors"][0]["code"], "ADMIN-400-1");
}

#[tokio::test]
async fn last_use_is_recorded_with_time_and_address() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let key = app.key(org, None).await;
    for _ in 0..5 {
        assert_eq!(app.api(Method::GET, "/admin/v1/key", &key.token).await.status(), 200);
    }
    let mut recorded = None;
    for _ in 0..50 {
        let row: (Option<chrono::DateTime<chrono::Utc>>, Option<String>) =
            sqlx::query_as("SELECT last_used_at, host(last_used_ip) FROM api_keys WHERE id = $1")
                .bind(key.id)
                .fetch_one(&app.pool)
                .await
                .expect("row");
        if row.0.is_some() {
            recorded = Some(row);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (at, ip) = recorded.expect("last use recorded within 5 s");
    assert!(at.is_some());
    assert_eq!(ip.as_deref(), Some("127.0.0.1"));
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_client_is_recorded_and_otherwise_the_peer() {
    let trusted: ipnet::IpNet = "127.0.0.1/32".parse().expect("cidr");
    let app = TestApp::spawn_with(crate::harness::Options {
        trusted_proxies: vec![trusted],
        ..Default::default()
    })
    .await;
    let org = app.org("Acme").await;
    let key = app.key(org, None).await;
    let res = app
        .client
        .get(format!("{}/admin/v1/key", app.address))
        .bearer_auth(&key.token)
        .header("X-Forwarded-For", "198.51.100.23, 127.0.0.1")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    assert_eq!(recorded_ip(&app, key.id).await, "198.51.100.23");

    let direct = TestApp::spawn().await;
    let org = direct.org("Acme").await;
    let key = direct.key(org, None).await;
    let res = direct
        .client
        .get(format!("{}/admin/v1/key", direct.address))
        .bearer_auth(&key.token)
        .header("X-Forwarded-For", "198.51.100.23")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    assert_eq!(
        recorded_ip(&direct, key.id).await,
        "127.0.0.1",
        "an untrusted peer's header is ignored"
    );
}

/// The last-used address recorded for the key, waiting up to 5 s for the background write.
async fn recorded_ip(app: &TestApp, key: uuid::Uuid) -> String {
    for _ in 0..50 {
        let ip: Option<String> = sqlx::query_scalar("SELECT host(last_used_ip) FROM api_keys WHERE id = $1")
            .bind(key)
            .fetch_one(&app.pool)
            .await
            .expect("row");
        if let Some(ip) = ip {
            return ip;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no last use recorded within 5 s");
}

#[tokio::test]
async fn a_revoked_key_still_presented_shows_up_in_the_audit_log() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let key = app.key(org, None).await;
    keyward::service::keys::revoke(
        &app.pool,
        None,
        org.into(),
        key.id.into(),
        keyward::domain::actor::Actor::System,
        &Default::default(),
    )
    .await
    .expect("revoke");
    for _ in 0..5 {
        assert_eq!(app.api(Method::GET, "/admin/v1/key", &key.token).await.status(), 401);
    }
    let mut events = 0;
    for _ in 0..50 {
        events = sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM audit_events WHERE action = 'api_key.rejected_use' AND target_id = $1",
        )
        .bind(key.id.to_string())
        .fetch_one(&app.pool)
        .await
        .expect("count");
        if events > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(events, 1, "recorded, and throttled to one event a minute");
}

#[tokio::test]
async fn with_the_database_cut_bad_tokens_are_refused_without_it_and_unknown_keys_fail_closed() {
    let (proxy, app) = app_behind_db_proxy().await;
    let org = app.org("Acme").await;
    let key = app.key(org, None).await;
    proxy.set(Mode::Cut);
    let argon2_before = app.metric(ARGON2_STARTED).await;

    for token in ["not-a-key".to_owned(), with_bad_checksum(&key.token)] {
        let res = app.api(Method::GET, "/admin/v1/key", &token).await;
        assert_eq!(res.status(), 401, "{token}: refused with no database");
    }
    let unknown = app
        .api(Method::GET, "/admin/v1/key", &forged(&random_public_id()))
        .await;
    assert_eq!(
        unknown.status(),
        503,
        "a well-formed key cannot be checked: fail closed"
    );
    assert!(unknown.headers().contains_key("retry-after"));
    assert_eq!(
        app.metric(ARGON2_STARTED).await,
        argon2_before,
        "no argon2 for any of it"
    );
    proxy.set(Mode::Open);
}

#[tokio::test]
async fn a_hundred_simultaneous_first_requests_cost_one_argon2_verification() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let key = app.key(org, None).await;
    let before = app.metric(ARGON2_STARTED).await;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(100));
    let mut requests = Vec::new();
    for _ in 0..100 {
        let (barrier, client, url, token) = (
            barrier.clone(),
            reqwest::Client::new(),
            format!("{}/admin/v1/key", app.address),
            key.token.clone(),
        );
        requests.push(tokio::spawn(async move {
            barrier.wait().await;
            client
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .expect("request")
                .status()
                .as_u16()
        }));
    }
    for request in requests {
        assert_eq!(request.await.expect("task"), 200);
    }
    assert_eq!(app.metric(ARGON2_STARTED).await - before, 1.0);
    assert_eq!(
        app.metric("keyward_argon2_pool_in_flight").await,
        0.0,
        "the pool is idle again"
    );
    assert_eq!(app.metric("keyward_argon2_pool_waiting").await, 0.0);
}

#[tokio::test]
async fn floods_are_throttled_and_a_cached_good_key_elsewhere_keeps_working() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let good = app.key(org, None).await;
    let target = app.key(org, None).await;
    assert_eq!(app.api(Method::GET, "/admin/v1/key", &good.token).await.status(), 200);

    let flooder = reqwest::Client::builder()
        .local_address("127.0.0.2".parse::<std::net::IpAddr>().expect("ip"))
        .build()
        .expect("client");
    let url = format!("{}/admin/v1/key", app.address);
    let mut throttled = 0;
    let mut argon2_after_throttling = None;
    for i in 0..120 {
        let token = if i % 2 == 0 {
            forged(target.public_id())
        } else {
            forged(&random_public_id())
        };
        let res = flooder.get(&url).bearer_auth(token).send().await.expect("flood");
        if res.status() == 429 {
            throttled += 1;
            assert!(res.headers().contains_key("retry-after"));
            if argon2_after_throttling.is_none() {
                argon2_after_throttling = Some(app.metric(ARGON2_STARTED).await);
            }
        }
        if i % 10 == 0 {
            assert_eq!(
                app.api(Method::GET, "/admin/v1/key", &good.token).await.status(),
                200,
                "the good key is never throttled"
            );
        }
    }
    assert!(throttled > 50, "the flood was throttled ({throttled} of 120)");
    let settled = argon2_after_throttling.expect("throttled at some point");
    assert_eq!(
        app.metric(ARGON2_STARTED).await,
        settled,
        "once throttled, the flood burns no more argon2"
    );
    assert!(app.metric(&auth("throttled")).await >= 50.0);
}

#[tokio::test]
async fn a_saturated_argon2_pool_answers_503_with_retry_after() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let mut keys: Vec<TestKey> = Vec::new();
    for _ in 0..40 {
        keys.push(app.key(org, None).await);
    }
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(keys.len()));
    let mut requests = Vec::new();
    for key in keys {
        let (barrier, url) = (barrier.clone(), format!("{}/admin/v1/key", app.address));
        requests.push(tokio::spawn(async move {
            barrier.wait().await;
            let res = reqwest::Client::new()
                .get(url)
                .bearer_auth(key.token)
                .send()
                .await
                .expect("request");
            (res.status().as_u16(), res.headers().contains_key("retry-after"))
        }));
    }
    let mut unavailable = 0;
    for request in requests {
        let (status, retry_after) = request.await.expect("task");
        assert!(status == 200 || status == 503, "{status}");
        if status == 503 {
            unavailable += 1;
            assert!(retry_after);
        }
    }
    assert!(
        unavailable > 0,
        "the excess beyond the pool and its queue is refused, not queued"
    );
    assert!(app.metric(&auth("unavailable")).await >= f64::from(unavailable));
}

#[tokio::test]
async fn every_admin_api_answer_is_no_store_successes_included() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let admin = app.key(org, None).await;
    let victim = app.key(org, None).await;
    let calls = [
        (Method::GET, "/admin/v1/key".to_owned(), 200),
        (Method::GET, "/admin/v1/orgs".to_owned(), 200),
        (Method::GET, format!("/admin/api-access/v1/orgs/{org}/api-keys"), 200),
        (
            Method::PATCH,
            format!("/admin/api-access/v1/orgs/{org}/api-keys/revoke/{}", victim.id),
            204,
        ),
        (Method::GET, "/users/nothing-here".to_owned(), 404),
    ];
    for (method, path, status) in calls {
        let res = app.api(method, &path, &admin.token).await;
        assert_eq!(res.status(), status, "{path}");
        assert_eq!(
            res.headers().get("cache-control").map(|v| v.as_bytes()),
            Some(&b"no-store"[..]),
            "{path}"
        );
    }
}

#[tokio::test]
async fn an_expiry_outside_the_database_window_is_a_typed_error_and_writes_nothing() {
    use keyward::domain::KeyScopes;
    use keyward::domain::api_key::{AskedExpiry, ExpiryError, KeyName};
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let argon2 = keyward::auth::argon2id::Argon2Pool::new(2);
    let now = chrono::Utc::now();
    for expiry in [
        AskedExpiry::InDays(400),
        AskedExpiry::At(now + Duration::days(366)),
        AskedExpiry::At(now - Duration::seconds(1)),
    ] {
        let request = keyward::service::keys::KeyRequest {
            org_id: org.into(),
            name: KeyName::parse("too long").expect("name"),
            scopes: KeyScopes::Unscoped,
            expiry,
            created_by: keyward::domain::actor::Actor::System,
            responsible_user_id: None,
            origin: Default::default(),
        };
        let refused = keyward::service::keys::create(&app.pool, &argon2, &request).await;
        assert!(
            matches!(
                refused,
                Err(keyward::service::keys::KeyError::Expiry(
                    ExpiryError::TooFar | ExpiryError::NotInFuture
                ))
            ),
            "{expiry:?}: {:?}",
            refused.map(|created| created.id)
        );
    }
    let written: (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM api_keys), (SELECT count(*) FROM audit_events WHERE action = 'api_key.created')",
    )
    .fetch_one(&app.pool)
    .await
    .expect("count");
    assert_eq!(written, (0, 0));
}

#[tokio::test]
async fn a_revocation_through_the_api_records_the_callers_user_agent() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let admin = app.key(org, Some(&[Scope::DeleteKeys])).await;
    let victim = app.key(org, None).await;
    let res = app
        .client
        .patch(format!(
            "{}/admin/api-access/v1/orgs/{org}/api-keys/revoke/{}",
            app.address, victim.id
        ))
        .bearer_auth(&admin.token)
        .header("User-Agent", "keyward-test/1.0")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 204);
    let (agent, ip): (Option<String>, Option<String>) = sqlx::query_as(
        "SELECT user_agent, host(ip) FROM audit_events WHERE action = 'api_key.revoked' AND target_id = $1",
    )
    .bind(victim.id.to_string())
    .fetch_one(&app.pool)
    .await
    .expect("the revocation's event");
    assert_eq!(agent.as_deref(), Some("keyward-test/1.0"));
    assert_eq!(ip.as_deref(), Some("127.0.0.1"));
}

// The keys endpoints: list and count with their filters, create with its rules, revoke.

fn keys_path(org: uuid::Uuid) -> String {
    format!("/admin/api-access/v1/orgs/{org}/api-keys")
}

/// A person who administers `org`.
async fn admin_person(app: &TestApp, org: uuid::Uuid, name: &str, email: &str) -> uuid::Uuid {
    let id = uuid::Uuid::new_v4();
    sqlx::query("INSERT INTO users (id, email, display_name) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(email)
        .bind(name)
        .execute(&app.pool)
        .await
        .expect("user");
    sqlx::query("INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, 'admin')")
        .bind(org)
        .bind(id)
        .execute(&app.pool)
        .await
        .expect("membership");
    id
}

/// A key `person` created in the console, living `expires_in`.
async fn persons_key(
    app: &TestApp,
    org: uuid::Uuid,
    person: uuid::Uuid,
    scopes: Option<&[Scope]>,
    expires_in: Duration,
) -> TestKey {
    use keyward::domain::KeyScopes;
    use keyward::domain::api_key::{AskedExpiry, KeyName};
    let request = keyward::service::keys::KeyRequest {
        org_id: org.into(),
        name: KeyName::parse("console key").expect("name"),
        scopes: scopes.map_or(KeyScopes::Unscoped, |s| KeyScopes::Scoped(s.to_vec())),
        expiry: AskedExpiry::At(chrono::Utc::now() + expires_in),
        created_by: keyward::domain::actor::Actor::User(person),
        responsible_user_id: Some(person.into()),
        origin: Default::default(),
    };
    let argon2 = keyward::auth::argon2id::Argon2Pool::new(2);
    let created = keyward::service::keys::create(&app.pool, &argon2, &request)
        .await
        .expect("key");
    TestKey {
        id: created.id.uuid(),
        token: created.token.expose_token(),
    }
}

/// A key of `org` named `name`, made by the system.
async fn named_key(app: &TestApp, org: uuid::Uuid, name: &str, expires_in: Duration) -> TestKey {
    use keyward::domain::KeyScopes;
    use keyward::domain::api_key::{AskedExpiry, KeyName};
    let request = keyward::service::keys::KeyRequest {
        org_id: org.into(),
        name: KeyName::parse(name).expect("name"),
        scopes: KeyScopes::Scoped(vec![Scope::ReadOrgs]),
        expiry: AskedExpiry::At(chrono::Utc::now() + expires_in),
        created_by: keyward::domain::actor::Actor::System,
        responsible_user_id: None,
        origin: Default::default(),
    };
    let argon2 = keyward::auth::argon2id::Argon2Pool::new(2);
    let created = keyward::service::keys::create(&app.pool, &argon2, &request)
        .await
        .expect("key");
    TestKey {
        id: created.id.uuid(),
        token: created.token.expose_token(),
    }
}

async fn post_json(app: &TestApp, path: &str, token: &str, body: &Value) -> Answer {
    app.call(Method::POST, path, token, Some(body)).await
}

/// The field names of a JSON object, sorted.
fn fields(value: &Value) -> Vec<String> {
    let mut names: Vec<String> = value
        .as_object()
        .unwrap_or_else(|| panic!("an object: {value}"))
        .keys()
        .cloned()
        .collect();
    names.sort();
    names
}

fn names(list: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = list.iter().map(|s| (*s).to_owned()).collect();
    names.sort();
    names
}

const KEY_FIELDS: &[&str] = &[
    "id",
    "publicId",
    "label",
    "createdAt",
    "expiresAt",
    "lastActiveAt",
    "lastActiveIp",
    "revokedAt",
    "status",
    "orgId",
    "createdBy",
    "scoped",
    "scopes",
];

fn is_rfc3339(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok())
}

/// Asserts the documented errors shape with `status` and `code`; returns the detail.
async fn assert_error(res: Answer, status: u16, code: &str) -> String {
    assert_eq!(res.status(), status);
    assert_eq!(res.headers()["content-type"], "application/json;charset=UTF-8");
    let body = json_of(res).await;
    let errors = body["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(
        fields(&errors[0]),
        names(&["id", "status", "code", "title", "detail"]),
        "{body}"
    );
    assert_eq!(errors[0]["status"], status.to_string());
    assert_eq!(errors[0]["code"], code, "{body}");
    errors[0]["detail"].as_str().expect("detail").to_owned()
}

#[tokio::test]
async fn the_keys_list_answers_the_documented_shape() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let ada = admin_person(&app, org, "Ada Lovelace", "ada@example.com").await;
    let reader = persons_key(&app, org, ada, Some(&[Scope::ReadKeys]), Duration::days(30)).await;

    let res = app.api(Method::GET, &keys_path(org), &reader.token).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json;charset=UTF-8");
    let page = json_of(res).await;
    assert_eq!(fields(&page), names(&["data", "links"]));
    assert_eq!(fields(&page["links"]), names(&["self", "prev", "next"]));
    assert_eq!(
        page["links"]["self"],
        format!("{}{}?limit=50", app.address, keys_path(org))
    );
    assert_eq!(page["links"]["prev"], Value::Null);
    assert_eq!(page["links"]["next"], Value::Null, "one page only");
    let item = &page["data"][0];
    assert_eq!(fields(item), names(KEY_FIELDS));
    assert_eq!(item["id"], reader.id.to_string());
    assert_eq!(item["publicId"], reader.public_id());
    assert_eq!(item["label"], "console key");
    assert!(is_rfc3339(&item["createdAt"]) && is_rfc3339(&item["expiresAt"]));
    assert!(item["lastActiveAt"].is_null() || is_rfc3339(&item["lastActiveAt"]));
    assert_eq!(item["revokedAt"], Value::Null);
    assert_eq!(item["status"], "active");
    assert_eq!(item["orgId"], org.to_string());
    assert_eq!(item["scoped"], true);
    assert_eq!(item["scopes"], serde_json::json!(["read:keys:admin"]));
    assert_eq!(
        item["createdBy"],
        serde_json::json!({ "id": ada.to_string(), "name": "Ada Lovelace", "email": "ada@example.com", "type": "user" })
    );
    assert!(
        !page.to_string().contains(&reader.token[reader.token.len() - 12..]),
        "no part of the secret"
    );
}

#[tokio::test]
async fn the_keys_list_filters_by_text_status_and_expiry_and_its_next_link_keeps_the_filters() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let reader = app.key(org, Some(&[Scope::ReadKeys])).await;
    let soon = named_key(&app, org, "Deploy bot 1", Duration::days(2)).await;
    let later = named_key(&app, org, "deploy BOT 2", Duration::days(60)).await;
    let revoked = named_key(&app, org, "deploy bot 3", Duration::days(60)).await;
    let percent = named_key(&app, org, "100% coverage_report", Duration::days(60)).await;
    let _other = named_key(&app, org, "beer fund", Duration::days(60)).await;
    keyward::service::keys::revoke(
        &app.pool,
        None,
        org.into(),
        revoked.id.into(),
        keyward::domain::actor::Actor::System,
        &Default::default(),
    )
    .await
    .expect("revoke");

    let ids = |page: &Value| -> Vec<String> {
        let mut ids: Vec<String> = page["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|k| k["id"].as_str().expect("id").to_owned())
            .collect();
        ids.sort();
        ids
    };
    let expect = |keys: &[&TestKey]| -> Vec<String> {
        let mut ids: Vec<String> = keys.iter().map(|k| k.id.to_string()).collect();
        ids.sort();
        ids
    };
    let get = |query: String| {
        let path = format!("{}?{query}", keys_path(org));
        let token = reader.token.clone();
        let app = &app;
        async move { json_of(app.api(Method::GET, &path, &token).await).await }
    };

    assert_eq!(
        ids(&get("q=DEPLOY%20bot".into()).await),
        expect(&[&soon, &later, &revoked]),
        "case-insensitive over the name"
    );
    let public_id = later.public_id().to_lowercase();
    assert_eq!(
        ids(&get(format!("q={}", &public_id[2..9])).await),
        expect(&[&later]),
        "and over the public id"
    );
    assert_eq!(ids(&get("q=%25".into()).await), expect(&[&percent]), "% matches itself");
    assert_eq!(ids(&get("q=e_r".into()).await), expect(&[&percent]), "_ matches itself");
    assert_eq!(ids(&get("q=deploy&status=revoked".into()).await), expect(&[&revoked]));
    assert_eq!(
        ids(&get("q=deploy&status=active,revoked".into()).await),
        ids(&get("q=deploy&status=active&status=revoked".into()).await),
        "comma-joined and repeated are the same"
    );
    assert_eq!(
        ids(&get("q=deploy&status=ACTIVE".into()).await),
        expect(&[&soon, &later])
    );
    let in_a_week = (chrono::Utc::now() + Duration::days(7)).to_rfc3339();
    let in_a_week = url::form_urlencoded::byte_serialize(in_a_week.as_bytes()).collect::<String>();
    assert_eq!(
        ids(&get(format!("q=deploy&expiresBefore={in_a_week}")).await),
        expect(&[&soon])
    );
    assert_eq!(
        ids(&get(format!("q=deploy&expiresAfter={in_a_week}&status=active")).await),
        expect(&[&later])
    );

    // Walk the filtered list one key a page: the next link keeps the filters.
    let mut url = format!(
        "{}{}?q=deploy&status=active,revoked&limit=1",
        app.address,
        keys_path(org)
    );
    let mut walked = Vec::new();
    for _ in 0..10 {
        let path = url.strip_prefix(&app.address).expect("links.next is on this server");
        let page = json_of(app.api(Method::GET, path, &reader.token).await).await;
        walked.extend(ids(&page));
        match page["links"]["next"].as_str() {
            Some(next) => {
                assert!(
                    next.contains("q=deploy") && next.contains("status=active%2Crevoked"),
                    "{next}"
                );
                url = next.to_owned();
            }
            None => break,
        }
    }
    walked.sort();
    assert_eq!(walked, expect(&[&soon, &later, &revoked]));
}

#[tokio::test]
async fn a_bad_filter_or_page_size_is_a_400_in_the_errors_shape() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let reader = app.key(org, Some(&[Scope::ReadKeys])).await;
    for (query, code) in [
        ("status=lost", "ADMIN-400-24"),
        ("status=active,lost", "ADMIN-400-24"),
        ("expiresAfter=tomorrow", "ADMIN-400-3"),
        ("expiresBefore=2027-01-31T09:00:00", "ADMIN-400-3"),
        ("limit=0", "ADMIN-400-24"),
        ("limit=101", "ADMIN-400-24"),
        ("pageSize=many", "ADMIN-400-24"),
        ("cursor=zz", "ADMIN-400-1"),
    ] {
        for path in [keys_path(org), format!("{}/count", keys_path(org))] {
            if path.ends_with("count")
                && (query.starts_with("limit") || query.starts_with("pageSize") || query.starts_with("cursor"))
            {
                continue;
            }
            let res = app.api(Method::GET, &format!("{path}?{query}"), &reader.token).await;
            assert_error(res, 400, code).await;
        }
    }
}

#[tokio::test]
async fn the_count_is_a_bare_integer_under_the_lists_filters() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let reader = app.key(org, Some(&[Scope::ReadKeys])).await;
    for name in ["deploy a", "deploy b", "backup"] {
        named_key(&app, org, name, Duration::days(10)).await;
    }
    let other = app.org("Globex").await;
    named_key(&app, other, "deploy elsewhere", Duration::days(10)).await;
    let count = format!("{}/count", keys_path(org));

    let res = app.api(Method::GET, &count, &reader.token).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json;charset=UTF-8");
    assert_eq!(
        res.text().await.expect("body"),
        "4",
        "the org's keys only, as a bare integer"
    );
    let filtered = json_of(
        app.api(Method::GET, &format!("{count}?q=deploy&status=active"), &reader.token)
            .await,
    )
    .await;
    assert_eq!(filtered, serde_json::json!(2));
    let revoked = json_of(
        app.api(Method::GET, &format!("{count}?status=revoked"), &reader.token)
            .await,
    )
    .await;
    assert_eq!(revoked, serde_json::json!(0));
}

#[tokio::test]
async fn each_keys_endpoint_needs_its_own_scope() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let victim = app.key(org, None).await;
    let everything_else: Vec<Scope> = Scope::ALL.to_vec();
    let body = serde_json::json!({ "label": "new", "scopes": ["read:orgs:admin"] });
    let revoke = format!("{}/revoke/{}", keys_path(org), victim.id);
    for (method, path, needed) in [
        (Method::GET, keys_path(org), Scope::ReadKeys),
        (Method::GET, format!("{}/count", keys_path(org)), Scope::ReadKeys),
        (Method::POST, keys_path(org), Scope::WriteKeys),
        (Method::PATCH, revoke.clone(), Scope::DeleteKeys),
    ] {
        let without: Vec<Scope> = everything_else.iter().copied().filter(|s| *s != needed).collect();
        let key = app.key(org, Some(&without)).await;
        let before = app.count("api_keys").await;
        let res = app.call(method.clone(), &path, &key.token, Some(&body)).await;
        assert_eq!(
            res.headers()["www-authenticate"],
            format!(r#"Bearer error="insufficient_scope", scope="{}""#, needed.name()).as_str(),
            "{method} {path}"
        );
        assert_error(res, 403, "ADMIN-403-3").await;
        assert_eq!(app.count("api_keys").await, before, "nothing written");
    }
    let status: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT revoked_at FROM api_keys WHERE id = $1")
            .bind(victim.id)
            .fetch_one(&app.pool)
            .await
            .expect("victim");
    assert_eq!(status, None, "not revoked by a key without delete:keys:admin");
}

#[tokio::test]
async fn an_unscoped_key_may_count_and_create_keys_too() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let key = app.key(org, None).await;
    let count = app
        .api(Method::GET, &format!("{}/count", keys_path(org)), &key.token)
        .await;
    assert_eq!(count.status(), 200);
    let created = post_json(
        &app,
        &keys_path(org),
        &key.token,
        &serde_json::json!({ "label": "child" }),
    )
    .await;
    assert_eq!(created.status(), 201);
}

#[tokio::test]
async fn another_org_and_an_unknown_org_get_the_same_404_on_every_keys_endpoint() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let other = app.org("Globex").await;
    let key = app.key(org, None).await;
    let theirs = app.key(other, None).await;
    let body = serde_json::json!({ "label": "sneaky" });
    let before = app.count("api_keys").await;
    let mut answers = Vec::new();
    for target in [other.to_string(), uuid::Uuid::new_v4().to_string()] {
        for (method, path) in [
            (Method::GET, format!("/admin/api-access/v1/orgs/{target}/api-keys")),
            (
                Method::GET,
                format!("/admin/api-access/v1/orgs/{target}/api-keys/count"),
            ),
            (Method::POST, format!("/admin/api-access/v1/orgs/{target}/api-keys")),
            (
                Method::PATCH,
                format!("/admin/api-access/v1/orgs/{target}/api-keys/revoke/{}", theirs.id),
            ),
        ] {
            let res = app.call(method, &path, &key.token, Some(&body)).await;
            let status = res.status().as_u16();
            let mut body = json_of(res).await;
            body["errors"][0]["id"] = Value::Null;
            answers.push((status, body));
        }
    }
    assert!(answers.iter().all(|a| a == &answers[0]), "{answers:#?}");
    assert_eq!(answers[0].0, 404);
    assert_eq!(answers[0].1["errors"][0]["code"], "ADMIN-404-2");
    assert_eq!(app.count("api_keys").await, before, "nothing created");

    let in_own_org = format!("{}/revoke/{}", keys_path(org), theirs.id);
    let res = app.api(Method::PATCH, &in_own_org, &key.token).await;
    assert_error(res, 404, "ADMIN-404-1").await;
    let malformed = format!("{}/revoke/not-a-key-id", keys_path(org));
    assert_error(app.api(Method::PATCH, &malformed, &key.token).await, 404, "ADMIN-404-1").await;
    assert_eq!(
        app.api(Method::GET, "/admin/v1/key", &theirs.token).await.status(),
        200,
        "another org's key, named under one's own org, is not revoked"
    );
}

/// Ada, an admin of Acme, and her key that may write keys; the answer to its creating a key
/// through the API.
async fn create_with_adas_key() -> (TestApp, uuid::Uuid, uuid::Uuid, TestKey, Answer) {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let ada = admin_person(&app, org, "Ada Lovelace", "ada@example.com").await;
    let maker = persons_key(
        &app,
        org,
        ada,
        Some(&[Scope::WriteKeys, Scope::ReadKeys, Scope::ReadOrgs]),
        Duration::days(90),
    )
    .await;
    let res = post_json(
        &app,
        &keys_path(org),
        &maker.token,
        &serde_json::json!({ "label": "  nightly export ", "scopes": ["read:orgs:admin", "read:keys:admin", "read:orgs:admin"] }),
    )
    .await;
    (app, org, ada, maker, res)
}

/// `create_with_adas_key`, the created key's body as answered.
async fn key_made_by_adas_key() -> (TestApp, uuid::Uuid, uuid::Uuid, TestKey, Value) {
    let (app, org, ada, maker, res) = create_with_adas_key().await;
    assert_eq!(res.status(), 201);
    (app, org, ada, maker, json_of(res).await)
}

#[tokio::test]
async fn creating_a_key_answers_201_with_its_token_once_and_no_store() {
    let (_, _, _, _, res) = create_with_adas_key().await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["content-type"], "application/json;charset=UTF-8");
    assert_eq!(res.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn a_created_key_is_answered_in_the_documented_shape_with_its_label_trimmed_and_scopes_once() {
    let (app, org, _, maker, created) = key_made_by_adas_key().await;
    assert_eq!(
        fields(&created),
        names(&[
            "id",
            "token",
            "label",
            "createdBy",
            "createdAt",
            "expiresAt",
            "scopes",
            "publicId",
            "orgId",
            "scoped"
        ])
    );
    let token = created["token"].as_str().expect("token").to_owned();
    let public_id = created["publicId"].as_str().expect("public id").to_owned();
    assert!(token.starts_with(&format!("kw_{public_id}_")));
    let redactions = Redactions::new(&app)
        .name(org, "acme")
        .name(maker.id, "ada's key")
        .name(&public_id, "public id");
    // label trimmed, orgId, scoped, each scope once in the list's order, createdBy the calling
    // key with its person's name and email
    insta::assert_json_snapshot!("created_key", redactions.apply(created.clone()));
}

#[tokio::test]
async fn a_created_key_without_expires_at_lives_30_days() {
    let (_, _, _, _, created) = key_made_by_adas_key().await;
    let created_at =
        chrono::DateTime::parse_from_rfc3339(created["createdAt"].as_str().expect("createdAt")).expect("time");
    let expires_at =
        chrono::DateTime::parse_from_rfc3339(created["expiresAt"].as_str().expect("expiresAt")).expect("time");
    assert_eq!(expires_at - created_at, Duration::days(30), "no expiresAt: 30 days");
}

#[tokio::test]
async fn a_created_key_works_at_once() {
    let (app, _, _, _, created) = key_made_by_adas_key().await;
    let token = created["token"].as_str().expect("token");
    let me = json_of(app.api(Method::GET, "/admin/v1/key", token).await).await;
    assert_eq!(me["data"]["id"], created["id"], "the token works");
}

#[tokio::test]
async fn a_key_made_by_a_key_is_answered_for_by_the_calling_keys_person_and_logged_as_the_key() {
    let (app, _, ada, maker, created) = key_made_by_adas_key().await;
    let (kind, by, responsible): (String, Option<uuid::Uuid>, Option<uuid::Uuid>) = sqlx::query_as(
        "SELECT created_by_kind::text, created_by_id, responsible_user_id FROM api_keys WHERE id = $1::text::uuid",
    )
    .bind(created["id"].as_str().expect("id"))
    .fetch_one(&app.pool)
    .await
    .expect("row");
    assert_eq!(
        (kind.as_str(), by, responsible),
        ("key", Some(maker.id), Some(ada)),
        "made by the calling key, answered for by the calling key's person"
    );
    let event: (String, Option<uuid::Uuid>) = sqlx::query_as(
        "SELECT actor_kind::text, actor_id FROM audit_events WHERE action = 'api_key.created' AND target_id = $1",
    )
    .bind(created["id"].as_str().expect("id"))
    .fetch_one(&app.pool)
    .await
    .expect("the creation's event");
    assert_eq!(event, ("key".to_owned(), Some(maker.id)));
}

#[tokio::test]
async fn the_keys_list_never_shows_a_token() {
    let (app, org, _, maker, created) = key_made_by_adas_key().await;
    let token = created["token"].as_str().expect("token");
    let list = app
        .api(Method::GET, &keys_path(org), &maker.token)
        .await
        .text()
        .await
        .expect("list");
    assert!(!list.contains(token), "the list never shows the token");
}

#[tokio::test]
async fn offboarding_a_person_revokes_the_keys_their_key_made() {
    let (app, org, ada, _, _) = key_made_by_adas_key().await;
    let revoked = keyward::service::keys::revoke_by_creator(
        &app.pool,
        None,
        org.into(),
        ada.into(),
        keyward::domain::actor::Actor::System,
        &Default::default(),
    )
    .await
    .expect("offboarding");
    assert_eq!(revoked.len(), 2, "offboarding Ada revokes the key her key made");
}

#[tokio::test]
async fn a_wrapped_create_body_is_read_like_a_bare_one() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let maker = app.key(org, None).await;
    let at = (chrono::Utc::now() + Duration::days(7)).to_rfc3339();
    let res = post_json(
        &app,
        &keys_path(org),
        &maker.token,
        &serde_json::json!({ "data": { "label": "wrapped", "expiresAt": at, "scopes": ["read:orgs:admin"] } }),
    )
    .await;
    assert_eq!(res.status(), 201);
    let created = json_of(res).await;
    assert_eq!(created["label"], "wrapped");
    assert_eq!(created["scopes"], serde_json::json!(["read:orgs:admin"]));
    let asked = chrono::DateTime::parse_from_rfc3339(&at).expect("time");
    let got = chrono::DateTime::parse_from_rfc3339(created["expiresAt"].as_str().expect("expiresAt")).expect("time");
    assert!((got - asked).num_milliseconds().abs() < 1, "{got} vs {asked}");
}

/// Posts `body` as `maker` and asserts a refusal with `status` and `code` that writes nothing.
async fn refused_create(
    app: &TestApp,
    org: uuid::Uuid,
    maker: &TestKey,
    body: Value,
    status: u16,
    code: &str,
) -> String {
    let keys = app.count("api_keys").await;
    let events = app.count("audit_events").await;
    let res = post_json(app, &keys_path(org), &maker.token, &body).await;
    let detail = assert_error(res, status, code).await;
    assert_eq!(app.count("api_keys").await, keys, "no key written for {body}");
    assert_eq!(app.count("audit_events").await, events, "no event written for {body}");
    detail
}

#[tokio::test]
async fn a_key_grants_only_scopes_it_has_itself() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let maker = app.key(org, Some(&[Scope::WriteKeys, Scope::ReadOrgs])).await;
    let detail = refused_create(
        &app,
        org,
        &maker,
        serde_json::json!({ "label": "stronger", "scopes": ["read:orgs:admin", "delete:keys:admin"] }),
        403,
        "ADMIN-403-3",
    )
    .await;
    assert!(detail.contains("delete:keys:admin"), "{detail}");
    let res = post_json(
        &app,
        &keys_path(org),
        &maker.token,
        &serde_json::json!({ "label": "weaker", "scopes": ["read:orgs:admin"] }),
    )
    .await;
    assert_eq!(res.status(), 201, "a subset is fine");
}

#[tokio::test]
async fn only_a_key_without_scopes_may_create_a_key_without_scopes() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let every_scope = app.key(org, Some(Scope::ALL)).await;
    for body in [
        serde_json::json!({ "label": "unscoped" }),
        serde_json::json!({ "label": "unscoped", "scopes": null }),
    ] {
        let detail = refused_create(&app, org, &every_scope, body, 403, "ADMIN-403-3").await;
        assert!(detail.contains("without scopes"), "{detail}");
    }
    let unscoped = app.key(org, None).await;
    let res = post_json(
        &app,
        &keys_path(org),
        &unscoped.token,
        &serde_json::json!({ "label": "unscoped" }),
    )
    .await;
    assert_eq!(res.status(), 201);
    let created = json_of(res).await;
    assert_eq!(created["scoped"], false);
    assert_eq!(created["scopes"], serde_json::json!([]));
}

#[tokio::test]
async fn an_empty_or_unknown_scope_list_is_a_400() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let maker = app.key(org, None).await;
    for scopes in [
        serde_json::json!([]),
        serde_json::json!(""),
        serde_json::json!(["read:everything:admin"]),
    ] {
        refused_create(
            &app,
            org,
            &maker,
            serde_json::json!({ "label": "x", "scopes": scopes }),
            400,
            "ADMIN-400-2",
        )
        .await;
    }
    let joined = post_json(
        &app,
        &keys_path(org),
        &maker.token,
        &serde_json::json!({ "label": "joined", "scopes": "read:orgs:admin,read:keys:admin" }),
    )
    .await;
    assert_eq!(joined.status(), 201, "a comma-joined string is read as a list");
}

#[tokio::test]
async fn a_created_key_never_outlives_the_calling_key() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let maker = app.key_with(org, None, Duration::days(10)).await;
    let in_days = |days: i64| (chrono::Utc::now() + Duration::days(days)).to_rfc3339();
    let detail = refused_create(
        &app,
        org,
        &maker,
        serde_json::json!({ "label": "x", "expiresAt": in_days(20) }),
        400,
        "ADMIN-400-3",
    )
    .await;
    assert!(detail.contains("outlive"), "{detail}");
    let res = post_json(
        &app,
        &keys_path(org),
        &maker.token,
        &serde_json::json!({ "label": "x", "expiresAt": in_days(5) }),
    )
    .await;
    assert_eq!(res.status(), 201);

    let res = post_json(
        &app,
        &keys_path(org),
        &maker.token,
        &serde_json::json!({ "label": "default" }),
    )
    .await;
    assert_eq!(res.status(), 201);
    let defaulted = json_of(res).await;
    let makers_expiry: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT expires_at FROM api_keys WHERE id = $1")
            .bind(maker.id)
            .fetch_one(&app.pool)
            .await
            .expect("maker");
    assert_eq!(
        defaulted["expiresAt"]
            .as_str()
            .map(|t| chrono::DateTime::parse_from_rfc3339(t).expect("time").to_utc()),
        Some(makers_expiry),
        "without expiresAt, 30 days cut to the calling key's own expiry"
    );
}

#[tokio::test]
async fn a_key_lives_at_most_365_days() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let maker = app.key_with(org, None, Duration::days(365)).await;
    let detail = refused_create(
        &app,
        org,
        &maker,
        serde_json::json!({ "label": "x", "expiresAt": (chrono::Utc::now() + Duration::days(400)).to_rfc3339() }),
        400,
        "ADMIN-400-3",
    )
    .await;
    assert!(detail.contains("365 days"), "{detail}");
}

#[tokio::test]
async fn a_bare_date_keeps_the_key_working_through_that_whole_day_in_utc() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let maker = app.key_with(org, None, Duration::days(365)).await;
    let day = (chrono::Utc::now() + Duration::days(100)).date_naive();
    let res = post_json(
        &app,
        &keys_path(org),
        &maker.token,
        &json!({ "label": "dated", "expiresAt": day.to_string() }),
    )
    .await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.expect("json");
    assert_eq!(created["expiresAt"], format!("{day}T23:59:59Z"), "the end of that day");
    assert!(created.get("expiryLimitedBy").is_none(), "{created}");
}

#[tokio::test]
async fn the_last_allowed_day_works_at_any_hour_and_the_answer_says_it_was_cut_to_the_limit() {
    // Through the API the last limit is the calling key's own expiry (made at most 365 days
    // ago, it ends before any new key's year): its day works, and the new key ends with it.
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let maker = app.key_with(org, None, Duration::days(365)).await;
    let maker_expires: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT expires_at FROM api_keys WHERE id = $1")
            .bind(maker.id)
            .fetch_one(&app.pool)
            .await
            .expect("the maker");
    let last_day = maker_expires.date_naive();
    let res = post_json(
        &app,
        &keys_path(org),
        &maker.token,
        &json!({ "label": "as long as it may", "expiresAt": last_day.to_string() }),
    )
    .await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.expect("json");
    let expires =
        chrono::DateTime::parse_from_rfc3339(created["expiresAt"].as_str().expect("expiresAt")).expect("time");
    assert_eq!(expires, maker_expires, "cut to the calling key's own expiry: {created}");
    assert_eq!(created["expiryLimitedBy"], "creatingKey");
    // The day after the last is refused, whatever the hour.
    let too_late = (last_day + chrono::Days::new(1)).to_string();
    let detail = refused_create(
        &app,
        org,
        &maker,
        json!({ "label": "x", "expiresAt": too_late }),
        400,
        "ADMIN-400-3",
    )
    .await;
    assert!(detail.contains("may not outlive"), "{detail}");
}

#[tokio::test]
async fn a_bad_create_request_is_a_400_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let maker = app.key(org, None).await;
    let yesterday = (chrono::Utc::now() - Duration::days(1)).to_rfc3339();
    for (body, code) in [
        (serde_json::json!({}), "ADMIN-400-24"),
        (serde_json::json!({ "label": "   " }), "ADMIN-400-24"),
        (serde_json::json!({ "label": "x".repeat(101) }), "ADMIN-400-24"),
        (
            serde_json::json!({ "label": "x", "expiresAt": "next week" }),
            "ADMIN-400-3",
        ),
        (
            serde_json::json!({ "label": "x", "expiresAt": yesterday }),
            "ADMIN-400-3",
        ),
        // Both forms at once: neither is guessed (a dropped `scopes` would make a key without
        // scopes).
        (
            serde_json::json!({ "data": { "label": "x" }, "scopes": ["read:orgs:admin"] }),
            "ADMIN-400-24",
        ),
    ] {
        refused_create(&app, org, &maker, body, 400, code).await;
    }
    let keys = app.count("api_keys").await;
    let res = app
        .client
        .post(format!("{}{}", app.address, keys_path(org)))
        .bearer_auth(&maker.token)
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.expect("a JSON body");
    assert_eq!(body["errors"][0]["code"], "ADMIN-400-24");
    assert_eq!(app.count("api_keys").await, keys);
}
