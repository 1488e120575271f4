//! The key middleware's rules that only show from outside as counts: what it reads from the
//! database (`keyward_key_row_reads_total`, `keyward_key_revocation_reads_total`), how often it
//! runs argon2id, whom it throttles, and what it does when a revocation notice is late or lost.
//! Databases sit behind a proxy the test controls: it stalls or cuts connections, and drops
//! PostgreSQL's notifications on one channel or all of them.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use reqwest::Method;

use crate::harness::db_proxy::{DbProxy, Mode, Notices, app_behind_db_proxy};
use crate::harness::{Options, TestApp, TestKey};

const ARGON2_STARTED: &str = "keyward_argon2_verifications_started_total";
const ROW_READS: &str = "keyward_key_row_reads_total";
const REVOCATION_READS: &str = "keyward_key_revocation_reads_total";
const HEALTHY: &str = "keyward_revocation_listener_healthy";

/// A well-formed token with a valid checksum for `public_id` and a secret nobody issued.
fn forged(public_id: &str, secret_char: char) -> String {
    let body = format!("kw_{public_id}_{}", secret_char.to_string().repeat(32));
    format!("{body}{}", keyward::domain::token::checksum(&body))
}

/// A client whose requests come from `address` (a loopback address other than 127.0.0.1).
fn client_from(address: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(address.parse::<IpAddr>().expect("ip"))
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

async fn status_of(client: &reqwest::Client, app: &TestApp, token: &str) -> u16 {
    client
        .get(format!("{}/admin/v1/key", app.address))
        .bearer_auth(token)
        .send()
        .await
        .map(|res| res.status().as_u16())
        .unwrap_or(0)
}

async fn wait_for_metric(app: &TestApp, series: &str, value: f64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while app.metric(series).await != value {
        assert!(Instant::now() < deadline, "{series} did not reach {value}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// An instance whose database sits behind a proxy the test controls, once its revocation
/// listener is healthy.
async fn healthy_behind_db_proxy() -> (DbProxy, TestApp) {
    let (proxy, app) = app_behind_db_proxy().await;
    wait_for_metric(&app, HEALTHY, 1.0).await;
    (proxy, app)
}

async fn revoke_by_sql(app: &TestApp, key: &TestKey) {
    sqlx::query("UPDATE api_keys SET revoked_at = now(), revoked_by_kind = 'system' WHERE id = $1")
        .bind(key.id)
        .execute(&app.pool)
        .await
        .expect("revoke by hand, as in psql");
}

#[tokio::test]
async fn a_cached_key_with_a_healthy_listener_is_served_with_no_database_read() {
    let app = TestApp::spawn().await;
    wait_for_metric(&app, HEALTHY, 1.0).await;
    let org = app.org("Acme").await;
    let key = app.key(org, None).await;
    let client = reqwest::Client::new();

    assert_eq!(status_of(&client, &app, &key.token).await, 200);
    assert_eq!(app.metric(ROW_READS).await, 1.0, "the first request reads the row once");
    assert_eq!(
        app.metric(REVOCATION_READS).await,
        0.0,
        "a fill that no revocation straddled needs no second read"
    );
    assert_eq!(app.metric("keyward_proof_cache_entries").await, 1.0);
    for _ in 0..20 {
        assert_eq!(status_of(&client, &app, &key.token).await, 200);
    }
    assert_eq!(app.metric(ROW_READS).await, 1.0);
    assert_eq!(app.metric(REVOCATION_READS).await, 0.0, "hits read nothing");

    let second = app.key(org, None).await;
    assert_eq!(status_of(&client, &app, &second.token).await, 200);
    assert_eq!(
        app.metric("keyward_proof_cache_entries").await,
        2.0,
        "one proof per key"
    );
}

#[tokio::test]
async fn every_request_reads_revocation_while_the_listener_hears_nothing_and_still_serves() {
    let (proxy, app) = healthy_behind_db_proxy().await;
    let org = app.org("Acme").await;
    let key = app.key(org, None).await;
    let client = reqwest::Client::new();
    assert_eq!(status_of(&client, &app, &key.token).await, 200);

    proxy.notices(Notices::DropAll);
    wait_for_metric(&app, HEALTHY, 0.0).await;
    let reads = app.metric(REVOCATION_READS).await;
    for _ in 0..5 {
        assert_eq!(
            status_of(&client, &app, &key.token).await,
            200,
            "the database answers, so the instance keeps serving"
        );
    }
    assert_eq!(app.metric(REVOCATION_READS).await - reads, 5.0, "one read per request");

    revoke_by_sql(&app, &key).await;
    assert_eq!(
        status_of(&client, &app, &key.token).await,
        401,
        "the read finds the revocation no notice announced"
    );
}

#[tokio::test]
async fn a_listener_whose_connection_delivers_no_notice_is_never_trusted() {
    let (proxy, app) = healthy_behind_db_proxy().await;
    proxy.notices(Notices::DropAll);
    wait_for_metric(&app, HEALTHY, 0.0).await;
    let reconnects = app.metric("keyward_revocation_listener_reconnects_total").await;
    let watched = Instant::now();
    while watched.elapsed() < Duration::from_secs(5) {
        assert_eq!(
            app.metric(HEALTHY).await,
            0.0,
            "LISTEN succeeds on every reconnect, but no heartbeat ever comes back"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(app.metric("keyward_revocation_listener_reconnects_total").await > reconnects);
}

#[tokio::test]
async fn the_revoking_instance_refuses_the_key_before_its_own_notice_arrives() {
    let (proxy, app) = healthy_behind_db_proxy().await;
    let org = app.org("Acme").await;
    let admin = app.key(org, None).await;
    let victim = app.key(org, None).await;
    let client = reqwest::Client::new();
    assert_eq!(status_of(&client, &app, &victim.token).await, 200);

    proxy.notices(Notices::DropChannel("keyward_keys"));
    let revoke = format!("/admin/api-access/v1/orgs/{org}/api-keys/revoke/{}", victim.id);
    assert_eq!(app.api(Method::PATCH, &revoke, &admin.token).await.status(), 204);
    for _ in 0..10 {
        assert_eq!(status_of(&client, &app, &victim.token).await, 401);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        app.metric(HEALTHY).await,
        1.0,
        "the heartbeat got through: the listener was trusted all along"
    );
    assert_eq!(
        app.metric("keyward_revocation_notices_total").await,
        0.0,
        "no notice arrived"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_revoked_while_the_listener_was_down_is_refused_once_it_is_back() {
    let (proxy, app) = healthy_behind_db_proxy().await;
    let org = app.org("Acme").await;
    let key = app.key(org, None).await;
    let client = reqwest::Client::new();
    assert_eq!(status_of(&client, &app, &key.token).await, 200);

    proxy.set(Mode::Cut);
    wait_for_metric(&app, HEALTHY, 0.0).await;
    revoke_by_sql(&app, &key).await;
    proxy.set(Mode::Open);
    wait_for_metric(&app, HEALTHY, 1.0).await;

    assert_eq!(
        status_of(&client, &app, &key.token).await,
        401,
        "the listener caught up on what it missed before it was trusted again"
    );
}

#[tokio::test]
async fn wrong_secrets_from_one_address_never_lock_the_key_out_for_its_own() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let key = app.key(org, None).await;
    let attacker = client_from("127.0.0.2");
    let mut throttled = 0;
    for i in 0..60 {
        let secret_char = if i % 2 == 0 { 'Z' } else { 'Y' };
        match status_of(&attacker, &app, &forged(key.public_id(), secret_char)).await {
            429 => throttled += 1,
            401 => {}
            other => panic!("a forged secret got {other}"),
        }
    }
    assert_eq!(
        throttled, 50,
        "ten wrong secrets a minute for this key from this address"
    );

    let owner = client_from("127.0.0.1");
    assert_eq!(
        status_of(&owner, &app, &key.token).await,
        200,
        "the key's own first request"
    );
}

#[tokio::test]
async fn the_same_wrong_secret_retried_counts_every_time() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let key = app.key(org, None).await;
    let attacker = client_from("127.0.0.2");
    let forged = forged(key.public_id(), 'Z');
    let statuses: Vec<u16> = {
        let mut statuses = Vec::new();
        for _ in 0..12 {
            statuses.push(status_of(&attacker, &app, &forged).await);
        }
        statuses
    };
    assert_eq!(&statuses[..10], &[401; 10]);
    assert_eq!(&statuses[10..], &[429; 2], "a repeated guess is still a guess");
}

#[tokio::test]
async fn a_revoked_key_presented_a_hundred_times_costs_one_read_and_throttles_nobody() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let forgotten = app.key(org, None).await;
    let good = app.key(org, None).await;
    revoke_by_sql(&app, &forgotten).await;
    let integration = client_from("127.0.0.2");

    for _ in 0..100 {
        assert_eq!(status_of(&integration, &app, &forgotten.token).await, 401);
    }
    assert_eq!(
        app.metric(ROW_READS).await,
        1.0,
        "after the first read the revoked public id is answered from memory"
    );
    assert_eq!(app.metric(ARGON2_STARTED).await, 0.0);
    assert_eq!(
        status_of(&integration, &app, &good.token).await,
        200,
        "an uncached good key behind the same address"
    );
}

#[tokio::test]
async fn unknown_public_ids_are_throttled_per_address_and_remembered() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let good = app.key(org, None).await;
    let scanner = client_from("127.0.0.2");
    let repeated = forged("UnknownId123", 'Z');
    for _ in 0..20 {
        assert_eq!(status_of(&scanner, &app, &repeated).await, 401);
    }
    assert_eq!(app.metric(ROW_READS).await, 1.0, "one unknown id, one read");
    let mut throttled = 0;
    for i in 0..40 {
        let id = format!("Unknown{i:05}");
        if status_of(&scanner, &app, &forged(&id, 'Z')).await == 429 {
            throttled += 1;
        }
    }
    assert_eq!(throttled, 11, "thirty unknown ids a minute from one address");
    assert_eq!(
        status_of(&client_from("127.0.0.1"), &app, &good.token).await,
        200,
        "another address is not throttled"
    );
}

#[tokio::test]
async fn refused_uses_are_audited_per_client_address_with_their_user_agent() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let key = app.key(org, None).await;
    revoke_by_sql(&app, &key).await;
    for (address, agent) in [("127.0.0.2", "nightly-sync/1.0"), ("127.0.0.3", "curl/8.0")] {
        let client = client_from(address);
        for _ in 0..3 {
            let res = client
                .get(format!("{}/admin/v1/key", app.address))
                .bearer_auth(&key.token)
                .header("User-Agent", agent)
                .send()
                .await
                .expect("request");
            assert_eq!(res.status(), 401);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let events = loop {
        let events: Vec<(String, Option<String>)> = sqlx::query_as(
            "SELECT host(ip), user_agent FROM audit_events
             WHERE action = 'api_key.rejected_use' AND target_id = $1 ORDER BY host(ip)",
        )
        .bind(key.id.to_string())
        .fetch_all(&app.pool)
        .await
        .expect("events");
        if events.len() >= 2 || Instant::now() > deadline {
            break events;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        events,
        [
            ("127.0.0.2".to_owned(), Some("nightly-sync/1.0".to_owned())),
            ("127.0.0.3".to_owned(), Some("curl/8.0".to_owned())),
        ],
        "one event per key and address a minute, so the second user is not hidden behind the first"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_uses_the_writer_cannot_keep_up_with_are_counted_not_lost_silently() {
    let (proxy, app) = healthy_behind_db_proxy().await;
    let org = app.org("Acme").await;
    let key = app.key(org, None).await;
    revoke_by_sql(&app, &key).await;
    assert_eq!(status_of(&reqwest::Client::new(), &app, &key.token).await, 401);

    // With the database stalled, the writer cannot drain its queue (4,096 records); each
    // address below is worth one event, answered from memory with no database read.
    proxy.set(Mode::Stalled);
    let started = Instant::now();
    for i in 0..4_400u32 {
        let address = format!("127.0.{}.{}", 10 + i / 250, 1 + i % 250);
        assert_eq!(status_of(&client_from(&address), &app, &key.token).await, 401);
        assert!(started.elapsed() < Duration::from_secs(120), "bounded in time");
    }
    let dropped = app.metric("keyward_background_writes_dropped_total").await;
    proxy.set(Mode::Open);
    assert!(dropped >= 200.0, "the overflow is counted ({dropped})");
}

#[tokio::test]
async fn last_use_is_written_about_once_a_minute_not_per_request() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let key = app.key(org, None).await;
    let client = reqwest::Client::new();
    for _ in 0..20 {
        assert_eq!(status_of(&client, &app, &key.token).await, 200);
    }
    wait_for_metric(&app, "keyward_key_last_use_writes_total", 1.0).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.metric("keyward_key_last_use_writes_total").await, 1.0);
}

#[tokio::test]
async fn the_bearer_scheme_is_matched_whatever_its_case() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let key = app.key(org, None).await;
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let res = app
            .client
            .get(format!("{}/admin/v1/key", app.address))
            .header("Authorization", format!("{scheme} {}", key.token))
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 200, "{scheme}");
    }
    let basic = app
        .client
        .get(format!("{}/admin/v1/key", app.address))
        .header("Authorization", format!("Basic {}", key.token))
        .send()
        .await
        .expect("request");
    assert_eq!(basic.status(), 401);
}

#[tokio::test]
async fn a_header_with_bytes_beyond_ascii_is_a_malformed_key_whatever_follows() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let key = app.key(org, None).await;
    let misses = app.metric("keyward_proof_cache_misses_total").await;
    for header in [
        format!("Bearer {}é", key.token),
        format!("Bearer é{}", key.token),
        format!("Bearér {}", key.token),
    ] {
        let value =
            reqwest::header::HeaderValue::from_bytes(header.as_bytes()).expect("obs-text is a valid header value");
        let res = app
            .client
            .get(format!("{}/admin/v1/key", app.address))
            .header("Authorization", value)
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 401, "{header}");
        let body: serde_json::Value = res.json().await.expect("json");
        assert_eq!(body["message"], "Missing or malformed API key.", "{header}");
    }
    // Refused before the cache is asked, so none of them cost a lookup.
    assert_eq!(app.metric("keyward_proof_cache_misses_total").await, misses);
}

#[tokio::test]
async fn a_flood_spread_over_many_addresses_is_held_to_the_instance_budget() {
    let app = TestApp::spawn_with(Options {
        key_verification_budget: Some((1, 5)),
        ..Default::default()
    })
    .await;
    let org = app.org("Acme").await;
    let cached = app.key(org, None).await;
    let client = reqwest::Client::new();
    assert_eq!(
        status_of(&client, &app, &cached.token).await,
        200,
        "cached before the flood"
    );
    let mut keys = Vec::new();
    for _ in 0..20 {
        keys.push(app.key(org, None).await);
    }
    let argon2_before = app.metric(ARGON2_STARTED).await;

    let mut statuses = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        // One wrong secret for each key, each from an address of its own: no per-address or
        // per-key limit is near, only the instance's budget.
        let attacker = client_from(&format!("127.0.1.{}", i + 1));
        statuses.push(status_of(&attacker, &app, &forged(key.public_id(), 'Z')).await);
        assert_eq!(
            status_of(&client, &app, &cached.token).await,
            200,
            "cached keys keep serving"
        );
    }
    let verified = app.metric(ARGON2_STARTED).await - argon2_before;
    let throttled = statuses.iter().filter(|&&status| status == 429).count();
    assert!(
        throttled >= 5,
        "beyond a burst of 5 (and about one a second), fills are refused: {statuses:?}"
    );
    assert_eq!(
        verified,
        (statuses.len() - throttled) as f64,
        "a refused fill runs no argon2"
    );
    assert!(app.metric("keyward_key_fills_throttled_total").await >= 5.0);
}
