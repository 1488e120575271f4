//! The events API over the audit log: the wire shape of an event, the list's filters, the
//! cursor walks (no event repeated or skipped while new ones arrive), the stream, one event,
//! and the catalog of actions; always the key's own org only.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use keyward::domain::{Action, Scope};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{Redactions, TestApp, error_body};

const PATHS: [&str; 4] = ["events", "events/{eventId}", "events-stream", "event-actions"];

/// A fixed moment, a whole millisecond, long before anything the test app writes itself.
fn base() -> DateTime<Utc> {
    "2026-06-01T00:00:00Z".parse().expect("time")
}

/// `count` events of `org` in one statement, five to a millisecond from `base()` on (as a bulk
/// revocation writes several with one time), each with `{"n": i}` in its details.
async fn bulk(app: &TestApp, org: Uuid, count: i32) -> Vec<Uuid> {
    sqlx::query_scalar(
        "INSERT INTO audit_events (id, org_id, time, actor_kind, action, target_kind, target_id, details)
         SELECT gen_random_uuid(), $1, $2::timestamptz + (i / 5) * interval '1 millisecond', 'system',
                'api_key.revoked', 'api_key', 'bulk-' || i, jsonb_build_object('n', i)
         FROM generate_series(0, $3 - 1) AS i
         RETURNING id",
    )
    .bind(org)
    .bind(base())
    .bind(count)
    .fetch_all(&app.pool)
    .await
    .expect("events")
}

/// One event recorded now, as a new change would be.
async fn fresh(app: &TestApp, org: Uuid) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO audit_events (id, org_id, actor_kind, action) VALUES (gen_random_uuid(), $1, 'system', 'user.created')
         RETURNING id",
    )
    .bind(org)
    .fetch_one(&app.pool)
    .await
    .expect("event")
}

struct Arranged {
    app: TestApp,
    org: Uuid,
    other: Uuid,
    token: String,
}

async fn arrange() -> Arranged {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let other = app.org("Globex").await;
    let token = app.key(org, Some(&[Scope::ReadEvents])).await.token;
    Arranged { app, org, other, token }
}

impl Arranged {
    async fn get(&self, path: &str) -> Value {
        let res = self.app.api(Method::GET, path, &self.token).await;
        assert_eq!(res.status(), 200, "{path}");
        res.json().await.expect("JSON")
    }

    fn events(&self, query: &str) -> String {
        format!("/admin/v2/orgs/{}/events?{query}", self.org)
    }

    /// The ids a list answers, all pages followed.
    async fn ids(&self, first: &str) -> Vec<String> {
        let mut ids = Vec::new();
        let mut next = Some(first.to_owned());
        while let Some(path) = next {
            let page = self.get(&path).await;
            ids.extend(
                page["data"]
                    .as_array()
                    .expect("data")
                    .iter()
                    .map(|e| e["id"].as_str().expect("id").to_owned()),
            );
            next = page["links"]["next"]
                .as_str()
                .map(|url| url.strip_prefix(&self.app.address).expect("own URL").to_owned());
        }
        ids
    }
}

