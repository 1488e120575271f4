//! Policies: the API that manages them (v1 and control v2 paths, wire format, bodies wrapped and
//! bare, clear 400s for what keyward does not enforce), and what they do: an IP allowlist that
//! refuses the org's keys from any other address at once on every instance, and a key lifetime
//! limit that caps every way of creating a key.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::arranged::{insert_policy, lifetime_policy};
use crate::harness::{
    Server, TestApp, behind_proxy, database_server, json_of, key_status_at, key_status_from, keyward, metric_at,
};

fn collection(family: &str, org: Uuid) -> String {
    format!("{family}/orgs/{org}/policies")
}

const FAMILIES: [&str; 2] = ["/admin/v1", "/admin/control/v2"];

fn allowlist(name: &str, status: &str, ranges: &[&str]) -> Value {
    json!({ "data": { "type": "policy", "attributes": {
        "type": "ip-allowlist", "name": name, "status": status, "rule": { "in": ranges }
    } } })
}

#[tokio::test]
async fn a_policy_is_created_read_listed_replaced_and_deleted_in_the_wire_format_under_both_paths() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let key = app.key(org, None).await;
    for family in FAMILIES {
        let body = allowlist("Office", "enabled", &["127.0.0.1", "203.0.113.0/24", "10.1.2.3/8"]);
        let created = app
            .call(Method::POST, &collection(family, org), &key.token, Some(&body))
            .await;
        assert_eq!(created.status(), 200);
        let created = json_of(created).await;
        let id = created["data"]["id"].as_str().expect("id").to_owned();
        let url = format!("{}{}/{id}", app.address, collection(family, org));
        let attributes = &created["data"]["attributes"];
        assert_eq!(created["data"]["type"], "policy");
        assert_eq!(created["data"]["links"]["self"], url.as_str());
        assert_eq!(attributes["type"], "ip-allowlist");
        assert_eq!(attributes["name"], "Office");
        assert_eq!(attributes["status"], "enabled");
        assert_eq!(
            attributes["rule"],
            json!({ "in": ["127.0.0.1/32", "203.0.113.0/24", "10.0.0.0/8"] }),
            "ranges as networks"
        );
        assert_eq!(attributes["resources"], json!([]));
        assert_eq!(attributes["createdAt"], attributes["updatedAt"]);

        let path = format!("{}/{id}", collection(family, org));
        let got = json_of(app.api(Method::GET, &path, &key.token).await).await;
        assert_eq!(got, created);

        let replaced = json!({ "type": "policy", "attributes": {
            "type": "ip-allowlist", "name": "Office and VPN", "status": "disabled",
            "rule": { "in": ["127.0.0.1/32", "198.51.100.0/24"] },
            "resources": [{ "id": "ari:cloud:platform::site/1" }],
            "createdAt": "0001-01-01T00:00:00Z"
        } });
        let res = app.call(Method::PUT, &path, &key.token, Some(&replaced)).await;
        assert_eq!(res.status(), 200);
        let updated = json_of(res).await;
        assert_eq!(updated["data"]["attributes"]["name"], "Office and VPN");
        assert_eq!(updated["data"]["attributes"]["status"], "disabled");
        assert_eq!(
            updated["data"]["attributes"]["resources"],
            json!([{ "id": "ari:cloud:platform::site/1" }])
        );
        assert_eq!(
            updated["data"]["attributes"]["createdAt"], attributes["createdAt"],
            "the zero createdAt is ignored"
        );

        let list = json_of(app.api(Method::GET, &collection(family, org), &key.token).await).await;
        assert_eq!(list["data"].as_array().map(Vec::len), Some(1));
        assert_eq!(list["data"][0], updated["data"]);
        assert_eq!(list["meta"], json!({ "next": null, "page_size": 50 }));
        assert_eq!(list["links"]["next"], Value::Null);

        assert_eq!(app.api(Method::DELETE, &path, &key.token).await.status(), 204);
        assert_eq!(app.api(Method::GET, &path, &key.token).await.status(), 404);
    }
    let actions: Vec<String> =
        sqlx::query_scalar("SELECT action FROM audit_events WHERE target_kind = 'policy' ORDER BY time, action")
            .fetch_all(&app.pool)
            .await
            .expect("events");
    assert_eq!(
        actions.iter().filter(|a| *a == "policy.created").count(),
        2,
        "{actions:?}"
    );
    assert_eq!(actions.iter().filter(|a| *a == "policy.updated").count(), 2);
    assert_eq!(actions.iter().filter(|a| *a == "policy.deleted").count(), 2);
}

