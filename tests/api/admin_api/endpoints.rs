//! The endpoint table, held to the wire format from outside: every endpoint of Atlassian's admin
//! APIs in the families keyward covers is in it and answers, the OpenAPI document is public and
//! names each endpoint's scope, and every scoped endpoint refuses a key without its scope and
//! confines a key to its own org, whatever the handler does.

use keyward::api::endpoints::{Access, ENDPOINTS, Endpoint};
use keyward::console::catalog::api::{SUMMARIES, endpoint_summary_ja};
use keyward::domain::Scope;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{Answer, TestApp};

/// `GET /admin/v1/orgs/{orgId}` → ("GET", "/admin/v1/orgs/{}"): parameter names aside.
fn shape(method: &str, path: &str) -> (String, String) {
    let path: Vec<&str> = path
        .split('/')
        .map(|segment| if segment.starts_with('{') { "{}" } else { segment })
        .collect();
    (method.to_ascii_uppercase(), path.join("/"))
}

fn fixture() -> Vec<(String, String)> {
    include_str!("../fixtures/atlassian_endpoints.txt")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (method, path) = line.split_once(' ').expect("METHOD PATH");
            shape(method, path)
        })
        .collect()
}

fn table() -> Vec<(String, String)> {
    ENDPOINTS
        .iter()
        .map(|e| shape(e.method.http().as_str(), e.path))
        .collect()
}

#[test]
fn the_table_has_every_endpoint_of_the_wire_format_in_its_families() {
    let table = table();
    let missing: Vec<String> = fixture()
        .into_iter()
        .filter(|endpoint| !table.contains(endpoint))
        .map(|(method, path)| format!("{method} {path}"))
        .collect();
    assert!(missing.is_empty(), "not in the endpoint table: {missing:#?}");
}

/// What a test needs to fill every path of the table.
struct World {
    app: TestApp,
    org: Uuid,
    other_org: Uuid,
    /// A member of `org` whom the calls may act on.
    member: Uuid,
    /// A member of `other_org` only.
    stranger: Uuid,
    key_id: Uuid,
    /// A domain `org` claims.
    domain: Uuid,
    /// A draft classification level of `org`.
    level: Uuid,
}

/// A member of `org` in `role`, whose account `org` manages.
async fn user(app: &TestApp, org: Uuid, email: &str, role: &str) -> Uuid {
    let id = app.user(email, Some(org)).await;
    app.member(org, id, role).await;
    id
}

async fn world() -> World {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let other_org = app.org("Globex").await;
    user(&app, org, "owner@acme.example", "admin").await;
    let member = user(&app, org, "member@acme.example", "member").await;
    user(&app, other_org, "owner@globex.example", "admin").await;
    let stranger = user(&app, other_org, "stranger@globex.example", "member").await;
    let key_id = app.key(org, Some(&[Scope::ReadOrgs])).await.id;
    let domain = app.domain(org, "acme.example", true).await;
    let level = app.level(org, "Internal").await;
    World {
        app,
        org,
        other_org,
        member,
        stranger,
        key_id,
        domain,
        level,
    }
}

impl World {
    /// The endpoint's path with its parameters filled: `org` for `{orgId}`, `account` for
    /// `{accountId}`, the org's own directory and a key of the org.
    async fn path(&self, endpoint: &Endpoint, org: Uuid, account: Uuid, token: &str) -> String {
        let mut path = endpoint.path.to_owned();
        if path.contains("{directoryId}") {
            path = path.replace("{directoryId}", &self.directory(token).await);
        }
        if path.contains("{policyId}") {
            // A policy of its own for each call, so a DELETE leaves the next call one to act on.
            let policy = crate::harness::arranged::lifetime_policy(&self.app, self.org, 365).await;
            path = path.replace("{policyId}", &policy.to_string());
        }
        if path.contains("{eventId}") {
            path = path.replace("{eventId}", &self.event().await.to_string());
        }
        path.replace("{orgId}", &org.to_string())
            .replace("{accountId}", &account.to_string())
            .replace("{apiKeyId}", &self.key_id.to_string())
            .replace("{domainId}", &self.domain.to_string())
            .replace("{levelId}", &self.level.to_string())
    }

    /// An event of `org` (its key's creation).
    async fn event(&self) -> Uuid {
        sqlx::query_scalar("SELECT id FROM audit_events WHERE org_id = $1 LIMIT 1")
            .bind(self.org)
            .fetch_one(&self.app.pool)
            .await
            .expect("an event of the org")
    }

