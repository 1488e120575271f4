//! Text is text (DESIGN.md section 7), swept from outside: every endpoint of the endpoint table
//! and every console page and form is sent NUL and other control characters, over-long values,
//! huge and negative numbers and malformed or out-of-range cursors, in each query parameter,
//! body field and path parameter in turn. None is answered 5xx, and none writes a row.

use keyward::api::endpoints::{ENDPOINTS, Endpoint};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::console::{Console, PASSWORD, person};
use crate::harness::{Page, TestApp};

/// Control characters no field takes (NUL, SOH, ESC, DEL and a C1 control).
const CONTROLS: [&str; 5] = ["a\u{0}b", "\u{1}", "a\u{1b}[31mb", "a\u{7f}b", "a\u{85}b"];
/// Line breaks and tabs: text only in a multi-line field.
const LINE_BREAKS: [&str; 3] = ["a\tb", "a\nb", "a\rb"];
/// Numbers too large or too small for anything they could count.
const NUMBERS: [&str; 7] = [
    "-1",
    "-9223372036854775808",
    "9223372036854775807",
    "-99999999999999999999999",
    "99999999999999999999999",
    "1e308",
    "NaN",
];

/// Over-long text: more than any field keeps, in bytes and in characters.
fn over_long() -> [String; 2] {
    ["x".repeat(10_000), "語".repeat(6_000)]
}

/// A value as a failure names it: escaped, and cut short.
fn shown(value: &str) -> String {
    let escaped = format!("{value:?}");
    match escaped.char_indices().nth(40) {
        Some((at, _)) => format!("{}… ({} bytes)", &escaped[..at], value.len()),
        None => escaped,
    }
}

/// Cursors in the console's `after` format (`<micros>_<id>`) and the API's (hex of
/// `<micros>|<id>`), out of PostgreSQL's range or malformed.
fn cursors() -> Vec<String> {
    let id = Uuid::new_v4();
    let mut cursors = Vec::new();
    for micros in [
        "-300000000000000000",
        "-9223372036854775808",
        "9223372036854775807",
        "8210266876799999999",
        "99999999999999999999",
    ] {
        cursors.push(format!("{micros}_{id}"));
        cursors.push(hex::encode(format!("{micros}|{id}")));
    }
    cursors.extend(["_".into(), "zz".into(), "x_y".into(), hex::encode([0xff, 0x00, 0x7c])]);
    cursors
}

/// Every value a text field is sent: controls, line breaks (unless the field is multi-line)
/// and over-long text.
fn texts(multi_line: bool) -> Vec<String> {
    let mut values: Vec<String> = CONTROLS.iter().map(|s| (*s).to_owned()).collect();
    if !multi_line {
        values.extend(LINE_BREAKS.iter().map(|s| (*s).to_owned()));
    }
    values.extend(over_long());
    values
}

/// Every value a parameter that takes numbers or cursors is also sent.
fn numbers_and_cursors() -> Vec<String> {
    let mut values: Vec<String> = NUMBERS.iter().map(|s| (*s).to_owned()).collect();
    values.extend(cursors());
    values
}

/// The tables a refused request must leave as they were. (`login_attempts` is not among
/// them: a refused sign-in may be counted against the address that sent it.)
const TABLES: [&str; 15] = [
    "orgs",
    "users",
    "memberships",
    "api_keys",
    "api_key_scopes",
    "audit_events",
    "sessions",
    "setup_tokens",
    "domains",
    "classification_levels",
    "policies",
    "used_form_tokens",
    "password_links",
    "invitations",
    "(SELECT * FROM api_keys WHERE revoked_at IS NOT NULL) revoked",
];

/// The rows of each of `TABLES`, read in one statement (the sweep reads them after every
/// request, so that what wrote is named).
async fn counts(app: &TestApp) -> Vec<(&'static str, i64)> {
    let columns: Vec<String> = TABLES
        .iter()
        .map(|table| format!("(SELECT count(*) FROM {table})"))
        .collect();
    let row: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT ARRAY[{}]", columns.join(", "))))
        .fetch_one(&app.pool)
        .await
        .expect("counts");
    TABLES.iter().copied().zip(row).collect()
}