#[tokio::test]
async fn an_event_names_its_actor_target_organization_and_origin_in_the_wire_shape() {
    let a = arrange().await;
    let user = a.app.user("ada@acme.example", Some(a.org)).await;
    let target = a.app.user("bob@acme.example", Some(a.org)).await;
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO audit_events (id, org_id, time, actor_kind, actor_id, action, target_kind, target_id, ip, user_agent, details)
         VALUES ($1, $2, $3, 'user', $4, 'membership.suspended', 'user', $5, '203.0.113.9', 'curl/8.5', '{\"via\":\"api\"}')",
    )
    .bind(id)
    .bind(a.org)
    .bind(base())
    .bind(user)
    .bind(target.to_string())
    .execute(&a.app.pool)
    .await
    .expect("event");
    let org = a.org;
    let redactions = Redactions::new(&a.app)
        .name(org, "org")
        .name(id, "event")
        .name(user, "ada")
        .name(target, "bob")
        .name("2026-06-01T00:00:00Z", "2026-06-01T00:00:00Z");
    let page = a.get(&a.events("action=membership.suspended")).await;
    insta::assert_json_snapshot!("event_in_a_page", redactions.apply(page.clone()));
    let one = a.get(&format!("/admin/v2/orgs/{org}/events/{id}")).await;
    assert_eq!(one["data"], page["data"][0], "one event reads as it is listed");
    insta::assert_json_snapshot!("one_event", redactions.apply(one));
    let address = &a.app.address;
    // The v1 path answers the same event, its links on v1.
    let v1 = a.get(&format!("/admin/v1/orgs/{org}/events/{id}")).await;
    assert_eq!(
        v1["data"]["links"]["self"],
        format!("{address}/admin/v1/orgs/{org}/events/{id}")
    );
}

#[tokio::test]
async fn a_key_is_named_by_its_id_and_name_and_keyward_itself_as_system() {
    let a = arrange().await;
    let key = a.app.key(a.org, None).await;
    let victim = a.app.key(a.org, None).await;
    let revoke = format!("/admin/api-access/v1/orgs/{}/api-keys/revoke/{}", a.org, victim.id);
    assert_eq!(a.app.api(Method::PATCH, &revoke, &key.token).await.status(), 204);
    let page = a.get(&a.events("action=api_key.revoked")).await;
    let actor = &page["data"][0]["attributes"]["actor"];
    assert_eq!(
        *actor,
        json!({ "id": key.id, "name": "test key", "email": null, "type": "api_key", "links": { "self": null } })
    );
    // The test harness creates keys as the system.
    let page = a.get(&a.events("action=api_key.created")).await;
    assert_eq!(
        page["data"][0]["attributes"]["actor"],
        json!({ "id": "system", "name": "keyward", "email": null, "type": "system", "links": { "self": null } })
    );
}

#[tokio::test]
async fn the_walk_over_250_events_sharing_timestamps_repeats_and_misses_none_while_new_ones_arrive() {
    let a = arrange().await;
    let existing: HashSet<String> = bulk(&a.app, a.org, 250).await.iter().map(Uuid::to_string).collect();
    let strangers: HashSet<String> = bulk(&a.app, a.other, 50).await.iter().map(Uuid::to_string).collect();
    let mut seen = Vec::new();
    let mut next = Some(a.events("limit=37"));
    let mut pages = 0;
    while let Some(path) = next {
        let page = a.get(&path).await;
        assert_eq!(page["meta"]["page_size"], 37);
        for event in page["data"].as_array().expect("data") {
            seen.push(event["id"].as_str().expect("id").to_owned());
        }
        assert_eq!(page["meta"]["next"].is_null(), page["links"]["next"].is_null());
        next = page["links"]["next"].as_str().map(|url| {
            assert!(url.contains("cursor=") && url.contains("limit=37"), "{url}");
            url.strip_prefix(&a.app.address).expect("own URL").to_owned()
        });
        // New events arrive at the top while the walk goes on.
        fresh(&a.app, a.org).await;
        fresh(&a.app, a.org).await;
        pages += 1;
    }
    assert!(pages >= 7, "{pages} pages");
    let distinct: HashSet<&String> = seen.iter().collect();
    assert_eq!(distinct.len(), seen.len(), "no event twice");
    let missing: Vec<&String> = existing.iter().filter(|id| !distinct.contains(id)).collect();
    assert!(missing.is_empty(), "missing {missing:?}");
    assert!(seen.iter().all(|id| !strangers.contains(id)), "another org's event");
}