    async fn directory(&self, token: &str) -> String {
        let path = format!("/admin/v2/orgs/{}/directories", self.org);
        let body: Value = self
            .app
            .api(Method::GET, &path, token)
            .await
            .json()
            .await
            .expect("JSON");
        body["data"][0]["directoryId"]
            .as_str()
            .or(body["data"][0]["id"].as_str())
            .expect("the org's directory")
            .to_owned()
    }

    async fn call(&self, endpoint: &Endpoint, path: &str, token: &str) -> Answer {
        // The smallest body each change accepts, so that what is checked is the rule, not the input.
        let body = match method(endpoint) {
            Method::GET | Method::DELETE => None,
            _ if endpoint.path.ends_with("/manage/profile") => Some(json!({ "name": "Renamed" })),
            _ if endpoint.path.ends_with("/manage/email") => Some(json!({ "email": "renamed@acme.example" })),
            _ if endpoint.path.ends_with("/api-keys") => Some(json!({ "label": "made by the test" })),
            _ if endpoint.path.contains("/policies") => Some(json!({
                "type": "api-key-lifetime", "name": "made by the test", "rule": { "maxDays": 365 }
            })),
            _ if endpoint.path.ends_with("/classification-levels") => Some(json!({ "name": "Made by the test" })),
            _ if endpoint.path.ends_with("/users/invite") => Some(json!({ "emails": ["invited@example.com"] })),
            _ => Some(json!({})),
        };
        self.app.call(method(endpoint), path, token, body.as_ref()).await
    }
}

/// The endpoint's method, as the test client names it.
fn method(endpoint: &Endpoint) -> Method {
    Method::from_bytes(endpoint.method.http().as_str().as_bytes()).expect("an HTTP method")
}

fn keyed() -> impl Iterator<Item = &'static Endpoint> {
    ENDPOINTS.iter().filter(|e| e.access != Access::Public)
}