/// Checks that the request just sent (`what`) answered no 5xx and wrote nothing since `before`,
/// which it then brings up to date.
async fn check(
    app: &TestApp,
    status: reqwest::StatusCode,
    what: &str,
    before: &mut Vec<(&'static str, i64)>,
    failures: &mut Vec<String>,
) {
    if status.is_server_error() {
        failures.push(format!("{status} for {what}"));
    }
    let after = counts(app).await;
    if after != *before {
        let changed: Vec<String> = before
            .iter()
            .zip(&after)
            .filter(|(b, a)| b != a)
            .map(|((table, b), (_, a))| format!("{table} {b} -> {a}"))
            .collect();
        failures.push(format!("{status} for {what} wrote: {}", changed.join(", ")));
        *before = after;
    }
}

fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

// ---------------------------------------------------------------------------------------------
// The admin API: every endpoint of the table.
// ---------------------------------------------------------------------------------------------

/// The org the API calls act in, with something behind each kind of path parameter.
struct ApiWorld {
    app: TestApp,
    org: Uuid,
    member: Uuid,
    key: Uuid,
    domain: Uuid,
    level: Uuid,
    policy: Uuid,
    event: Uuid,
    token: String,
}

async fn api_world() -> ApiWorld {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let admin = app.user("owner@acme.example", Some(org)).await;
    app.member(org, admin, "admin").await;
    let member = app.user("member@acme.example", Some(org)).await;
    app.member(org, member, "member").await;
    let key = app.key(org, None).await;
    let domain = app.domain(org, "acme.example", true).await;
    let level = app.level(org, "Internal").await;
    let policy = crate::harness::arranged::lifetime_policy(&app, org, 365).await;
    let event = sqlx::query_scalar("SELECT id FROM audit_events WHERE org_id = $1 LIMIT 1")
        .bind(org)
        .fetch_one(&app.pool)
        .await
        .expect("an event of the org");
    ApiWorld {
        app,
        org,
        member,
        key: key.id,
        domain,
        level,
        policy,
        event,
        token: key.token,
    }
}

impl ApiWorld {
    /// The value each path parameter is given, unless it is the one under test.
    fn parameter(&self, name: &str) -> String {
        match name {
            "orgId" => self.org.to_string(),
            // The org's one directory is named by the org's id.
            "directoryId" => self.org.to_string(),
            "accountId" => self.member.to_string(),
            "apiKeyId" => self.key.to_string(),
            "domainId" => self.domain.to_string(),
            "levelId" => self.level.to_string(),
            "policyId" => self.policy.to_string(),
            "eventId" => self.event.to_string(),
            other => panic!("no value for the path parameter {other}: add one to the sweep"),
        }
    }

    /// The endpoint's path, with `bad` (already encoded) in place of the parameter `bad_in`.
    fn path(&self, endpoint: &Endpoint, bad_in: Option<(&str, &str)>) -> String {
        let mut path = endpoint.path.to_owned();
        for name in endpoint.path_parameters() {
            let value = match bad_in {
                Some((param, bad)) if param == name => bad.to_owned(),
                _ => self.parameter(name),
            };
            path = path.replace(&format!("{{{name}}}"), &value);
        }
        path
    }

    async fn send(&self, endpoint: &Endpoint, path: &str, body: Option<&Value>) -> reqwest::StatusCode {
        let method = Method::from_bytes(endpoint.method.http().as_str().as_bytes()).expect("a method");
        let mut request = self
            .app
            .client
            .request(method, format!("{}{path}", self.app.address))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.expect("request").status()
    }
}

/// The smallest body each endpoint that reads one takes, with every kind of field in it, so
/// that each field can be made bad in turn while the rest stays good.
fn good_body(endpoint: &Endpoint) -> Value {
    let path = endpoint.path;
    if path.ends_with("/manage/profile") {
        json!({ "name": "Renamed", "nickname": "Ren", "zoneinfo": "Asia/Tokyo", "locale": "ja",
                "extended_profile": { "job_title": "Clerk", "department": "Ops", "organization": "Acme",
                                      "location": "Tokyo" } })
    } else if path.ends_with("/manage/email") {
        json!({ "email": "renamed@acme.example" })
    } else if path.ends_with("/lifecycle/disable") {
        json!({ "message": "Left the company" })
    } else if path.ends_with("/api-keys") {
        json!({ "label": "made by the sweep", "scopes": ["read:orgs:admin"], "expiresAt": "2030-01-01T00:00:00Z" })
    } else if path.contains("/policies") {
        json!({ "type": "api-key-lifetime", "name": "Sweep", "status": "enabled", "rule": { "maxDays": 90 },
                "resources": [{ "id": "ari:cloud:platform::org/acme", "applicationStatus": "APPLIED" }] })
    } else if path.ends_with("/users/search") && path.starts_with("/admin/v2") {
        json!({ "accountIds": [Uuid::new_v4()], "accountStatus": ["active"], "membershipStatus": ["active"],
                "claimStatus": "claimed", "emailDomains": ["acme.example"], "emails": ["a@acme.example"],
                "searchTerm": "own", "cursor": "", "limit": 10 })
    } else if path.ends_with("/users/search") {
        json!({ "accountIds": [Uuid::new_v4()], "accountTypes": ["atlassian"], "accountStatuses": ["active"],
                "namesOrNicknames": ["own"], "emailUsernames": ["owner"], "emailDomains": ["acme.example"],
                "isSuspended": false, "cursor": "", "limit": 10, "expand": ["NAME"] })
    } else if path.ends_with("/users/invite") {
        json!({ "emails": ["invitee@acme.example"], "permissionRules": [], "additionalGroups": [],
                "sendNotification": false, "notificationText": "Welcome" })
    } else if path.ends_with("/classification-levels") || path.ends_with("{levelId}") {
        json!({ "name": "Sweep", "description": "Swept", "guideline": "Sweep\nwith care", "color": "BLUE" })
    } else if path.ends_with("/publish") || path.ends_with("/reorder") {
        json!({ "levelIds": [Uuid::new_v4()] })
    } else if path.ends_with("/archive") || path.ends_with("/restore") {
        json!({ "levelId": Uuid::new_v4() })
    } else {
        json!({})
    }
}

/// Fields whose text may run over lines.
const MULTI_LINE_JSON: [&str; 3] = ["description", "guideline", "message"];

/// Each way of making one leaf of `body` bad: every string leaf given each bad text, every
/// number leaf each bad number, and a bad member added beside the others.
fn bad_bodies(body: &Value) -> Vec<(String, Value)> {
    fn walk(value: &Value, at: &mut Vec<String>, field: &str, out: &mut Vec<(Vec<String>, Value)>) {
        match value {
            Value::Object(members) => {
                for (name, member) in members {
                    at.push(name.clone());
                    walk(member, at, name, out);
                    at.pop();
                }
                out.push((at.clone(), Value::Null));
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    at.push(i.to_string());
                    walk(item, at, field, out);
                    at.pop();
                }
            }
            Value::String(_) => {
                for text in texts(MULTI_LINE_JSON.contains(&field)) {
                    out.push((at.clone(), Value::String(text)));
                }
            }
            Value::Number(_) => {
                for number in NUMBERS {
                    let bad = number.parse::<f64>().ok().and_then(serde_json::Number::from_f64);
                    let bad = match number.parse::<i64>() {
                        Ok(n) => Value::from(n),
                        Err(_) => bad.map_or_else(|| Value::String(number.to_owned()), Value::Number),
                    };
                    out.push((at.clone(), bad));
                }
            }
            Value::Bool(_) | Value::Null => {}
        }
    }
    let mut leaves = Vec::new();
    walk(body, &mut Vec::new(), "", &mut leaves);
    let mut bodies = Vec::new();
    for (at, bad) in leaves {
        if bad.is_null() {
            // An object: a member it does not know, with a control character in its value and
            // in its name.
            for (name, value) in [("sweep", "a\u{0}b"), ("a\u{0}b", "sweep")] {
                let mut changed = body.clone();
                let target = at.iter().fold(&mut changed, |v, step| pointer_step(v, step));
                if let Value::Object(members) = target {
                    members.insert(name.to_owned(), Value::String(value.to_owned()));
                }
                bodies.push((format!("{}/{name:?}", at.join("/")), changed));
            }
            continue;
        }
        let mut changed = body.clone();
        *at.iter().fold(&mut changed, |v, step| pointer_step(v, step)) = bad.clone();
        let shown = match &bad {
            Value::String(text) => shown(text),
            other => other.to_string(),
        };
        bodies.push((format!("{} = {shown}", at.join("/")), changed));
    }
    bodies
}