#[tokio::test]
async fn bodies_are_accepted_wrapped_bare_or_as_bare_attributes() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let key = app.key(org, None).await;
    let attributes = json!({ "type": "api-key-lifetime", "name": "Quarter", "rule": { "maxDays": 90 } });
    for body in [
        json!({ "data": { "type": "policy", "attributes": attributes } }),
        json!({ "type": "policy", "attributes": attributes }),
        attributes.clone(),
    ] {
        let res = app
            .call(Method::POST, &collection("/admin/v1", org), &key.token, Some(&body))
            .await;
        assert_eq!(res.status(), 200, "{body}");
        let created = json_of(res).await;
        assert_eq!(created["data"]["attributes"]["rule"], json!({ "maxDays": 90 }));
        assert_eq!(
            created["data"]["attributes"]["status"], "enabled",
            "enabled unless said"
        );
    }
    assert_eq!(app.count("policies").await, 3);
}

#[tokio::test]
async fn a_bad_policy_is_a_400_naming_what_is_wrong_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let key = app.key(org, None).await;
    let existing = lifetime_policy(&app, org, 90).await;
    let (policies, events) = (app.count("policies").await, app.count("audit_events").await);
    let lifetime = |rule: Value| json!({ "type": "api-key-lifetime", "name": "Limit", "rule": rule });
    let cases = [
        (
            json!({ "type": "data-residency", "name": "EU", "rule": { "in": ["EU"] } }),
            "data-residency",
        ),
        (
            json!({ "name": "No type", "rule": { "in": ["10.0.0.0/8"] } }),
            "attributes.type",
        ),
        (
            allowlist("Office", "enabled", &["10.0.0.0/8", "the office"]),
            "rule.in[1]",
        ),
        (allowlist("Office", "enabled", &[]), "at least one range"),
        (
            json!({ "type": "ip-allowlist", "name": "Office", "rule": { "in": "10.0.0.0/8" } }),
            "ip-allowlist rule",
        ),
        (allowlist("Office", "paused", &["10.0.0.0/8"]), "attributes.status"),
        (allowlist(" ", "enabled", &["10.0.0.0/8"]), "attributes.name"),
        (lifetime(json!({ "maxDays": 0 })), "maxDays"),
        (lifetime(json!({ "maxDays": 366 })), "maxDays"),
        (lifetime(json!({ "days": 30 })), "maxDays"),
        (
            json!({ "type": "api-key-lifetime", "name": "Limit" }),
            "attributes.rule",
        ),
        (
            json!({ "data": { "type": "policy", "attributes": lifetime(json!({ "maxDays": 30 })) }, "name": "beside" }),
            "",
        ),
        (
            json!({ "data": { "type": "users", "attributes": lifetime(json!({ "maxDays": 30 })) } }),
            "policy",
        ),
    ];
    for (body, named) in cases {
        for (method, path) in [
            (Method::POST, collection("/admin/v1", org)),
            (
                Method::PUT,
                format!("{}/{existing}", collection("/admin/control/v2", org)),
            ),
        ] {
            let res = app.call(method.clone(), &path, &key.token, Some(&body)).await;
            assert_eq!(res.status(), 400, "{method} {body}");
            let error = json_of(res).await;
            let detail = error["errors"][0]["detail"].as_str().unwrap_or_default().to_owned();
            assert!(detail.contains(named), "{body}: {detail}");
        }
    }
    // The type of a policy never changes.
    let res = app
        .call(
            Method::PUT,
            &format!("{}/{existing}", collection("/admin/v1", org)),
            &key.token,
            Some(&allowlist("Office", "enabled", &["10.0.0.0/8"])),
        )
        .await;
    assert_eq!(res.status(), 400);
    assert!(
        json_of(res).await["errors"][0]["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("api-key-lifetime")
    );
    // A page size out of range, an unknown type filter, a cursor not given out.
    for query in ["limit=0", "limit=51", "type=data-residency", "cursor=zz"] {
        let path = format!("{}?{query}", collection("/admin/v1", org));
        assert_eq!(app.api(Method::GET, &path, &key.token).await.status(), 400, "{query}");
    }
    assert_eq!(app.count("policies").await, policies);
    assert_eq!(app.count("audit_events").await, events);
    let rule: Value = sqlx::query_scalar("SELECT rule FROM policies WHERE id = $1")
        .bind(existing)
        .fetch_one(&app.pool)
        .await
        .expect("rule");
    assert_eq!(rule, json!({ "maxDays": 90 }), "unchanged");
}