#[tokio::test]
async fn the_stream_walks_oldest_first_and_picks_up_what_arrives_meanwhile() {
    let a = arrange().await;
    let existing: Vec<String> = {
        let mut rows: Vec<(DateTime<Utc>, Uuid)> = Vec::new();
        for id in bulk(&a.app, a.org, 250).await {
            let time: DateTime<Utc> = sqlx::query_scalar("SELECT time FROM audit_events WHERE id = $1")
                .bind(id)
                .fetch_one(&a.app.pool)
                .await
                .expect("time");
            rows.push((time, id));
        }
        rows.sort();
        rows.iter().map(|(_, id)| id.to_string()).collect()
    };
    bulk(&a.app, a.other, 20).await;
    let mut seen = Vec::new();
    let mut times = Vec::new();
    let mut arrived = Vec::new();
    let mut next = Some(format!("/admin/v1/orgs/{}/events-stream?limit=40", a.org));
    while let Some(path) = next {
        let page = a.get(&path).await;
        for event in page["data"].as_array().expect("data") {
            seen.push(event["id"].as_str().expect("id").to_owned());
            times.push(
                event["attributes"]["time"]
                    .as_str()
                    .expect("time")
                    .parse::<DateTime<Utc>>()
                    .expect("time"),
            );
        }
        next = page["links"]["next"]
            .as_str()
            .map(|url| url.strip_prefix(&a.app.address).expect("own URL").to_owned());
        if arrived.len() < 3 {
            arrived.push(fresh(&a.app, a.org).await.to_string());
        }
    }
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "oldest first");
    let distinct: HashSet<&String> = seen.iter().collect();
    assert_eq!(distinct.len(), seen.len(), "no event twice");
    // The 250 first, in (time, id) order; then the test key's creation and what arrived.
    assert_eq!(seen[..250], existing[..]);
    assert!(
        arrived.iter().all(|id| distinct.contains(id)),
        "what arrived meanwhile is streamed too"
    );
    let desc = a
        .get(&format!(
            "/admin/v1/orgs/{}/events-stream?sortOrder=desc&limit=500",
            a.org
        ))
        .await;
    let newest: Vec<&str> = desc["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|e| e["id"].as_str().expect("id"))
        .collect();
    assert_eq!(newest.len(), seen.len());
    assert_eq!(
        newest.last().copied(),
        Some(existing[0].as_str()),
        "desc ends with the oldest"
    );
}

#[tokio::test]
async fn from_is_inclusive_and_to_exclusive_in_epoch_milliseconds_and_rfc_3339_alike() {
    let a = arrange().await;
    bulk(&a.app, a.org, 250).await;
    bulk(&a.app, a.other, 250).await;
    let (from, to) = (base() + Duration::milliseconds(10), base() + Duration::milliseconds(20));
    let millis = a
        .ids(&a.events(&format!(
            "from={}&to={}",
            from.timestamp_millis(),
            to.timestamp_millis()
        )))
        .await;
    let rfc = a
        .ids(&a.events(&format!(
            "from={}&to={}",
            urlencode(&from.to_rfc3339()),
            urlencode(&to.to_rfc3339())
        )))
        .await;
    assert_eq!(millis, rfc);
    // 10 milliseconds of five events each: 10 ms itself included, 20 ms not.
    let expected: HashSet<String> =
        sqlx::query_scalar("SELECT id::text FROM audit_events WHERE org_id = $1 AND time >= $2 AND time < $3")
            .bind(a.org)
            .bind(from)
            .bind(to)
            .fetch_all(&a.app.pool)
            .await
            .expect("ids")
            .into_iter()
            .collect();
    assert_eq!(expected.len(), 50);
    assert_eq!(millis.iter().cloned().collect::<HashSet<_>>(), expected);
    let stream = format!(
        "/admin/v1/orgs/{}/events-stream?from={}&to={}&limit=500",
        a.org,
        from.timestamp_millis(),
        urlencode(&to.to_rfc3339())
    );
    let page = a.get(&stream).await;
    assert_eq!(page["data"].as_array().expect("data").len(), 50);
}