fn pointer_step<'v>(value: &'v mut Value, step: &str) -> &'v mut Value {
    match value {
        Value::Array(items) => &mut items[step.parse::<usize>().expect("an index")],
        other => &mut other[step],
    }
}

#[tokio::test]
async fn no_bad_input_to_any_endpoint_of_the_table_is_a_server_error_or_writes_anything() {
    let w = api_world().await;
    let mut before = counts(&w.app).await;
    let mut failures = Vec::new();
    let mut sent = 0;
    for endpoint in ENDPOINTS {
        let what = |detail: &str| format!("{} {} with {detail}", endpoint.method.lower(), endpoint.path);
        // Each query parameter it declares, and one it does not.
        let mut parameters: Vec<(String, bool)> = endpoint
            .query
            .map(|query| query().into_iter().map(|p| (p.name, true)).collect())
            .unwrap_or_default();
        parameters.push(("sweep".into(), false));
        for (name, declared) in &parameters {
            let mut values = texts(false);
            if *declared {
                values.extend(numbers_and_cursors());
            } else {
                // An unknown parameter is ignored unless it carries what no text may.
                values.truncate(CONTROLS.len() + LINE_BREAKS.len());
            }
            for value in values {
                let path = format!("{}?{}={}", w.path(endpoint, None), encode(name), encode(&value));
                let body = endpoint.request.map(|_| good_body(endpoint));
                let status = w.send(endpoint, &path, body.as_ref()).await;
                sent += 1;
                check(
                    &w.app,
                    status,
                    &what(&format!("{name}={}", shown(&value))),
                    &mut before,
                    &mut failures,
                )
                .await;
            }
        }
        // Each field of its body.
        if endpoint.request.is_some() {
            for (field, body) in bad_bodies(&good_body(endpoint)) {
                let status = w.send(endpoint, &w.path(endpoint, None), Some(&body)).await;
                sent += 1;
                check(
                    &w.app,
                    status,
                    &what(&format!("the body's {field}")),
                    &mut before,
                    &mut failures,
                )
                .await;
            }
        }
        // Each parameter of its path.
        for name in endpoint.path_parameters() {
            let mut values = texts(false);
            values.extend(numbers_and_cursors());
            for value in values {
                let path = w.path(endpoint, Some((name, &encode(&value))));
                let body = endpoint.request.map(|_| good_body(endpoint));
                let status = w.send(endpoint, &path, body.as_ref()).await;
                sent += 1;
                let what = what(&format!("{{{name}}} = {}", shown(&value)));
                check(&w.app, status, &what, &mut before, &mut failures).await;
            }
        }
    }
    assert!(sent > 1000, "the sweep sent {sent} requests");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn a_control_character_is_a_400_in_each_api_family_and_a_cursor_out_of_range_is_refused() {
    let w = api_world().await;
    let errors = |body: Value| body["errors"][0]["code"].as_str().map(str::to_owned);
    let users = format!("/admin/v1/orgs/{}/users", w.org);
    let res = w.app.api(Method::GET, &format!("{users}?cursor=a%00b"), &w.token).await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.expect("JSON");
    assert_eq!(errors(body.clone()).as_deref(), Some("ADMIN-400-24"));
    assert!(
        body["errors"][0]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("cursor") && d.contains("control character")),
        "refused by the text rule, naming the parameter, not by the database: {body}"
    );

    let far = hex::encode(format!("-300000000000000000|{}", Uuid::new_v4()));
    let res = w.app.api(Method::GET, &format!("{users}?cursor={far}"), &w.token).await;
    assert_eq!(res.status(), 400, "a cursor before PostgreSQL's first day");
    assert_eq!(errors(res.json().await.expect("JSON")).as_deref(), Some("ADMIN-400-1"));

    let search = format!("/admin/v1/orgs/{}/users/search", w.org);
    let body = json!({ "namesOrNicknames": ["a\u{0}b"] });
    let res = w.app.api_json(Method::POST, &search, &w.token, &body).await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.expect("JSON");
    assert!(
        body["errors"][0]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("namesOrNicknames")),
        "the detail names the field: {body}"
    );

    let disable = format!("/users/{}/manage/lifecycle/disable", w.member);
    let res = w
        .app
        .api_json(Method::POST, &disable, &w.token, &json!({ "message": "bye\u{0}" }))
        .await;
    assert_eq!(res.status(), 400, "a NUL in the disable message");

    // A multi-line field keeps its line breaks; elsewhere they are refused.
    let levels = format!("/admin/dlp/v1/orgs/{}/classification-levels", w.org);
    let res = w
        .app
        .api_json(
            Method::POST,
            &levels,
            &w.token,
            &json!({ "name": "Ok", "guideline": "One.\r\n\tTwo." }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let res = w
        .app
        .api_json(Method::POST, &levels, &w.token, &json!({ "name": "Not\tok" }))
        .await;
    assert_eq!(res.status(), 400);
}

// ---------------------------------------------------------------------------------------------
// The console: every page that reads a query and every form.
// ---------------------------------------------------------------------------------------------

/// Who sends a console request.
#[derive(Clone, Copy, PartialEq)]
enum Who {
    Admin,
    Anonymous,
    /// A browser without a session holding an invitation link: the create-account form's token.
    Invitee,
}

/// A console page or form: its method, its path (with `{org}`, `{user}`, `{key}`, `{policy}`,
/// `{invitation}` and `{token}` for the sweep's own), who sends it, the good fields the bad one is sent among, the fields
/// that also take numbers and cursors, and the fields that run over lines.
struct Route {
    method: Method,
    path: &'static str,
    who: Who,
    good: &'static [(&'static str, &'static str)],
    numeric: &'static [&'static str],
    multi_line: &'static [&'static str],
}