#[tokio::test]
async fn another_orgs_policy_is_answered_as_an_unknown_one_and_left_alone() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let other = app.org("Globex").await;
    let key = app.key(org, None).await;
    let theirs = lifetime_policy(&app, other, 30).await;
    let body = json!({ "type": "api-key-lifetime", "name": "Taken over", "rule": { "maxDays": 365 } });
    for family in FAMILIES {
        for method in [Method::GET, Method::PUT, Method::DELETE] {
            let mut answers = Vec::new();
            for id in [theirs.to_string(), Uuid::new_v4().to_string(), "not-an-id".to_owned()] {
                let path = format!("{}/{id}", collection(family, org));
                let res = app.call(method.clone(), &path, &key.token, Some(&body)).await;
                assert_eq!(res.status(), 404, "{method} {path}");
                let mut error = json_of(res).await;
                assert_eq!(error["errors"][0]["code"], "ADMIN-404-5");
                error["errors"][0]["id"] = Value::Null;
                answers.push(error);
            }
            assert_eq!(answers[0], answers[1]);
            assert_eq!(answers[1], answers[2]);
        }
    }
    let name: String = sqlx::query_scalar("SELECT name FROM policies WHERE id = $1")
        .bind(theirs)
        .fetch_one(&app.pool)
        .await
        .expect("still there");
    assert_eq!(name, "arranged");
    let list = json_of(app.api(Method::GET, &collection("/admin/v1", org), &key.token).await).await;
    assert_eq!(list["data"], json!([]), "only the key's own org's policies are listed");
}