fn urlencode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Inserts one event of `org` with these fields.
async fn event(
    app: &TestApp,
    org: Uuid,
    actor: Option<Uuid>,
    action: &str,
    ip: Option<&str>,
    details: Value,
) -> String {
    sqlx::query_scalar(
        "INSERT INTO audit_events (id, org_id, actor_kind, actor_id, action, target_kind, target_id, ip, details)
         VALUES (gen_random_uuid(), $1, CASE WHEN $2::uuid IS NULL THEN 'system' ELSE 'user' END::actor_kind, $2, $3,
                 'user', 'target-of-' || $3, $4::inet, $5)
         RETURNING id::text",
    )
    .bind(org)
    .bind(actor)
    .bind(action)
    .bind(ip)
    .bind(details)
    .fetch_one(&app.pool)
    .await
    .expect("event")
}

fn set(ids: &[&String]) -> HashSet<String> {
    ids.iter().map(|id| (*id).clone()).collect()
}

#[tokio::test]
async fn the_filters_select_by_action_actor_address_and_text_within_the_org_only() {
    let a = arrange().await;
    let ada = a.app.user("ada@acme.example", Some(a.org)).await;
    let bob = a.app.user("bob@acme.example", Some(a.org)).await;
    let suspended = event(
        &a.app,
        a.org,
        Some(ada),
        "membership.suspended",
        Some("10.1.2.3"),
        json!({}),
    )
    .await;
    let restored = event(
        &a.app,
        a.org,
        Some(bob),
        "membership.restored",
        Some("10.9.9.9"),
        json!({}),
    )
    .await;
    let removed = event(
        &a.app,
        a.org,
        None,
        "membership.removed",
        Some("2001:db8::1"),
        json!({"note": "Offboarding Zed"}),
    )
    .await;
    // The other org's events match every filter, and never appear.
    for action in ["membership.suspended", "membership.restored", "membership.removed"] {
        event(
            &a.app,
            a.other,
            Some(ada),
            action,
            Some("10.1.2.3"),
            json!({"note": "Offboarding Zed"}),
        )
        .await;
    }
    let ids = |query: String| {
        let a = &a;
        async move { a.ids(&a.events(&query)).await.into_iter().collect::<HashSet<String>>() }
    };
    let two = set(&[&suspended, &restored]);
    assert_eq!(
        ids("action=membership.suspended&action=membership.restored".into()).await,
        two
    );
    assert_eq!(ids("action=membership.suspended,membership.restored".into()).await, two);
    assert_eq!(ids(format!("actor={ada}")).await, set(&[&suspended]));
    assert_eq!(
        ids("actor=system&action=membership.removed".into()).await,
        set(&[&removed])
    );
    assert_eq!(ids("ip=10.1.2.3".into()).await, set(&[&suspended]));
    assert_eq!(ids("ip=10.0.0.0/8".into()).await, two);
    assert_eq!(ids("ip=2001:db8::1".into()).await, set(&[&removed]));
    // q: the actor's email, the details, the action, the target, case-insensitively.
    assert_eq!(ids("q=BOB@acme".into()).await, set(&[&restored]));
    assert_eq!(ids("q=offboarding zed".into()).await, set(&[&removed]));
    assert_eq!(ids("q=target-of-membership.sus".into()).await, set(&[&suspended]));
    assert_eq!(ids("q=restored".into()).await, set(&[&restored]));
    assert_eq!(ids("q=100%25".into()).await, HashSet::new(), "% matches itself");
    // Filters combine, and the next link keeps them.
    let page = a
        .get(&a.events("action=membership.suspended,membership.restored&ip=10.0.0.0/8&limit=1"))
        .await;
    let next = page["links"]["next"].as_str().expect("a second page");
    for kept in [
        "action=membership.suspended%2Cmembership.restored",
        "ip=10.0.0.0%2F8",
        "limit=1",
    ] {
        assert!(next.contains(kept), "{next} keeps {kept}");
    }
}