fn get(path: &'static str, good: &'static [(&'static str, &'static str)], numeric: &'static [&'static str]) -> Route {
    Route {
        method: Method::GET,
        path,
        who: Who::Admin,
        good,
        numeric,
        multi_line: &[],
    }
}

fn post(path: &'static str, good: &'static [(&'static str, &'static str)]) -> Route {
    Route {
        method: Method::POST,
        path,
        who: Who::Admin,
        good,
        numeric: &[],
        multi_line: &[],
    }
}

fn anonymous(route: Route) -> Route {
    Route {
        who: Who::Anonymous,
        ..route
    }
}

const KEY_FORM: &[(&str, &str)] = &[
    ("type", "scoped"),
    ("name", "Sweep"),
    ("expiry", "30"),
    ("expiry_date", ""),
    ("scopes", "read:orgs:admin"),
];

/// Every console route (src/console/mod.rs and the modules it configures), in an order that
/// keeps the sweep's own session and objects alive until the routes that end them.
fn console_routes() -> Vec<Route> {
    vec![
        get("/", &[], &[]),
        get("/healthz", &[], &[]),
        get("/readyz", &[], &[]),
        anonymous(get("/login", &[("next", "/orgs"), ("ended", "1")], &[])),
        anonymous(get("/setup", &[("token", "abc")], &[])),
        anonymous(get("/welcome", &[("token", "abc")], &[])),
        anonymous(get("/invitations", &[("token", "{token}")], &[])),
        get("/orgs", &[("q", "acme")], &[]),
        get(
            "/o/{org}/settings/members",
            &[("q", "own"), ("role", "admin"), ("after", ""), ("added", "")],
            &["after", "added"],
        ),
        get("/o/{org}/settings/members/new", &[], &[]),
        get("/o/{org}/settings/members/{user}", &[("done", "suspended")], &[]),
        get("/o/{org}/settings/members/{user}/remove", &[], &[]),
        get("/o/{org}/settings/members/{user}/suspend", &[], &[]),
        get("/o/{org}/settings/members/{user}/demote", &[], &[]),
        get(
            "/o/{org}/settings/api-keys/revoke-by-creator",
            &[("user", "{user}")],
            &[],
        ),
        get(
            "/o/{org}/settings/api-keys",
            &[
                ("tab", "scoped"),
                ("q", "sweep"),
                ("status", "active"),
                ("creator", "{user}"),
                ("sort", "expires"),
                ("after", ""),
                ("revoked", "abc"),
                ("also", "2"),
            ],
            &["after", "also"],
        ),
        get("/o/{org}/settings/api-keys/new", &[("type", "scoped")], &[]),
        get("/o/{org}/settings/api-keys/{key}", &[], &[]),
        get("/o/{org}/settings/api-keys/{key}/revoke", &[], &[]),
        get(
            "/o/{org}/settings/audit-log",
            &[
                ("action", "api_key.created"),
                ("actor", "{user}"),
                ("from", "2026-01-01"),
                ("to", "2026-12-31"),
                ("target", "{key}"),
                ("forgotten", ""),
                ("after", ""),
                ("format", ""),
            ],
            &["from", "to", "after", "forgotten"],
        ),
        get(
            "/o/{org}/settings/audit-log",
            &[("format", "csv"), ("after", ""), ("from", ""), ("to", "")],
            &["from", "to", "after"],
        ),
        get(
            "/o/{org}/settings/policies",
            &[("type", "api-key-lifetime"), ("after", ""), ("done", "created")],
            &["after"],
        ),
        get("/o/{org}/settings/policies/new", &[("type", "ip-allowlist")], &[]),
        get("/o/{org}/settings/policies/{policy}", &[], &[]),
        get("/o/{org}/settings/policies/{policy}/delete", &[], &[]),
        get("/account", &[("saved", "name")], &[]),
        get("/static/{file}", &[], &[]),
        // Forms that change nothing of the sweep's own, then those that end what it uses.
        post("/language", &[("lang", "ja"), ("back", "/account")]),
        post("/account/profile", &[("display_name", "Yamada")]),
        post("/account/language", &[("language", "ja")]),
        post("/account/time-zone", &[("zone", "Asia/Tokyo")]),
        post(
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "a new long passphrase"),
                ("repeat_password", "a new long passphrase"),
            ],
        ),
        post("/o/{org}/settings/api-keys/find", &[("key", "kw_abc_def")]),
        post("/o/{org}/settings/api-keys/review", KEY_FORM),
        post("/o/{org}/settings/api-keys", KEY_FORM),
        post(
            "/o/{org}/settings/members",
            &[("email", "new@acme.example"), ("role", "member")],
        ),
        post("/o/{org}/settings/members/invitations/{invitation}/link", &[]),
        post("/o/{org}/settings/members/invitations/{invitation}/revoke", &[]),
        post("/o/{org}/settings/members/{user}/password-link", &[]),
        post(
            "/o/{org}/settings/members/{user}/role",
            &[("role", "admin"), ("revoke_keys", "on")],
        ),
        post("/o/{org}/settings/members/{user}/suspend", &[("revoke_keys", "on")]),
        post("/o/{org}/settings/members/{user}/restore", &[]),
        post("/o/{org}/settings/api-keys/revoke-by-creator", &[("user", "{user}")]),
        post("/o/{org}/settings/api-keys/{key}/revoke", &[("with_created", "on")]),
        Route {
            multi_line: &["ranges"],
            ..post(
                "/o/{org}/settings/policies",
                &[
                    ("type", "ip-allowlist"),
                    ("name", "Office"),
                    ("ranges", "127.0.0.1/32\n10.0.0.0/8"),
                    ("max_days", "90"),
                    ("enabled", "on"),
                ],
            )
        },
        Route {
            multi_line: &["ranges"],
            numeric: &["max_days"],
            ..post(
                "/o/{org}/settings/policies/{policy}",
                &[
                    ("type", "api-key-lifetime"),
                    ("name", "Quarter"),
                    ("max_days", "90"),
                    ("enabled", "on"),
                ],
            )
        },
        post("/o/{org}/settings/policies/{policy}/disable", &[]),
        post("/o/{org}/settings/policies/{policy}/enable", &[]),
        post("/o/{org}/settings/policies/{policy}/delete", &[]),
        post("/o/{org}/settings/members/{user}/remove", &[("revoke_keys", "on")]),
        post("/account/sessions/{session}/sign-out", &[]),
        post("/account/sessions/sign-out-others", &[]),
        anonymous(post(
            "/setup",
            &[
                ("token", "abc"),
                ("email", "first@acme.example"),
                ("name", "First"),
                ("password", "a long enough passphrase"),
                ("password_confirm", "a long enough passphrase"),
                ("org_name", "Acme"),
            ],
        )),
        Route {
            who: Who::Invitee,
            ..post(
                "/invitations",
                &[
                    ("token", "{token}"),
                    ("action", "create"),
                    ("name", "Invitee"),
                    ("password", "a long enough passphrase"),
                    ("password_confirm", "a long enough passphrase"),
                ],
            )
        },
        anonymous(post(
            "/welcome",
            &[
                ("token", "abc"),
                ("password", "a long enough passphrase"),
                ("password_confirm", "a long enough passphrase"),
            ],
        )),
        // A wrong password: a `next` that is not a local path is dropped, not refused (the
        // redirect rules), so a right one would sign in whatever `next` held.
        anonymous(post(
            "/login",
            &[
                ("next", "/orgs"),
                ("email", "yamada@acme.example"),
                ("password", "not the password"),
            ],
        )),
        post("/logout", &[]),
    ]
}

