//! The org users list and search: exact wire shapes, a cursor walk that neither repeats nor
//! skips anyone, and the refusals every endpoint shares.

use std::collections::HashSet;

use chrono::{DateTime, TimeZone, Utc};
use keyward::domain::Scope;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{Redactions, TestApp, error_body, json_of};

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_790_000_000 + seconds, 0).single().expect("time")
}

/// The same answer for another org's id, an unknown id and a malformed one.
async fn assert_foreign_orgs_are_not_found(
    app: &TestApp,
    method: Method,
    path_for: impl Fn(&str) -> String,
    body: Option<Value>,
) {
    let key = app.key(app.org("Key's own").await, None).await;
    let other = app.org("Someone else's").await;
    let mut answers = Vec::new();
    for org in [other.to_string(), Uuid::new_v4().to_string(), "not-an-org".to_owned()] {
        let path = path_for(&org);
        let res = match &body {
            Some(body) => app.api_json(method.clone(), &path, &key.token, body).await,
            None => app.api(method.clone(), &path, &key.token).await,
        };
        assert_eq!(res.status(), 404, "{path}");
        answers.push(error_body(res).await);
    }
    assert_eq!(answers[0]["errors"][0]["code"], "ADMIN-404-2");
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
}

async fn assert_needs_scope(app: &TestApp, org: Uuid, method: Method, path: &str, body: Option<Value>, scope: Scope) {
    let others: Vec<Scope> = Scope::ALL.iter().copied().filter(|s| *s != scope).collect();
    let key = app.key(org, Some(&others)).await;
    let res = match &body {
        Some(body) => app.api_json(method, path, &key.token, body).await,
        None => app.api(method, path, &key.token).await,
    };
    assert_eq!(res.status(), 403, "{path}");
    assert_eq!(
        res.headers()["www-authenticate"],
        format!(r#"Bearer error="insufficient_scope", scope="{}""#, scope.name()).as_str()
    );
    let body = json_of(res).await;
    assert_eq!(body["errors"][0]["status"], "403");
}

#[tokio::test]
async fn the_users_list_answers_in_the_wire_shape() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let ada = app.user("ada@example.com", Some(org)).await;
    let bob = app.user("bob@example.com", None).await;
    app.member_at(org, ada, "admin", Some(at(0))).await;
    app.member_at(org, bob, "member", Some(at(1))).await;
    sqlx::query("UPDATE memberships SET suspended_at = now() WHERE user_id = $1")
        .bind(bob)
        .execute(&app.pool)
        .await
        .expect("suspend");
    let key = app.key(org, Some(&[Scope::ReadAccounts])).await;

    let res = app
        .api(Method::GET, &format!("/admin/v1/orgs/{org}/users"), &key.token)
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json;charset=UTF-8");
    let base = format!("{}/admin/v1/orgs/{org}/users", app.address);
    let redactions = Redactions::new(&app)
        .name(org, "acme")
        .name(ada, "ada")
        .name(bob, "bob");
    insta::assert_json_snapshot!("users_list", redactions.apply(json_of(res).await));

    let unscoped = app.key(org, None).await;
    let res = app
        .api(
            Method::GET,
            &format!("/admin/v1/orgs/{org}/users?limit=1"),
            &unscoped.token,
        )
        .await;
    assert_eq!(res.status(), 200, "an unscoped key may call it");
    let page = json_of(res).await;
    let next = page["links"]["next"].as_str().expect("a next link");
    assert!(next.starts_with(&format!("{base}?cursor=")), "{next}");
    let next_path = next.strip_prefix(&app.address).expect("same server");
    let second = json_of(app.api(Method::GET, next_path, &unscoped.token).await).await;
    assert_eq!(second["data"][0]["account_id"], bob.to_string());
    assert_eq!(second["links"]["next"], Value::Null);
    assert_eq!(second["meta"]["total"], 2);
}