#[tokio::test]
async fn the_list_walks_with_its_cursor_and_filters_by_type() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let key = app.key(org, None).await;
    let mut ids = Vec::new();
    for days in 1..=7 {
        ids.push(lifetime_policy(&app, org, days).await.to_string());
    }
    let allow = insert_policy(&app, org, "ip-allowlist", json!({ "in": ["127.0.0.1/32"] })).await;
    ids.push(allow.to_string());

    let mut seen = Vec::new();
    let mut path = format!("{}?limit=3", collection("/admin/control/v2", org));
    for _ in 0..10 {
        let page = json_of(app.api(Method::GET, &path, &key.token).await).await;
        assert_eq!(page["meta"]["page_size"], 3);
        for item in page["data"].as_array().expect("data") {
            seen.push(item["id"].as_str().expect("id").to_owned());
        }
        match page["links"]["next"].as_str() {
            Some(next) => {
                assert!(next.contains("limit=3") && next.contains("cursor="), "{next}");
                assert_eq!(
                    Some(next.split("cursor=").nth(1).unwrap_or_default()),
                    page["meta"]["next"].as_str()
                );
                path = next.trim_start_matches(app.address.as_str()).to_owned();
            }
            None => break,
        }
    }
    assert_eq!(seen, ids, "each once, oldest first");

    let path = format!("{}?type=ip-allowlist", collection("/admin/v1", org));
    let page = json_of(app.api(Method::GET, &path, &key.token).await).await;
    assert_eq!(page["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(page["data"][0]["id"], allow.to_string());
}

#[tokio::test]
async fn an_allowlist_refuses_a_cached_key_from_outside_on_the_very_next_request_and_disabling_it_lets_the_key_in() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let other = app.org("Globex").await;
    let admin = app.key(org, None).await;
    let script = app.key(org, None).await;
    let theirs = app.key(other, None).await;
    assert_eq!(app.api(Method::GET, "/admin/v1/key", &script.token).await.status(), 200);

    // The tests call from 127.0.0.1: this list does not hold it.
    let res = app
        .call(
            Method::POST,
            &collection("/admin/v1", org),
            &admin.token,
            Some(&allowlist("Office", "enabled", &["192.0.2.0/24"])),
        )
        .await;
    assert_eq!(res.status(), 200, "the change itself is answered");
    let id = json_of(res).await["data"]["id"].as_str().expect("id").to_owned();
    for token in [&script.token, &admin.token] {
        let res = app.api(Method::GET, "/admin/v1/key", token).await;
        assert_eq!(res.status(), 403, "the very next request");
        let error = json_of(res).await;
        assert_eq!(error["errors"][0]["code"], "ADMIN-403-4");
    }
    assert_eq!(
        app.api(Method::GET, "/admin/v1/key", &theirs.token).await.status(),
        200,
        "another org's keys are not affected"
    );
    assert!(app.metric(r#"keyward_api_auth_total{outcome="address_refused"}"#).await >= 2.0);

    // The refusal is in the audit log, with the address, for the key that was refused.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let refused: Option<(String, Value)> = sqlx::query_as(
            "SELECT host(ip), details FROM audit_events WHERE action = 'api_key.rejected_use' AND target_id = $1",
        )
        .bind(script.id.to_string())
        .fetch_optional(&app.pool)
        .await
        .expect("events");
        if let Some((ip, details)) = refused {
            assert_eq!(ip, "127.0.0.1");
            assert_eq!(details["reason"], "address_not_allowed");
            break;
        }
        assert!(Instant::now() < deadline, "no refusal event");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The org's keys are locked out of the API; the operator's CLI is the way back in.
    let output = keyward()
        .env("DATABASE_URL", database_server().url(&app.db_name))
        .args(["policies", "disable", "--org", &org.to_string(), &id])
        .output()
        .expect("keyward policies disable");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let deadline = Instant::now() + Duration::from_secs(5);
    while app.api(Method::GET, "/admin/v1/key", &script.token).await.status() != 200 {
        assert!(
            Instant::now() < deadline,
            "still refused 5 s after the CLI disabled the list"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // A list that holds the caller's address admits it; a hit then reads no policy row.
    let path = format!("{}/{id}", collection("/admin/v1", org));
    let res = app
        .call(
            Method::PUT,
            &path,
            &admin.token,
            Some(&allowlist("Office", "enabled", &["192.0.2.0/24", "127.0.0.0/8"])),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(app.api(Method::GET, "/admin/v1/key", &script.token).await.status(), 200);
    // While the listener is trusted. A window in which it reconnected (a loaded machine can
    // make its heartbeat late, and then every request reads, as it must), or in which the PUT's
    // own notice arrived late and emptied the cache once, is tried again: a read per request
    // would read in every window.
    for attempt in 0.. {
        let last = attempt == 4;
        let reconnects = app.metric("keyward_revocation_listener_reconnects_total").await;
        assert_eq!(app.api(Method::GET, "/admin/v1/key", &script.token).await.status(), 200);
        let reads = app.metric("keyward_policy_reads_total").await;
        for _ in 0..20 {
            assert_eq!(app.api(Method::GET, "/admin/v1/key", &script.token).await.status(), 200);
        }
        let trusted = app.metric("keyward_revocation_listener_reconnects_total").await == reconnects
            && app.metric("keyward_revocation_listener_healthy").await == 1.0;
        let read_again = app.metric("keyward_policy_reads_total").await - reads;
        if trusted && read_again == 0.0 {
            break;
        }
        assert!(
            !last,
            "cached: no policy read per request (the last window read {read_again} times)"
        );
    }

    // Disabled through the API: admitted on the very next request.
    let res = app
        .call(
            Method::PUT,
            &path,
            &admin.token,
            Some(&allowlist("Office", "enabled", &["192.0.2.0/24"])),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(app.api(Method::GET, "/admin/v1/key", &script.token).await.status(), 403);
    assert_eq!(
        app.api(Method::DELETE, &path, &admin.token).await.status(),
        403,
        "the admin key too"
    );
    sqlx::query("UPDATE policies SET status = 'disabled' WHERE id = $1::uuid")
        .bind(&id)
        .execute(&app.pool)
        .await
        .expect("disable by hand");
    let deadline = Instant::now() + Duration::from_secs(5);
    while app.api(Method::GET, "/admin/v1/key", &script.token).await.status() != 200 {
        assert!(
            Instant::now() < deadline,
            "a change made by hand in psql reaches the instance too"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_instance_refuses_within_5_s_of_an_allowlist_change_and_admits_again_when_it_is_disabled() {
    let a = TestApp::spawn().await;
    let url = database_server().url(&a.db_name);
    let mut b = Server::start(
        vec!["--metrics-listen".into(), "127.0.0.1:0".into()],
        &[("DATABASE_URL", url.as_str())],
    );
    let (b_address, b_metrics) = (b.address(), b.metrics_address());
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let org = a.org("Acme").await;
    let admin = a.key(org, None).await;
    let script = a.key(org, None).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while metric_at(&b_metrics, "keyward_revocation_listener_healthy").await != 1.0 {
        assert!(Instant::now() < deadline, "B's listener never became healthy");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(key_status_at(&client, &b_address, &script.token).await, 200);
    assert_eq!(
        key_status_at(&client, &b_address, &script.token).await,
        200,
        "cached on B"
    );

    let res = a
        .call(
            Method::POST,
            &collection("/admin/control/v2", org),
            &admin.token,
            Some(&allowlist("Office", "enabled", &["192.0.2.0/24"])),
        )
        .await;
    let id = json_of(res).await["data"]["id"].as_str().expect("id").to_owned();
    let changed = Instant::now();
    while key_status_at(&client, &b_address, &script.token).await != 403 {
        assert!(
            changed.elapsed() < Duration::from_secs(5),
            "B still admits the key 5 s after the change"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        metric_at(&b_metrics, "keyward_policy_notices_total").await >= 1.0,
        "B heard the notice"
    );

    let disable = allowlist("Office", "disabled", &["192.0.2.0/24"]);
    let path = format!("{}/{id}", collection("/admin/control/v2", org));
    // A's own keys are refused now: the change is made as the operator would, by the CLI.
    assert_eq!(
        a.call(Method::PUT, &path, &admin.token, Some(&disable)).await.status(),
        403
    );
    let output = keyward()
        .env("DATABASE_URL", &url)
        .args(["policies", "disable", "--org", &org.to_string(), &id])
        .output()
        .expect("keyward policies disable");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let changed = Instant::now();
    while key_status_at(&client, &b_address, &script.token).await != 200 {
        assert!(
            changed.elapsed() < Duration::from_secs(5),
            "B still refuses 5 s after the list was disabled"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    b.stop();
}

#[test]
fn policies_disable_refuses_an_unknown_org_or_policy_with_one_line_and_status_2() {
    for args in [
        vec!["policies", "disable", "--org", "not-an-id", "also-not"],
        vec!["policies", "disable", "--org"],
    ] {
        let output = keyward().args(&args).output().expect("run keyward");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
    }
}

#[tokio::test]
async fn policies_disable_names_a_policy_the_org_does_not_have() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let other = app.org("Globex").await;
    let theirs = lifetime_policy(&app, other, 30).await;
    let output = keyward()
        .env("DATABASE_URL", database_server().url(&app.db_name))
        .args(["policies", "disable", "--org", &org.to_string(), &theirs.to_string()])
        .output()
        .expect("keyward policies disable");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("has no policy"), "{stderr}");
    let status: String = sqlx::query_scalar("SELECT status FROM policies WHERE id = $1")
        .bind(theirs)
        .fetch_one(&app.pool)
        .await
        .expect("status");
    assert_eq!(status, "enabled", "another org's policy is left alone");
}

fn days_between(from: &Value, to: &Value) -> f64 {
    let parse = |v: &Value| v.as_str().and_then(|s| s.parse::<DateTime<Utc>>().ok()).expect("time");
    (parse(to) - parse(from)).num_seconds() as f64 / 86_400.0
}

#[tokio::test]
async fn the_lifetime_policy_caps_what_the_api_creates_and_its_default() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let key = app.key(org, None).await;
    let keys = format!("/admin/api-access/v1/orgs/{org}/api-keys");
    lifetime_policy(&app, org, 7).await;
    lifetime_policy(&app, org, 90).await;

    let res = app
        .call(Method::POST, &keys, &key.token, Some(&json!({ "label": "default" })))
        .await;
    assert_eq!(res.status(), 201);
    let created = json_of(res).await;
    let days = days_between(&created["createdAt"], &created["expiresAt"]);
    assert!(
        (days - 7.0).abs() < 0.001,
        "the default is cut to the shortest policy: {days}"
    );

    let rows = app.count("api_keys").await;
    let asked = (Utc::now() + chrono::Duration::days(8)).to_rfc3339();
    let res = app
        .call(
            Method::POST,
            &keys,
            &key.token,
            Some(&json!({ "label": "too long", "expiresAt": asked })),
        )
        .await;
    assert_eq!(res.status(), 400);
    let error = json_of(res).await;
    assert_eq!(error["errors"][0]["code"], "ADMIN-400-3");
    assert!(
        error["errors"][0]["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("at most 7 days")
    );
    assert_eq!(app.count("api_keys").await, rows, "nothing written");

    let asked = (Utc::now() + chrono::Duration::days(6)).to_rfc3339();
    let res = app
        .call(
            Method::POST,
            &keys,
            &key.token,
            Some(&json!({ "label": "within", "expiresAt": asked })),
        )
        .await;
    assert_eq!(res.status(), 201);

    // Disabled, the policy caps nothing.
    sqlx::query("UPDATE policies SET status = 'disabled' WHERE org_id = $1")
        .bind(org)
        .execute(&app.pool)
        .await
        .expect("disable");
    let res = app
        .call(
            Method::POST,
            &keys,
            &key.token,
            Some(&json!({ "label": "default again" })),
        )
        .await;
    let created = json_of(res).await;
    let days = days_between(&created["createdAt"], &created["expiresAt"]);
    assert!((days - 30.0).abs() < 0.001, "{days}");
}

#[tokio::test]
async fn the_lifetime_policy_caps_what_the_cli_creates_and_its_default() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    lifetime_policy(&app, org, 10).await;
    let url = database_server().url(&app.db_name);
    let create = |extra: &[&str]| {
        let org = org.to_string();
        let args = ["keys", "create", "--org", &org, "--name", "cli key", "--unscoped"];
        keyward()
            .env("DATABASE_URL", &url)
            .args(args)
            .args(extra)
            .output()
            .expect("keyward keys create")
    };

    let output = create(&[]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let days: f64 = sqlx::query_scalar(
        "SELECT extract(epoch FROM expires_at - created_at)::float8 / 86400 FROM api_keys WHERE name = 'cli key' LIMIT 1",
    )
    .fetch_one(&app.pool)
    .await
    .expect("key");
    assert!(
        (days - 10.0).abs() < 0.001,
        "the CLI's default is cut to the policy: {days}"
    );

    let rows = app.count("api_keys").await;
    let month = (Utc::now() + chrono::Duration::days(30)).to_rfc3339();
    for extra in [&["--expires-in-days", "11"][..], &["--expires-at", &month]] {
        let output = create(extra);
        assert_eq!(output.status.code(), Some(2), "{extra:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("at most 10 days"), "{stderr}");
        let errors: Vec<&str> = stderr.lines().filter(|line| line.starts_with("keyward:")).collect();
        assert_eq!(errors.len(), 1, "one line says what is wrong: {stderr}");
    }
    assert_eq!(app.count("api_keys").await, rows, "nothing written");
    assert!(create(&["--expires-in-days", "10"]).status.success());
}

#[tokio::test]
async fn the_instance_that_changes_an_allowlist_applies_each_change_to_its_very_next_request() {
    let app = TestApp::spawn_with(behind_proxy()).await;
    let org = app.org("Acme").await;
    let admin = app.key(org, None).await;
    let script = app.key(org, None).await;
    let res = app
        .call(
            Method::POST,
            &collection("/admin/v1", org),
            &admin.token,
            Some(&allowlist("Office", "enabled", &["127.0.0.0/8"])),
        )
        .await;
    let path = format!(
        "{}/{}",
        collection("/admin/v1", org),
        json_of(res).await["data"]["id"].as_str().expect("id")
    );
    // Each round answers the change before the next request is sent: no notice is waited for.
    for round in 0..20 {
        let with_office = allowlist("Office", "enabled", &["127.0.0.0/8", "192.0.2.0/24"]);
        assert_eq!(
            app.call(Method::PUT, &path, &admin.token, Some(&with_office))
                .await
                .status(),
            200
        );
        assert_eq!(
            key_status_from(&app, &script.token, "192.0.2.7").await,
            200,
            "round {round}: admitted"
        );
        let without = allowlist("Office", "enabled", &["127.0.0.0/8"]);
        assert_eq!(
            app.call(Method::PUT, &path, &admin.token, Some(&without))
                .await
                .status(),
            200
        );
        assert_eq!(
            key_status_from(&app, &script.token, "192.0.2.7").await,
            403,
            "round {round}: refused"
        );
    }
}