/// The sweep's console world: a signed-in admin of an org with a member, a key, a policy and a
/// pending invitation of an address without an account.
struct ConsoleWorld {
    app: TestApp,
    admin: Console,
    csrf: String,
    values: Vec<(&'static str, String)>,
}

async fn console_world() -> ConsoleWorld {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let admin = person(&app, "yamada@acme.example").await;
    app.member(org, admin, "admin").await;
    let second = person(&app, "second@acme.example").await;
    app.member(org, second, "admin").await;
    let key = app.key_for(org, second).await;
    let policy = crate::harness::arranged::lifetime_policy(&app, org, 365).await;
    let (invitation, token) = app.invitation(org, "invitee@acme.example", "member", admin).await;
    let console = Console::signed_in(&app, "yamada@acme.example").await;
    let csrf = console.csrf().await;
    let values = vec![
        ("{org}", org.to_string()),
        ("{user}", second.to_string()),
        ("{invitation}", invitation.to_string()),
        ("{token}", token),
        ("{key}", key.id.to_string()),
        ("{policy}", policy.to_string()),
        ("{session}", Uuid::new_v4().to_string()),
        ("{file}", "app.css".to_owned()),
    ];
    ConsoleWorld {
        app,
        admin: console,
        csrf,
        values,
    }
}

/// The sweep's browser without a session, and its pre-session's tokens: the sign-in form's, and
/// the create-account form's of the sweep's invitation.
struct Visitor {
    console: Console,
    sign_in: String,
    invitation: String,
}

impl ConsoleWorld {
    async fn visitor(&self) -> Visitor {
        let console = Console::new(&self.app);
        let sign_in = console.sign_in_form("").await;
        let page = console.page(&self.fill("/invitations?token={token}")).await;
        let invitation = Page::parse(&page).form_token("/invitations");
        Visitor {
            console,
            sign_in,
            invitation,
        }
    }