#[tokio::test]
async fn the_users_list_refuses_what_it_cannot_serve() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    assert_needs_scope(
        &app,
        org,
        Method::GET,
        &format!("/admin/v1/orgs/{org}/users"),
        None,
        Scope::ReadAccounts,
    )
    .await;
    assert_foreign_orgs_are_not_found(&app, Method::GET, |o| format!("/admin/v1/orgs/{o}/users"), None).await;

    let key = app.key(org, None).await;
    for (query, code) in [
        ("cursor=not-a-cursor", "ADMIN-400-1"),
        ("cursor=00", "ADMIN-400-1"),
        ("limit=0", "ADMIN-400-24"),
        ("limit=51", "ADMIN-400-24"),
    ] {
        let res = app
            .api(Method::GET, &format!("/admin/v1/orgs/{org}/users?{query}"), &key.token)
            .await;
        assert_eq!(res.status(), 400, "{query}");
        let body = json_of(res).await;
        assert_eq!(body["errors"][0]["code"], code, "{query}");
        assert_eq!(body["errors"][0]["status"], "400", "{query}");
    }
}

#[tokio::test]
async fn walking_250_users_with_shared_timestamps_and_inserts_between_pages_sees_each_once() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    // 250 members in one statement: ten share each of 25 timestamps.
    let originals: Vec<Uuid> = sqlx::query_scalar(
        "WITH new AS (
             INSERT INTO users (id, email, display_name)
             SELECT gen_random_uuid(), 'user' || n || '@example.com', 'User ' || n FROM generate_series(1, 250) n
             RETURNING id, email)
         INSERT INTO memberships (org_id, user_id, role, created_at)
         SELECT $1, id, 'member', timestamptz '2026-11-01 00:00:00Z'
                + make_interval(secs => (split_part(split_part(email, '@', 1), 'r', 2)::int % 25))
         FROM new
         RETURNING user_id",
    )
    .bind(org)
    .fetch_all(&app.pool)
    .await
    .expect("members");
    assert_eq!(originals.len(), 250);
    let key = app.key(org, Some(&[Scope::ReadAccounts])).await;

    let mut seen = Vec::new();
    let mut path = format!("/admin/v1/orgs/{org}/users?limit=37");
    let mut pages = 0;
    loop {
        let page = json_of(app.api(Method::GET, &path, &key.token).await).await;
        let data = page["data"].as_array().expect("data");
        assert!(data.len() <= 37);
        seen.extend(data.iter().map(|u| u["account_id"].as_str().expect("id").to_owned()));
        pages += 1;
        // Someone joins between pages: at a shared timestamp already walked past, and now.
        let late = app.user(&format!("late{pages}@example.com"), None).await;
        app.member(org, late, "member").await;
        let early = app.user(&format!("early{pages}@example.com"), None).await;
        app.member_at(
            org,
            early,
            "member",
            Some("2026-11-01T00:00:00Z".parse().expect("time")),
        )
        .await;
        match page["links"]["next"].as_str() {
            Some(next) => path = next.strip_prefix(&app.address).expect("same server").to_owned(),
            None => break,
        }
        assert!(pages < 50, "the walk ends");
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no one twice");
    for id in &originals {
        assert!(unique.contains(&id.to_string()), "{id} missing");
    }
}