#[tokio::test]
async fn a_scoped_key_without_the_endpoints_scope_is_refused_naming_it() {
    let w = world().await;
    for endpoint in keyed() {
        let Access::Scope(needed) = endpoint.access else {
            continue;
        };
        let others: Vec<Scope> = Scope::ALL.iter().copied().filter(|&s| s != needed).collect();
        let key = w.app.key(w.org, Some(&others)).await;
        let all = w.app.key(w.org, None).await;
        let path = w.path(endpoint, w.org, w.member, &all.token).await;
        let res = w.call(endpoint, &path, &key.token).await;
        assert_eq!(res.status(), 403, "{} {path}", method(endpoint));
        assert_eq!(
            res.headers()["www-authenticate"],
            format!(r#"Bearer error="insufficient_scope", scope="{}""#, needed.name()).as_str(),
            "{} {path}",
            method(endpoint)
        );
        let body: Value = res.json().await.expect("JSON");
        assert_eq!(body["errors"][0]["status"], "403");
    }
}

#[tokio::test]
async fn another_orgs_id_in_the_path_is_answered_as_an_unknown_org() {
    let w = world().await;
    let key = w.app.key(w.org, None).await;
    for endpoint in keyed().filter(|e| e.path.contains("{orgId}")) {
        let mut answers = Vec::new();
        for org in [w.other_org, Uuid::new_v4()] {
            let path = w.path(endpoint, org, w.member, &key.token).await;
            let res = w.call(endpoint, &path, &key.token).await;
            assert_eq!(res.status(), 404, "{} {path}", method(endpoint));
            let mut body: Value = res.json().await.expect("JSON");
            body["errors"][0]["id"] = Value::Null; // the request id differs, nothing else may
            answers.push(body);
        }
        assert_eq!(answers[0], answers[1], "{}", endpoint.path);
        assert_eq!(answers[0]["errors"][0]["code"], "ADMIN-404-2");
    }
}

#[tokio::test]
async fn a_user_of_another_org_is_answered_as_an_unknown_user() {
    let w = world().await;
    let key = w.app.key(w.org, None).await;
    for endpoint in keyed().filter(|e| e.path.contains("{accountId}")) {
        let mut answers = Vec::new();
        for account in [w.stranger, Uuid::new_v4()] {
            let path = w.path(endpoint, w.org, account, &key.token).await;
            let res = w.call(endpoint, &path, &key.token).await;
            assert_eq!(res.status(), 404, "{} {path}", method(endpoint));
            let mut body: Value = res.json().await.expect("JSON");
            body["errors"][0]["id"] = Value::Null;
            answers.push(body);
        }
        assert_eq!(answers[0], answers[1], "{}", endpoint.path);
    }
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM memberships WHERE user_id = $1 AND suspended_at IS NULL")
        .bind(w.stranger)
        .fetch_one(&w.app.pool)
        .await
        .expect("count");
    assert_eq!(rows, 1, "nothing was done to the other org's user");
}

#[tokio::test]
async fn an_unscoped_key_reaches_every_endpoint() {
    let w = world().await;
    let key = w.app.key(w.org, None).await;
    // Reads first, then changes: each change acts on a member of its own.
    let mut endpoints: Vec<&Endpoint> = keyed().collect();
    endpoints.sort_by_key(|e| method(e) != Method::GET);
    for (i, endpoint) in endpoints.into_iter().enumerate() {
        let account = match method(endpoint) {
            Method::GET => w.member,
            _ => user(&w.app, w.org, &format!("target{i}@acme.example"), "member").await,
        };
        let path = w.path(endpoint, w.org, account, &key.token).await;
        let res = w.call(endpoint, &path, &key.token).await;
        let status = res.status().as_u16();
        assert!(
            !matches!(status, 401 | 403 | 404 | 405) && status < 500,
            "{} {path} answered {status}: {}",
            method(endpoint),
            res.text().await.unwrap_or_default()
        );
    }
}

#[tokio::test]
async fn the_openapi_document_is_public_and_names_every_endpoint_with_its_scope() {
    let app = TestApp::spawn().await;
    let res = app.get("/admin/v1/openapi.json").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json;charset=UTF-8");
    let document: Value = res.json().await.expect("JSON");
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(document["servers"][0]["url"], app.address);
    for endpoint in ENDPOINTS {
        let method = endpoint.method.lower();
        let operation = &document["paths"][endpoint.path][method];
        assert_eq!(operation["summary"], endpoint.summary, "{method} {}", endpoint.path);
        let expected = match endpoint.access {
            Access::Public => json!([]),
            Access::AnyKey => json!([{ "apiKey": [] }]),
            Access::Scope(scope) => json!([{ "apiKey": [scope.name()] }]),
        };
        assert_eq!(operation["security"], expected, "{method} {}", endpoint.path);
    }
    let paths = document["paths"].as_object().expect("paths").len();
    let distinct: std::collections::HashSet<&str> = ENDPOINTS.iter().map(|e| e.path).collect();
    assert_eq!(paths, distinct.len(), "the document has exactly the table's paths");
}

#[tokio::test]
async fn what_the_table_does_not_list_is_a_json_404_or_405_and_bad_queries_and_bodies_are_json_400s() {
    let w = world().await;
    let key = w.app.key(w.org, None).await;
    let refused = |res: Answer, status: u16, code: &'static str| async move {
        assert_eq!(res.status(), status);
        let body: Value = res.json().await.expect("a JSON body");
        assert_eq!(body["errors"][0]["code"], code, "{body}");
    };
    // A path of no endpoint, under either prefix; a /users path is not reachable under /admin.
    for path in [
        "/admin/v1/nothing-here".to_owned(),
        "/users/nothing-here".to_owned(),
        format!("/admin/{}/manage/profile", w.member),
    ] {
        refused(w.app.api(Method::GET, &path, &key.token).await, 404, "ADMIN-404-1").await;
    }
    refused(
        w.app.api(Method::DELETE, "/admin/v1/orgs", &key.token).await,
        405,
        "ADMIN-405-1",
    )
    .await;
    let users = format!("/admin/v1/orgs/{}/users?limit=many", w.org);
    refused(w.app.api(Method::GET, &users, &key.token).await, 400, "ADMIN-400-24").await;
    // A body is read up to 64 KiB: a search naming a thousand accounts is fine.
    let ids: Vec<String> = (0..1000).map(|_| Uuid::new_v4().to_string()).collect();
    let search = format!("/admin/v1/orgs/{}/users/search", w.org);
    let res = w
        .app
        .call(Method::POST, &search, &key.token, Some(&json!({ "accountIds": ids })))
        .await;
    assert_eq!(res.status(), 200);
    let huge = json!({ "accountIds": (0..3000).map(|_| Uuid::new_v4().to_string()).collect::<Vec<_>>() });
    refused(
        w.app.call(Method::POST, &search, &key.token, Some(&huge)).await,
        400,
        "ADMIN-400-24",
    )
    .await;
}

#[test]
fn every_endpoint_has_a_japanese_summary() {
    for e in ENDPOINTS {
        assert!(
            endpoint_summary_ja(e.summary).is_some(),
            "{:?} {}: no Japanese for {:?}",
            e.method,
            e.path,
            e.summary
        );
    }
}

#[test]
fn every_summary_translated_is_in_the_endpoint_table() {
    for &summary in SUMMARIES {
        assert!(
            ENDPOINTS.iter().any(|e| e.summary == summary),
            "no endpoint has the summary {summary:?}"
        );
    }
}