    fn fill(&self, text: &str) -> String {
        self.values
            .iter()
            .fold(text.to_owned(), |text, (name, value)| text.replace(name, value))
    }

    /// Sends `route` with `bad` in the field or parameter `field` (added when the route has
    /// no such field).
    async fn send(&self, route: &Route, field: &str, bad: &str, visitor: &Visitor) -> reqwest::StatusCode {
        let (console, csrf) = match route.who {
            Who::Admin => (&self.admin, self.csrf.as_str()),
            Who::Anonymous => (&visitor.console, visitor.sign_in.as_str()),
            Who::Invitee => (&visitor.console, visitor.invitation.as_str()),
        };
        let mut pairs: Vec<(String, String)> = route
            .good
            .iter()
            .filter(|(name, _)| *name != field)
            .map(|(name, value)| ((*name).to_owned(), self.fill(value)))
            .collect();
        pairs.push((field.to_owned(), bad.to_owned()));
        let path = self.fill(route.path);
        if route.method == Method::GET {
            let query: String = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&pairs)
                .finish();
            console.get(&format!("{path}?{query}")).await.status()
        } else {
            pairs.insert(0, ("csrf".to_owned(), csrf.to_owned()));
            let form: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            console.post(&path, &form).await.status()
        }
    }
}

#[tokio::test]
async fn no_bad_input_to_any_console_page_or_form_is_a_server_error_or_writes_anything() {
    let w = console_world().await;
    let visitor = w.visitor().await;
    let mut before = counts(&w.app).await;
    let mut failures = Vec::new();
    let mut sent = 0;
    for route in console_routes() {
        let mut fields: Vec<&str> = route.good.iter().map(|(name, _)| *name).collect();
        fields.push("sweep");
        for field in fields {
            let mut values = texts(route.multi_line.contains(&field));
            if route.numeric.contains(&field) {
                values.extend(numbers_and_cursors());
            }
            if field == "sweep" {
                // A field the form does not have is ignored unless it carries what no text may.
                values.truncate(CONTROLS.len() + LINE_BREAKS.len());
            }
            for value in values {
                let status = w.send(&route, field, &value, &visitor).await;
                sent += 1;
                let what = format!("{} {} with {field}={}", route.method, route.path, shown(&value));
                check(&w.app, status, &what, &mut before, &mut failures).await;
            }
        }
    }
    assert!(sent > 500, "the sweep sent {sent} requests");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The admin is still signed in: the forms before sign-out were refused, not obeyed.
    assert_eq!(
        w.admin.get("/account").await.status(),
        200,
        "the sweep's session survived"
    );
}