#[tokio::test]
async fn the_users_search_filters_and_pages_with_a_bare_cursor() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let ada = app.user("ada@acme.example", Some(org)).await;
    let bob = app.user("bob@acme.example", None).await;
    let cat = app.user("cat@other.example", None).await;
    app.member_at(org, ada, "admin", Some(at(0))).await;
    app.member_at(org, bob, "member", Some(at(1))).await;
    app.member_at(org, cat, "member", Some(at(2))).await;
    sqlx::query("UPDATE users SET nickname = 'Bobby', status = 'disabled' WHERE id = $1")
        .bind(bob)
        .execute(&app.pool)
        .await
        .expect("nickname");
    let key = app.key(org, Some(&[Scope::ReadAccounts])).await;
    let path = format!("/admin/v1/orgs/{org}/users/search");

    let res = app
        .api_json(
            Method::POST,
            &path,
            &key.token,
            &json!({ "emailDomains": ["ACME.example"], "limit": 1 }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let page = json_of(res).await;
    assert_eq!(
        page["data"],
        json!([{
            "accountId": ada, "accountType": "atlassian", "accountStatus": "active",
            "membershipStatus": "active", "claimStatus": "managed", "name": "ada", "nickname": null,
            "email": "ada@acme.example", "addedToOrg": "2026-09-21T14:13:20Z", "lastActive": null,
        }])
    );
    let cursor = page["links"]["next"].as_str().expect("a bare cursor");
    assert!(!cursor.contains('/') && !cursor.contains('='), "{cursor}");
    let second = json_of(
        app.api_json(
            Method::POST,
            &path,
            &key.token,
            &json!({ "emailDomains": ["acme.example"], "limit": 1, "cursor": cursor }),
        )
        .await,
    )
    .await;
    assert_eq!(second["data"][0]["accountId"], bob.to_string());
    assert_eq!(second["data"][0]["accountStatus"], "inactive");
    assert_eq!(second["data"][0]["nickname"], "Bobby");
    assert_eq!(second["links"], json!({ "next": null }));

    // The GET form, as the Python client sends it: arrays repeated or comma-joined, True.
    let by_query = json_of(
        app.api(
            Method::GET,
            &format!("{path}?accountStatuses=active&accountStatuses=inactive&nameOrNicknames=bobb,zed&limit=10000&isSuspended=False"),
            &key.token,
        )
        .await,
    )
    .await;
    let ids: Vec<&str> = by_query["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|u| u["accountId"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, [bob.to_string()]);

    let suspended = json_of(
        app.api(Method::GET, &format!("{path}?isSuspended=True"), &key.token)
            .await,
    )
    .await;
    assert_eq!(suspended["data"], json!([]));
    let by_id = json_of(
        app.api_json(
            Method::POST,
            &path,
            &key.token,
            &json!({ "accountIds": [cat.to_string(), "557058:not-ours"] }),
        )
        .await,
    )
    .await;
    assert_eq!(by_id["data"][0]["accountId"], cat.to_string());
    assert_eq!(by_id["data"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn the_users_search_refuses_what_it_cannot_serve() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let path = format!("/admin/v1/orgs/{org}/users/search");
    assert_needs_scope(&app, org, Method::POST, &path, Some(json!({})), Scope::ReadAccounts).await;
    assert_needs_scope(&app, org, Method::GET, &path, None, Scope::ReadAccounts).await;
    assert_foreign_orgs_are_not_found(
        &app,
        Method::POST,
        |o| format!("/admin/v1/orgs/{o}/users/search"),
        Some(json!({})),
    )
    .await;
    assert_foreign_orgs_are_not_found(&app, Method::GET, |o| format!("/admin/v1/orgs/{o}/users/search"), None).await;

    let key = app.key(org, None).await;
    let before = app.people_snapshot().await;
    for body in [
        json!({ "accountStatuses": ["sleeping"] }),
        json!({ "accountTypes": ["robot"] }),
        json!({ "cursor": "nonsense" }),
        json!({ "limit": 0 }),
        json!({ "isSuspended": "perhaps" }),
    ] {
        let res = app.api_json(Method::POST, &path, &key.token, &body).await;
        assert_eq!(res.status(), 400, "{body}");
        let answer = json_of(res).await;
        assert_eq!(answer["errors"][0]["status"], "400", "{body}");
    }
    let res = app
        .api(Method::GET, &format!("{path}?accountStatuses=sleeping"), &key.token)
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(json_of(res).await["errors"][0]["code"], "ADMIN-400-24");
    assert_eq!(app.people_snapshot().await, before, "a search writes nothing");
}
