//! The API-key middleware and the first key-guarded endpoints: what each kind of presented key
//! gets, and that the rules hold when measured from outside (metrics, a database behind a
//! proxy the test cuts).

use chrono::Duration;
use keyward::domain::Scope;
use reqwest::Method;
use serde_json::Value;

use crate::helpers::{TestApp, TestKey};
use crate::proxy::{DbProxy, Mode};

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

async fn json(res: crate::helpers::Answer) -> Value {
    res.json().await.expect("a JSON body")
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
    keyward::keys::revoke(
        &app.pool,
        None,
        org,
        revoked.id,
        keyward::store::audit::Actor::System,
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
    let body = json(ok).await;
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
        json(res).await["message"]
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
        json(next).await["message"]
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
            let mut body = json(res).await;
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
    let me = json(app.api(Method::GET, "/admin/v1/key", &key.token).await).await;
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
        let page = json(app.api(Method::GET, path, &key.token).await).await;
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
    assert_eq!(json(bad).await["errors"][0]["code"], "ADMIN-400-1");
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
    let app = TestApp::spawn_with(crate::helpers::Options {
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
    keyward::keys::revoke(
        &app.pool,
        None,
        org,
        key.id,
        keyward::store::audit::Actor::System,
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
    let server = crate::helpers::database_server();
    let proxy = DbProxy::start(server.upstream()).await;
    let app = TestApp::spawn_with(crate::helpers::Options {
        database_via: Some(proxy.address),
        ..Default::default()
    })
    .await;
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
    use keyward::domain::api_key::{Expiry, ExpiryError, KeyName};
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let argon2 = keyward::auth::argon2id::Argon2Pool::new(2);
    let now = chrono::Utc::now();
    for expiry in [
        Expiry::InDays(400),
        Expiry::At(now + Duration::days(366)),
        Expiry::At(now - Duration::seconds(1)),
    ] {
        let request = keyward::keys::KeyRequest {
            org_id: org,
            name: KeyName::parse("too long").expect("name"),
            scopes: None,
            expiry,
            created_by: keyward::store::audit::Actor::System,
            responsible_user_id: None,
            origin: Default::default(),
        };
        let refused = keyward::keys::create(&app.pool, &argon2, &request).await;
        assert!(
            matches!(refused, Err(keyward::keys::KeyError::Expiry(ExpiryError::OutOfWindow))),
            "{expiry:?}: {:?}",
            refused.map(|(id, _)| id)
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