#[tokio::test]
async fn a_control_character_in_a_console_field_is_refused_naming_the_field_in_the_viewers_language() {
    let w = console_world().await;
    let org = w.fill("{org}");
    let res = w.admin.get(&format!("/o/{org}/settings/members?q=a%00b")).await;
    assert_eq!(res.status(), 400);
    let page = res.text().await.expect("page");
    assert!(page.contains("<code>q</code>"), "the page names the field: {page}");
    assert!(page.contains("A field cannot be taken as sent"), "{page}");

    let res = w
        .admin
        .post("/account/language", &[("csrf", &w.csrf), ("language", "ja")])
        .await;
    assert_eq!(res.status(), 303, "the admin now reads Japanese");
    let res = w.admin.get(&format!("/o/{org}/settings/api-keys?q=%1B")).await;
    assert_eq!(res.status(), 400);
    let page = res.text().await.expect("page");
    assert!(page.contains("送信された項目を受け付けられません"), "{page}");
    assert!(page.contains("<code>q</code>"), "{page}");

    let far = format!("-300000000000000000_{}", Uuid::new_v4());
    let res = w.admin.get(&format!("/o/{org}/settings/members?after={far}")).await;
    assert_eq!(res.status(), 200, "a cursor out of range is the first page");

    let members = format!("/o/{org}/settings/members");
    let (world, members) = (&w, &members);
    let invite = |email: &'static str, role: &'static str| async move {
        let form = [("csrf", world.csrf.as_str()), ("email", email), ("role", role)];
        world.admin.post(members, &form).await
    };
    let invitations = w.app.snapshot("invitations").await;
    let res = invite("new\u{0}@acme.example", "member").await;
    assert_eq!(res.status(), 422, "an email is answered beside its field");
    let page = res.text().await.expect("page");
    assert!(Page::parse(&page).has("#email-error"), "{page}");
    assert!(page.contains("メールアドレスを入力してください"), "in Japanese: {page}");
    let res = invite("new@acme.example", "member\u{0}").await;
    assert_eq!(res.status(), 400, "a choice is not typed: the page names it");
    assert!(res.text().await.expect("page").contains("<code>role</code>"));

    // The name on an invitation's create-account form, read by a visitor in Japanese.
    let visitor = w.visitor().await;
    let form = [
        ("csrf", visitor.invitation.as_str()),
        ("token", &w.fill("{token}")),
        ("action", "create"),
        ("name", "New\u{0}"),
        ("password", "a long enough passphrase"),
        ("password_confirm", "a long enough passphrase"),
    ];
    let res = visitor
        .console
        .request(Method::POST, "/invitations")
        .header("Accept-Language", "ja")
        .form(&form)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 422, "a name is answered beside its field");
    let page = res.text().await.expect("page");
    assert!(Page::parse(&page).has("#name-error"), "{page}");
    assert!(page.contains("制御文字"), "in Japanese: {page}");

    assert_eq!(w.app.snapshot("invitations").await, invitations, "nobody was invited");
    assert_eq!(w.app.count("users").await, 2, "no account was made");
    assert_eq!(w.app.count("memberships").await, 2, "nobody was added");
}
