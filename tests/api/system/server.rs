//! The application shell: health probes, static files, security headers, 404s.

use std::time::Duration;

use reqwest::Method;

use crate::harness::TestApp;
use crate::harness::db_proxy::{Mode, app_behind_db_proxy};

#[tokio::test]
async fn healthz_and_readyz_answer_when_the_database_does() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.expect("json");
    assert_eq!(body["database"], "ok");
    assert!(
        body["revocation_listener"].is_string(),
        "the listener's state is reported"
    );
}

#[tokio::test]
async fn readyz_is_503_when_the_database_cannot_answer() {
    let app = TestApp::spawn().await;
    app.app_pool.close().await;
    assert_eq!(app.get("/readyz").await.status(), 503);
    assert_eq!(
        app.get("/healthz").await.status(),
        200,
        "the process itself is still up"
    );
}

#[tokio::test]
async fn every_response_carries_the_security_headers_and_a_request_id() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::new();
    for (path, lang) in [
        ("/", "en"),
        ("/healthz", "en"),
        ("/no/such/page", "en"),
        ("/no/such/page", "ja"),
        ("/static/keyward.css", "en"),
    ] {
        let res = client
            .get(format!("{}{path}", app.address))
            .header("Accept-Language", lang)
            .send()
            .await
            .expect("request");
        let header = |name: &str| {
            res.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let csp = header("content-security-policy");
        assert!(!csp.contains("unsafe-inline"), "{path}");
        for directive in ["object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"] {
            assert!(csp.contains(directive), "{path}: {directive}");
        }
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert!(!header("referrer-policy").is_empty(), "{path}");
        assert!(!header("x-request-id").is_empty(), "{path}");
        assert!(
            header("strict-transport-security").is_empty(),
            "no HSTS over plain HTTP"
        );
    }
}

#[tokio::test]
async fn static_files_are_served_with_cache_headers_and_unknown_paths_are_404() {
    let app = TestApp::spawn().await;
    let css = app.get("/static/keyward.css").await;
    assert_eq!(css.status(), 200);
    assert!(
        css.headers()["cache-control"]
            .to_str()
            .expect("ascii")
            .contains("max-age")
    );
    let etag = css.headers()["etag"].clone();
    let again = app
        .client
        .get(format!("{}/static/keyward.css", app.address))
        .header("If-None-Match", etag)
        .send()
        .await
        .expect("get");
    assert_eq!(again.status(), 304);
    assert_eq!(app.get("/static/../Cargo.toml").await.status(), 404);
    assert_eq!(app.get("/no/such/page").await.status(), 404);
}

/// The request pool skips the ping of a connection that was just released (the release pinged
/// it), but pings one that sat idle, so connections the database dropped while idle are
/// replaced before a request gets them instead of failing that request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_the_database_dropped_while_idle_fail_no_request() {
    let (proxy, app) = app_behind_db_proxy().await;
    let org = app.org("Acme").await;
    let key = app.key(org, None).await;
    let users = format!("/admin/v1/orgs/{org}/users");
    // Several requests at once, so the pool holds several connections.
    let answers = futures_util::future::join_all((0..8).map(|_| app.api(Method::GET, &users, &key.token))).await;
    let warm: Vec<u16> = answers.iter().map(|answer| answer.status().as_u16()).collect();
    assert_eq!(warm, [200; 8], "warm-up");

    // The database drops every connection and comes straight back, while the pool is idle.
    proxy.set(Mode::Cut);
    tokio::time::sleep(Duration::from_millis(200)).await;
    proxy.set(Mode::Open);
    tokio::time::sleep(Duration::from_millis(1500)).await;

    for round in 0..8 {
        let status = app.api(Method::GET, &users, &key.token).await.status();
        assert_eq!(status, 200, "request {round} after the database came back");
    }
}