#[tokio::test]
async fn bad_cursors_times_limits_and_filters_are_400s_that_write_nothing() {
    let a = arrange().await;
    bulk(&a.app, a.org, 5).await;
    let before = a.app.count("audit_events").await;
    let org = a.org;
    let cases: Vec<(String, &str)> = vec![
        (format!("/admin/v2/orgs/{org}/events?cursor=zz"), "ADMIN-400-1"),
        (
            format!("/admin/v1/orgs/{org}/events-stream?cursor=nothing"),
            "ADMIN-400-1",
        ),
        (format!("/admin/v2/orgs/{org}/events?from=yesterday"), "ADMIN-400-3"),
        (
            format!("/admin/v2/orgs/{org}/events?to=2026-13-01T00:00:00Z"),
            "ADMIN-400-3",
        ),
        (format!("/admin/v1/orgs/{org}/events-stream?from=12ms"), "ADMIN-400-3"),
        (format!("/admin/v2/orgs/{org}/events-stream?to=-1"), "ADMIN-400-3"),
        (format!("/admin/v2/orgs/{org}/events?limit=51"), "ADMIN-400-24"),
        (format!("/admin/v2/orgs/{org}/events?limit=0"), "ADMIN-400-24"),
        (format!("/admin/v2/orgs/{org}/events?limit=many"), "ADMIN-400-24"),
        (format!("/admin/v1/orgs/{org}/events-stream?limit=501"), "ADMIN-400-24"),
        (
            format!("/admin/v1/orgs/{org}/events-stream?sortOrder=sideways"),
            "ADMIN-400-24",
        ),
        (
            format!("/admin/v2/orgs/{org}/events?action=api_key.deleted"),
            "ADMIN-400-24",
        ),
        (format!("/admin/v2/orgs/{org}/events?actor=ada"), "ADMIN-400-24"),
        (format!("/admin/v2/orgs/{org}/events?ip=10.0.0.300"), "ADMIN-400-24"),
    ];
    for (path, code) in cases {
        let res = a.app.api(Method::GET, &path, &a.token).await;
        assert_eq!(res.status(), 400, "{path}");
        assert_eq!(error_body(res).await["errors"][0]["code"], code, "{path}");
    }
    assert_eq!(a.app.count("audit_events").await, before);
    // The limits themselves are fine.
    let page = a.get(&format!("/admin/v1/orgs/{org}/events-stream?limit=500")).await;
    assert_eq!(page["meta"]["page_size"], 500);
    let page = a.get(&format!("/admin/v2/orgs/{org}/events?limit=50")).await;
    assert_eq!(page["meta"]["page_size"], 50);
}

#[tokio::test]
async fn another_orgs_event_and_a_malformed_id_are_answered_as_an_unknown_event() {
    let a = arrange().await;
    let theirs = bulk(&a.app, a.other, 1).await[0];
    let mut answers = Vec::new();
    for id in [theirs.to_string(), Uuid::new_v4().to_string(), "not-an-id".to_owned()] {
        let res = a
            .app
            .api(Method::GET, &format!("/admin/v2/orgs/{}/events/{id}", a.org), &a.token)
            .await;
        assert_eq!(res.status(), 404, "{id}");
        answers.push(error_body(res).await);
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0], answers[2]);
    assert_eq!(answers[0]["errors"][0]["code"], "ADMIN-404-4");
}

#[tokio::test]
async fn event_actions_list_the_whole_catalog_with_display_and_group_names() {
    let a = arrange().await;
    for version in ["v1", "v2"] {
        let body = a.get(&format!("/admin/{version}/orgs/{}/event-actions", a.org)).await;
        let data = body["data"].as_array().expect("data");
        assert_eq!(data.len(), Action::ALL.len());
        assert!(data.contains(&json!({
            "id": "api_key.rejected_use", "type": "event-actions",
            "attributes": { "displayName": "API key use refused", "groupDisplayName": "API keys" }
        })));
        let ids: HashSet<&str> = data.iter().map(|item| item["id"].as_str().expect("id")).collect();
        for coming in ["domain.verified", "policy.deleted", "classification_level.reordered"] {
            assert!(ids.contains(coming), "{coming}");
        }
    }
}

