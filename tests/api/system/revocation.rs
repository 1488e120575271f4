//! Revocation across instances: instance B, a separate process whose database connections go
//! through a proxy the test controls, never accepts a key that A revoked, whatever happens to
//! its connection; and an instance whose database comes back serves its cached keys again at
//! once, without verifying them anew.

use std::time::{Duration, Instant};

use reqwest::Method;

use crate::harness::db_proxy::{DbProxy, Mode, app_behind_db_proxy};
use crate::harness::{Server, TestApp, database_server, key_status_at, metric_at};

/// Instance B as its own process, its database reached through `proxy`.
fn start_b(app: &TestApp, proxy: &DbProxy) -> (Server, String, String) {
    let url = database_server().url_via(proxy.address, &app.db_name);
    let mut b = Server::start(
        vec!["--metrics-listen".into(), "127.0.0.1:0".into()],
        &[("DATABASE_URL", url.as_str())],
    );
    let address = b.address();
    let metrics = b.metrics_address();
    (b, address, metrics)
}

async fn wait_for_metric(metrics: &str, series: &str, value: f64, within: Duration) {
    let deadline = Instant::now() + within;
    while metric_at(metrics, series).await != value {
        assert!(
            Instant::now() < deadline,
            "{series} did not reach {value} within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Asks B about `token` for `period`, failing on any 200.
async fn never_accepted(client: &reqwest::Client, base: &str, token: &str, period: Duration) {
    let deadline = Instant::now() + period;
    while Instant::now() < deadline {
        let status = key_status_at(client, base, token).await;
        assert_ne!(status, 200, "instance B accepted a revoked key");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

const HEALTHY: &str = "keyward_revocation_listener_healthy";
const ARGON2_STARTED: &str = "keyward_argon2_verifications_started_total";

// Multi-threaded: the proxy keeps forwarding while this test blocks reading B's log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_revoked_on_a_is_never_accepted_by_b_through_outages_and_stalls() {
    let a = TestApp::spawn().await;
    let proxy = DbProxy::start(database_server().upstream()).await;
    let (b, b_address, b_metrics) = start_b(&a, &proxy);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let org = a.org("Acme").await;
    let admin = a.key(org, None).await;
    let key = a.key(org, None).await;
    wait_for_metric(&b_metrics, HEALTHY, 1.0, Duration::from_secs(30)).await;

    // B serves the key from its cache.
    assert_eq!(key_status_at(&client, &b_address, &key.token).await, 200);
    let hits = metric_at(&b_metrics, "keyward_proof_cache_hits_total").await;
    assert_eq!(key_status_at(&client, &b_address, &key.token).await, 200);
    assert!(
        metric_at(&b_metrics, "keyward_proof_cache_hits_total").await > hits,
        "served from the cache"
    );

    // Cut B off, wait until it knows, revoke on A.
    proxy.set(Mode::Cut);
    wait_for_metric(&b_metrics, HEALTHY, 0.0, Duration::from_secs(10)).await;
    let revoke = format!("/admin/api-access/v1/orgs/{org}/api-keys/revoke/{}", key.id);
    assert_eq!(a.api(Method::PATCH, &revoke, &admin.token).await.status(), 204);
    never_accepted(&client, &b_address, &key.token, Duration::from_secs(2)).await;

    // The notice was lost; when the proxy returns, B catches up and still refuses.
    proxy.set(Mode::Open);
    never_accepted(&client, &b_address, &key.token, Duration::from_secs(10)).await;
    assert_eq!(key_status_at(&client, &b_address, &key.token).await, 401);

    // Stalled: connections stay open but nothing moves. The heartbeat notices within seconds.
    let fresh = a.key(org, None).await;
    wait_for_metric(&b_metrics, HEALTHY, 1.0, Duration::from_secs(30)).await;
    assert_eq!(key_status_at(&client, &b_address, &fresh.token).await, 200);
    assert_eq!(key_status_at(&client, &b_address, &fresh.token).await, 200);
    proxy.set(Mode::Stalled);
    let revoke = format!("/admin/api-access/v1/orgs/{org}/api-keys/revoke/{}", fresh.id);
    assert_eq!(a.api(Method::PATCH, &revoke, &admin.token).await.status(), 204);
    let revoked_at = Instant::now();
    loop {
        let status = key_status_at(&client, &b_address, &fresh.token).await;
        if status != 200 {
            assert!(status == 401 || status == 503, "{status}");
            break;
        }
        assert!(
            revoked_at.elapsed() < Duration::from_secs(5),
            "B still accepts the key 5 s after its revocation"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(revoked_at.elapsed() < Duration::from_secs(5));
    never_accepted(&client, &b_address, &fresh.token, Duration::from_secs(2)).await;
    proxy.set(Mode::Open);
    never_accepted(&client, &b_address, &fresh.token, Duration::from_secs(5)).await;
    b.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_database_outage_cached_keys_serve_again_within_5_s_with_no_argon2() {
    let (proxy, app) = app_behind_db_proxy().await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let org = app.org("Acme").await;
    let mut keys = Vec::new();
    for _ in 0..5 {
        keys.push(app.key(org, None).await);
    }
    wait_for_metric(&app.metrics_address, HEALTHY, 1.0, Duration::from_secs(30)).await;
    for key in &keys {
        assert_eq!(key_status_at(&client, &app.address, &key.token).await, 200);
    }
    let verified = app.metric(ARGON2_STARTED).await;

    proxy.set(Mode::Cut);
    wait_for_metric(&app.metrics_address, HEALTHY, 0.0, Duration::from_secs(10)).await;
    for key in &keys {
        assert_eq!(
            key_status_at(&client, &app.address, &key.token).await,
            503,
            "revocation cannot be checked: fail closed"
        );
    }

    proxy.set(Mode::Open);
    let back = Instant::now();
    for key in &keys {
        while key_status_at(&client, &app.address, &key.token).await != 200 {
            assert!(
                back.elapsed() < Duration::from_secs(5),
                "not serving 5 s after the database came back"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    assert_eq!(
        app.metric(ARGON2_STARTED).await,
        verified,
        "the proofs survived the outage: no key was verified again"
    );
}