#[tokio::test]
async fn every_action_in_the_log_is_in_the_catalog() {
    // Everything keyward wrote while tests here ran: creating keys, revoking them.
    let a = arrange().await;
    let key = a.app.key(a.org, None).await;
    let revoke = format!("/admin/api-access/v1/orgs/{}/api-keys/revoke/{}", a.org, key.id);
    let all = a.app.key(a.org, None).await;
    assert_eq!(a.app.api(Method::PATCH, &revoke, &all.token).await.status(), 204);
    let actions: Vec<String> = sqlx::query_scalar("SELECT DISTINCT action FROM audit_events")
        .fetch_all(&a.app.pool)
        .await
        .expect("actions");
    for action in actions {
        assert!(action.parse::<Action>().is_ok(), "{action}");
    }
}

#[tokio::test]
async fn a_keys_whole_life_is_in_the_events_created_revoked_and_refused_uses() {
    let a = arrange().await;
    let admin = a.app.key(a.org, None).await;
    let created = a
        .app
        .api_json(
            Method::POST,
            &format!("/admin/api-access/v1/orgs/{}/api-keys", a.org),
            &admin.token,
            &json!({ "label": "integration" }),
        )
        .await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.expect("JSON");
    let (id, token) = (
        created["id"].as_str().expect("id"),
        created["token"].as_str().expect("token"),
    );
    let revoke = format!("/admin/api-access/v1/orgs/{}/api-keys/revoke/{id}", a.org);
    assert_eq!(a.app.api(Method::PATCH, &revoke, &admin.token).await.status(), 204);
    assert_eq!(a.app.api(Method::GET, "/admin/v1/key", token).await.status(), 401);
    let query = a.events(&format!(
        "q={id}&action=api_key.created,api_key.revoked,api_key.rejected_use"
    ));
    let mut actions = Vec::new();
    for _ in 0..50 {
        let page = a.get(&query).await;
        actions = page["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|e| e["attributes"]["action"].as_str().expect("action").to_owned())
            .collect();
        if actions.len() == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(actions, ["api_key.rejected_use", "api_key.revoked", "api_key.created"]);
}

#[tokio::test]
async fn every_events_endpoint_needs_its_scope_and_stays_in_the_keys_org() {
    let a = arrange().await;
    let ours = bulk(&a.app, a.org, 1).await[0];
    let without = a.app.key(a.org, Some(&[Scope::ReadOrgs, Scope::ReadKeys])).await;
    let unscoped = a.app.key(a.org, None).await;
    for version in ["v1", "v2"] {
        for path in PATHS {
            let path = path.replace("{eventId}", &ours.to_string());
            let own = format!("/admin/{version}/orgs/{}/{path}", a.org);
            assert_eq!(a.app.api(Method::GET, &own, &a.token).await.status(), 200, "{own}");
            assert_eq!(
                a.app.api(Method::GET, &own, &unscoped.token).await.status(),
                200,
                "{own}"
            );
            let refused = a.app.api(Method::GET, &own, &without.token).await;
            assert_eq!(refused.status(), 403, "{own}");
            assert_eq!(
                refused.headers()["www-authenticate"],
                r#"Bearer error="insufficient_scope", scope="read:events:admin""#
            );
            let mut answers = Vec::new();
            for org in [a.other, Uuid::new_v4()] {
                let res = a
                    .app
                    .api(Method::GET, &format!("/admin/{version}/orgs/{org}/{path}"), &a.token)
                    .await;
                assert_eq!(res.status(), 404);
                answers.push(error_body(res).await);
            }
            assert_eq!(answers[0], answers[1]);
            assert_eq!(answers[0]["errors"][0]["code"], "ADMIN-404-2");
        }
    }
}
