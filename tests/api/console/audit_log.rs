//! The org's audit log page, its filters, pages and downloads, and the forgotten-keys counts.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use reqwest::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::console::{Console, person};
use crate::harness::signed_in::Admin;
use crate::harness::{Options, Page, SignedInAdmin, TestApp, TestKey, behind_proxy};

/// Ada, an admin of Acme, signed in; and Globex, another org with its own events.
async fn acme_with(options: Options) -> (SignedInAdmin, Uuid) {
    let ada = Admin {
        org: "Acme",
        email: "ada@acme.example",
        from: None,
    };
    let a = SignedInAdmin::on(TestApp::spawn_with(options).await, ada).await;
    let globex = a.app.org("Globex").await;
    (a, globex)
}

async fn acme() -> (SignedInAdmin, Uuid) {
    acme_with(Options::default()).await
}

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, day, hour, 0, 0).single().expect("time")
}

/// One event written straight into the log, as the code that records it would.
struct Row<'a> {
    org: Uuid,
    time: DateTime<Utc>,
    actor: (&'a str, Option<Uuid>),
    action: &'a str,
    target: Option<(&'a str, String)>,
    ip: Option<&'a str>,
    user_agent: Option<&'a str>,
    details: Value,
}

impl<'a> Row<'a> {
    fn new(org: Uuid, time: DateTime<Utc>, action: &'a str) -> Row<'a> {
        Row {
            org,
            time,
            actor: ("system", None),
            action,
            target: None,
            ip: None,
            user_agent: None,
            details: json!({}),
        }
    }

    async fn insert(self, app: &TestApp) -> Uuid {
        let id = Uuid::new_v4();
        let (target_kind, target_id) = self.target.unzip();
        sqlx::query(
            "INSERT INTO audit_events (id, org_id, time, actor_kind, actor_id, action, target_kind, target_id, ip, user_agent, details)
             VALUES ($1, $2, $3, $4::actor_kind, $5, $6, $7, $8, $9::inet, $10, $11)",
        )
        .bind(id)
        .bind(self.org)
        .bind(self.time)
        .bind(self.actor.0)
        .bind(self.actor.1)
        .bind(self.action)
        .bind(target_kind)
        .bind(target_id)
        .bind(self.ip)
        .bind(self.user_agent)
        .bind(self.details)
        .execute(&app.pool)
        .await
        .expect("event");
        id
    }
}

fn log_page(a: &SignedInAdmin) -> String {
    format!("/o/{}/settings/audit-log", a.org)
}

/// The ids of the events a page of the log lists, in order.
async fn listed(a: &SignedInAdmin, query: &str) -> Vec<Uuid> {
    event_ids(&a.console.page(&format!("{}?{query}", log_page(a))).await)
}

/// A key of Acme named `name` that Ada created.
async fn key_named(a: &SignedInAdmin, name: &str, lifetime: chrono::Duration) -> TestKey {
    let expiry = keyward::domain::api_key::AskedExpiry::At(Utc::now() + lifetime);
    a.app.key_by(a.org, a.user, name, expiry).await
}

async fn revoke(a: &SignedInAdmin, key: &TestKey) {
    keyward::service::keys::revoke(
        &a.app.pool,
        None,
        a.org.into(),
        key.id.into(),
        keyward::domain::actor::Actor::User(a.user),
        &Default::default(),
    )
    .await
    .expect("revoked");
}

/// Presents `key` to the admin API as the client at `address` (through the trusted proxy)
/// with `user_agent`: refused with 401.
async fn present(app: &TestApp, key: &TestKey, address: &str, user_agent: &str) {
    let res = app
        .client
        .get(format!("{}/admin/v1/key", app.address))
        .bearer_auth(&key.token)
        .header("X-Forwarded-For", address)
        .header("User-Agent", user_agent)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 401, "the key is refused");
}

/// Waits for the background writer to record `n` refused uses of the org's keys.
async fn refused_uses(app: &TestApp, org: Uuid, n: i64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let count: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM audit_events WHERE org_id = $1 AND action = 'api_key.rejected_use'",
        )
        .bind(org)
        .fetch_one(&app.pool)
        .await
        .expect("count");
        if count >= n {
            assert_eq!(count, n, "one event per key and address");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{n} refused uses recorded within 10 s, saw {count}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The ids of the event rows of a page, in order.
fn event_ids(html: &str) -> Vec<Uuid> {
    Page::parse(html)
        .all(r#"tr.event[id^="event-"]"#)
        .into_iter()
        .map(|row| {
            let id = row.value().id().unwrap_or_default();
            id.trim_start_matches("event-").parse().expect("an event id")
        })
        .collect()
}

/// The links of a page, as a browser follows them.
fn links(html: &str) -> Vec<String> {
    Page::parse(html)
        .all("a[href]")
        .into_iter()
        .filter_map(|a| a.value().attr("href").map(str::to_owned))
        .collect()
}

/// The cells of an RFC 4180 document, row by row.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') if chars.peek() == Some(&'\n') => {
                chars.next();
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    assert!(
        !quoted && cell.is_empty() && row.is_empty(),
        "the document ends with a row's CRLF"
    );
    rows
}

const COLUMNS: [&str; 10] = [
    "time",
    "action",
    "actor_kind",
    "actor_id",
    "actor_name",
    "target_kind",
    "target_id",
    "ip",
    "user_agent",
    "details",
];

#[tokio::test]
async fn the_log_lists_the_orgs_events_newest_first_with_who_did_what_to_what_and_none_of_another_org() {
    let (a, globex) = acme().await;
    let key = key_named(&a, "deploy bot", chrono::Duration::days(30)).await;
    let bob = a.app.user("bob@acme.example", Some(a.org)).await;
    let revoked = Row {
        actor: ("user", Some(a.user)),
        target: Some(("api_key", key.id.to_string())),
        ip: Some("203.0.113.7"),
        user_agent: Some("Mozilla/5.0 (X11)"),
        ..Row::new(a.org, at(1, 9), "api_key.revoked")
    }
    .insert(&a.app)
    .await;
    let refused = Row {
        actor: ("key", Some(key.id)),
        target: Some(("api_key", key.id.to_string())),
        ip: Some("198.51.100.4"),
        details: json!({"reason": "revoked", "secret_proven": true}),
        ..Row::new(a.org, at(2, 9), "api_key.rejected_use")
    }
    .insert(&a.app)
    .await;
    let suspended = Row {
        target: Some(("user", bob.to_string())),
        details: json!({"revoked_keys": [{"id": Uuid::new_v4(), "public_id": "QWERTYUIOP"}]}),
        ..Row::new(a.org, at(3, 9), "membership.suspended")
    }
    .insert(&a.app)
    .await;
    let unknown = Row {
        target: Some(("widget", "w-1".to_owned())),
        ..Row::new(a.org, at(4, 9), "widget.polished")
    }
    .insert(&a.app)
    .await;
    let theirs = Row {
        target: Some(("api_key", "globex-key".to_owned())),
        ..Row::new(globex, at(5, 9), "api_key.created")
    }
    .insert(&a.app)
    .await;

    let res = a.console.get(&log_page(&a)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()[CACHE_CONTROL], "no-store");
    let html = res.text().await.expect("page");
    let listed = event_ids(&html);
    let ours = [unknown, suspended, refused, revoked];
    let positions: Vec<usize> = ours
        .iter()
        .map(|id| {
            listed
                .iter()
                .position(|l| l == id)
                .expect("each of the org's events is listed")
        })
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "newest first: {positions:?}");
    assert!(!listed.contains(&theirs), "another org's event is not listed");
    assert!(!html.contains("globex-key"));

    // Who: a person by name and email, a key by name and public id (linking to it), keyward.
    assert!(html.contains("ada@acme.example"));
    assert!(html.contains("API key deploy bot") && html.contains(key.public_id()));
    let key_page = format!("/o/{}/settings/api-keys/{}", a.org, key.id);
    assert!(links(&html).contains(&key_page), "the event links to the key");
    assert!(html.contains(">keyward<"));
    // What, in words (and as recorded when keyward has no name for it).
    assert!(html.contains("API key use refused") && html.contains("Member access suspended"));
    assert!(html.contains("widget.polished"));
    // To what, from where, and the details worth reading.
    assert!(
        html.contains(">bob<") && html.contains("bob@acme.example"),
        "a person target by name"
    );
    assert!(html.contains("203.0.113.7") && html.contains("Mozilla/5.0 (X11)"));
    assert!(html.contains("the key is revoked"), "a refused use's reason in words");
    assert!(html.contains("QWERTYUIOP"), "the keys a suspension revoked");
}

#[tokio::test]
async fn another_orgs_log_is_not_found_page_or_download() {
    let (a, globex) = acme().await;
    Row::new(globex, at(1, 9), "api_key.created").insert(&a.app).await;
    for query in ["", "?format=csv", "?format=jsonl", "?action=api_key.created"] {
        let res = a.console.get(&format!("/o/{}/settings/audit-log{query}", globex)).await;
        assert_eq!(res.status(), 404, "another org's log{query}");
        let res = a
            .console
            .get(&format!("/o/{}/settings/audit-log{query}", Uuid::new_v4()))
            .await;
        assert_eq!(res.status(), 404, "an org that does not exist{query}");
    }
    let anonymous = Console::new(&a.app).get(&log_page(&a)).await;
    assert_eq!(anonymous.status(), 303, "signed out: to the sign-in page");
}

#[tokio::test]
async fn filters_by_action_actor_time_and_target_each_narrow_the_list() {
    let (a, _) = acme().await;
    let bob = person(&a.app, "bob@acme.example").await;
    a.app.member(a.org, bob, "admin").await;
    let key = key_named(&a, "ci", chrono::Duration::days(30)).await;
    let ada_created = Row {
        actor: ("user", Some(a.user)),
        target: Some(("api_key", key.id.to_string())),
        ..Row::new(a.org, at(1, 12), "api_key.created")
    }
    .insert(&a.app)
    .await;
    let bob_revoked = Row {
        actor: ("user", Some(bob)),
        target: Some(("api_key", key.id.to_string())),
        ..Row::new(a.org, at(3, 12), "api_key.revoked")
    }
    .insert(&a.app)
    .await;
    let key_refused = Row {
        actor: ("key", Some(key.id)),
        target: Some(("api_key", key.id.to_string())),
        details: json!({"reason": "revoked"}),
        ..Row::new(a.org, at(5, 12), "api_key.rejected_use")
    }
    .insert(&a.app)
    .await;
    let system = Row {
        target: Some(("user", bob.to_string())),
        ..Row::new(a.org, at(5, 13), "membership.suspended")
    }
    .insert(&a.app)
    .await;
    let global = [ada_created, bob_revoked, key_refused, system];
    let everything: HashSet<Uuid> = listed(&a, "").await.into_iter().collect();
    assert!(global.iter().all(|id| everything.contains(id)));

    assert_eq!(listed(&a, "action=api_key.revoked").await, [bob_revoked], "by action");
    assert_eq!(listed(&a, &format!("actor={bob}")).await, [bob_revoked], "by person");
    let ada_s: Vec<Uuid> = listed(&a, &format!("actor={}", a.user)).await;
    assert!(
        ada_s.contains(&ada_created) && !ada_s.contains(&bob_revoked),
        "by person"
    );
    assert_eq!(listed(&a, "actor=keys").await, [key_refused], "any key");
    assert_eq!(listed(&a, "actor=keyward").await, [system], "keyward itself");
    assert_eq!(
        listed(&a, "from=2026-06-02&to=2026-06-04").await,
        [bob_revoked],
        "whole days"
    );
    assert_eq!(
        listed(&a, "from=2026-06-01&to=2026-06-03").await,
        [bob_revoked, ada_created],
        "both ends of the range are included, as whole days"
    );
    let of_key = listed(&a, &format!("target=api_key:{}", key.id)).await;
    assert_eq!(
        of_key.len(),
        4,
        "the events of one key (its creation by the helper too)"
    );
    assert_eq!(of_key[1..], [key_refused, bob_revoked, ada_created]);
    let html = a
        .console
        .page(&format!("{}?target=api_key:{}", log_page(&a), key.id))
        .await;
    assert!(
        Page::parse(&html).has("#target-note") && html.contains(key.public_id()),
        "the page says whose events"
    );
    assert_eq!(
        listed(&a, &format!("action=api_key.revoked&actor={}", a.user)).await,
        [] as [Uuid; 0],
        "filters combine"
    );
    // The form shows the filters again, and the downloads carry them.
    let html = a
        .console
        .page(&format!("{}?action=api_key.revoked&from=2026-06-02", log_page(&a)))
        .await;
    let page = Page::parse(&html);
    assert!(page.has(r#"option[value="api_key.revoked"][selected]"#));
    assert!(page.has(r#"[value="2026-06-02"]"#));
    for format in ["csv", "jsonl"] {
        let download = format!("?action=api_key.revoked&from=2026-06-02&format={format}");
        assert!(links(&html).iter().any(|href| href.contains(&download)), "{download}");
    }
    // The actor list offers the people who appear as actors.
    let page = Page::parse(&a.console.page(&log_page(&a)).await);
    assert_eq!(
        page.text(&format!(r#"option[value="{bob}"]"#)).as_deref(),
        Some("bob (bob@acme.example)")
    );
}

#[tokio::test]
async fn pages_of_50_neither_repeat_nor_skip_events_that_share_a_time() {
    let (a, globex) = acme().await;
    // 130 events, ten to each of 13 timestamps, in one statement.
    sqlx::query(
        "INSERT INTO audit_events (id, org_id, time, actor_kind, action, target_kind, target_id)
         SELECT gen_random_uuid(), $1, $2::timestamptz + (i / 10) * interval '1 second', 'system',
                'api_key.revoked', 'api_key', 'bulk-' || i
         FROM generate_series(0, 129) AS i",
    )
    .bind(a.org)
    .bind(at(1, 0))
    .execute(&a.app.pool)
    .await
    .expect("events");
    Row::new(globex, at(1, 0), "api_key.revoked").insert(&a.app).await;
    let expected: Vec<Uuid> =
        sqlx::query_scalar("SELECT id FROM audit_events WHERE org_id = $1 ORDER BY time DESC, id DESC")
            .bind(a.org)
            .fetch_all(&a.app.pool)
            .await
            .expect("the org's events");
    assert!(expected.len() > 130);

    let (walked, pages) = walk(&a, log_page(&a)).await;
    assert_eq!(pages, expected.len().div_ceil(50));
    assert_eq!(walked, expected, "every event once, newest first, across pages");

    // The same with a filter, which the next-page links carry on.
    let bulk: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM audit_events WHERE org_id = $1 AND action = 'api_key.revoked' ORDER BY time DESC, id DESC",
    )
    .bind(a.org)
    .fetch_all(&a.app.pool)
    .await
    .expect("the bulk events");
    assert_eq!(bulk.len(), 130);
    let (walked, pages) = walk(&a, format!("{}?action=api_key.revoked&to=2026-06-01", log_page(&a))).await;
    assert_eq!((walked, pages), (bulk, 3));
}

/// Every event the pages from `first` on list, following the next-page links, and how many
/// pages there were.
async fn walk(a: &SignedInAdmin, first: String) -> (Vec<Uuid>, usize) {
    let mut walked = Vec::new();
    let mut pages = 0;
    let mut next = Some(first);
    while let Some(path) = next {
        let html = a.console.page(&path).await;
        let ids = event_ids(&html);
        assert!(ids.len() <= 50, "pages of 50");
        walked.extend(ids);
        pages += 1;
        next = Page::parse(&html).href("#next-page");
    }
    (walked, pages)
}

#[tokio::test]
async fn the_csv_download_holds_only_this_orgs_filtered_events_with_formulas_disarmed() {
    let (a, globex) = acme_with(behind_proxy()).await;
    let key = key_named(
        &a,
        "=HYPERLINK(\"http://evil.example\",\"x\")",
        chrono::Duration::days(30),
    )
    .await;
    revoke(&a, &key).await;
    present(&a.app, &key, "198.51.100.7", "@SUM(1+1)*cmd|' /C calc'!A0").await;
    refused_uses(&a.app, a.org, 1).await;
    Row {
        details: json!({"note": "-2+3"}),
        user_agent: Some("+dial"),
        ..Row::new(a.org, at(1, 9), "user.created")
    }
    .insert(&a.app)
    .await;
    Row {
        target: Some(("api_key", "globex-key".to_owned())),
        ..Row::new(globex, at(1, 9), "api_key.created")
    }
    .insert(&a.app)
    .await;

    let res = a.console.get(&format!("{}?format=csv", log_page(&a))).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()[CONTENT_TYPE]
            .to_str()
            .expect("type")
            .starts_with("text/csv")
    );
    assert_eq!(res.headers()[CACHE_CONTROL], "no-store");
    let disposition = res.headers()[CONTENT_DISPOSITION]
        .to_str()
        .expect("disposition")
        .to_owned();
    let today = Utc::now().format("%Y-%m-%d");
    assert_eq!(
        disposition,
        format!("attachment; filename=\"keyward-audit-{}-{today}.csv\"", a.org)
    );
    let text = res.text().await.expect("csv");
    let rows = parse_csv(text.trim_start_matches('\u{feff}'));
    assert_eq!(rows[0], COLUMNS, "a header row");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE org_id = $1")
        .bind(a.org)
        .fetch_one(&a.app.pool)
        .await
        .expect("count");
    assert_eq!(
        rows.len() - 1,
        usize::try_from(count).expect("count"),
        "every event of the org"
    );
    assert!(!text.contains("globex-key"), "none of another org");
    for row in &rows {
        assert_eq!(row.len(), COLUMNS.len());
        for cell in row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "no cell a spreadsheet would evaluate: {cell:?}"
            );
        }
    }
    let refused = rows
        .iter()
        .find(|row| row[1] == "api_key.rejected_use")
        .expect("the refused use");
    assert_eq!(refused[2], "key");
    assert_eq!(refused[3], key.id.to_string());
    assert_eq!(
        refused[4], "'=HYPERLINK(\"http://evil.example\",\"x\")",
        "the key's name, disarmed"
    );
    assert_eq!(refused[7], "198.51.100.7");
    assert_eq!(refused[8], "'@SUM(1+1)*cmd|' /C calc'!A0", "the user agent, disarmed");
    let details: Value = serde_json::from_str(&refused[9]).expect("details as JSON");
    assert_eq!(details["reason"], "revoked");
    assert!(DateTime::parse_from_rfc3339(&refused[0]).is_ok(), "RFC 3339 time");
    assert!(refused[0].ends_with('Z'), "in UTC");
    let created = rows
        .iter()
        .find(|row| row[1] == "user.created")
        .expect("the inserted event");
    assert_eq!(created[8], "'+dial");
    assert_eq!(created[2..5], ["system", "", "keyward"]);

    // The filter holds for the download: every event, not one page.
    let filtered = a
        .console
        .get(&format!("{}?format=csv&action=api_key.rejected_use", log_page(&a)))
        .await;
    let rows = parse_csv(filtered.text().await.expect("csv").trim_start_matches('\u{feff}'));
    assert_eq!(rows.len(), 2, "the header and the one refused use");
    assert_eq!(rows[1][1], "api_key.rejected_use");
}

#[tokio::test]
async fn a_download_holds_every_filtered_event_across_batches() {
    let (a, _) = acme().await;
    sqlx::query(
        "INSERT INTO audit_events (id, org_id, time, actor_kind, action, target_kind, target_id)
         SELECT gen_random_uuid(), $1, $2::timestamptz + (i / 7) * interval '1 millisecond', 'system',
                'api_key.revoked', 'api_key', 'bulk-' || i
         FROM generate_series(0, 2499) AS i",
    )
    .bind(a.org)
    .bind(at(1, 0))
    .execute(&a.app.pool)
    .await
    .expect("events");
    let text = a
        .console
        .get(&format!("{}?format=jsonl&action=api_key.revoked", log_page(&a)))
        .await
        .text()
        .await
        .expect("jsonl");
    let targets: HashSet<String> = text
        .lines()
        .map(|line| {
            serde_json::from_str::<Value>(line).expect("a JSON object")["target_id"]
                .as_str()
                .expect("target")
                .to_owned()
        })
        .collect();
    assert_eq!(
        targets.len(),
        2500,
        "no event lost or repeated between batches of 1,000"
    );
}

#[tokio::test]
async fn the_json_lines_download_is_one_object_per_line_with_the_same_fields() {
    let (a, globex) = acme_with(behind_proxy()).await;
    let key = key_named(&a, "=1+1", chrono::Duration::days(30)).await;
    revoke(&a, &key).await;
    present(&a.app, &key, "198.51.100.8", "=curl").await;
    refused_uses(&a.app, a.org, 1).await;
    Row {
        target: Some(("api_key", "globex-key".to_owned())),
        ..Row::new(globex, at(1, 9), "api_key.created")
    }
    .insert(&a.app)
    .await;

    let res = a.console.get(&format!("{}?format=jsonl", log_page(&a))).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()[CACHE_CONTROL], "no-store");
    let disposition = res.headers()[CONTENT_DISPOSITION].to_str().expect("disposition");
    assert!(disposition.starts_with(&format!("attachment; filename=\"keyward-audit-{}-", a.org)));
    assert!(disposition.ends_with(".jsonl\""));
    let text = res.text().await.expect("jsonl");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert!(!lines.is_empty());
    for line in &lines {
        let fields: Vec<&str> = line
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected = COLUMNS.to_vec();
        expected.sort_unstable();
        assert_eq!(fields, expected);
        assert_ne!(line["target_id"], "globex-key", "none of another org");
    }
    let refused = lines
        .iter()
        .find(|l| l["action"] == "api_key.rejected_use")
        .expect("the refused use");
    assert_eq!(
        refused["actor_name"], "=1+1",
        "JSON is no spreadsheet: values as recorded"
    );
    assert_eq!(refused["user_agent"], "=curl");
    assert_eq!(refused["ip"], "198.51.100.8");
    assert_eq!(refused["details"]["reason"], "revoked");
}

#[tokio::test]
async fn bad_filter_input_is_answered_beside_its_field() {
    let (a, _) = acme().await;
    for (query, field) in [
        ("from=2026-13-45", "from"),
        ("to=yesterday", "to"),
        ("from=2026-06-05&to=2026-06-01", "from"),
        ("action=api_key.deleted", "action"),
        ("actor=somebody", "actor"),
    ] {
        for format in ["", "&format=csv", "&format=jsonl"] {
            let res = a.console.get(&format!("{}?{query}{format}", log_page(&a))).await;
            assert_eq!(res.status(), 422, "{query}{format}");
            assert!(
                res.headers()[CONTENT_TYPE]
                    .to_str()
                    .expect("type")
                    .starts_with("text/html")
            );
            let html = res.text().await.expect("page");
            assert!(
                Page::parse(&html).has(&format!("#{field}-error")),
                "{query}: the error beside {field}"
            );
            assert!(Page::parse(&html).has(r#"[aria-invalid="true"]"#), "{query}");
            assert_eq!(Page::parse(&html).count(".field-error"), 1, "{query}: only that field");
            assert!(Page::parse(&html).has("#filters-invalid"));
        }
    }
    let html = a
        .console
        .get(&format!("{}?from=2026-06-05&to=2026-06-01", log_page(&a)))
        .await
        .text()
        .await
        .expect("page");
    assert!(html.contains("The start date must not be after the end date."));
    assert!(
        Page::parse(&html).has(r#"[value="2026-06-05"]"#),
        "what was entered is shown again"
    );
    let res = a.console.get(&format!("{}?target=nonsense", log_page(&a))).await;
    assert_eq!(res.status(), 422);
    assert!(Page::parse(&res.text().await.expect("page")).has("#target-error"));
}

#[tokio::test]
async fn forgotten_keys_are_counted_on_the_keys_list_and_the_selection_screen_and_link_to_their_events() {
    let (a, globex) = acme_with(behind_proxy()).await;
    a.app.member(globex, a.user, "admin").await;
    let keys = format!("/o/{}/settings/api-keys", a.org);
    let quiet = a.console.page(&keys).await;
    assert!(!Page::parse(&quiet).has("#forgotten-keys"), "nothing to say when none");

    let revoked = key_named(&a, "old deploy", chrono::Duration::days(30)).await;
    revoke(&a, &revoked).await;
    let expired = key_named(&a, "old cron", chrono::Duration::seconds(1)).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    present(&a.app, &revoked, "198.51.100.1", "deploy/1").await;
    present(&a.app, &revoked, "198.51.100.2", "deploy/1").await;
    present(&a.app, &expired, "198.51.100.3", "cron/1").await;
    refused_uses(&a.app, a.org, 3).await;
    // Not forgotten keys: a refusal for another reason, one from long ago, another org's.
    let not_allowed = Row {
        actor: ("key", Some(revoked.id)),
        target: Some(("api_key", revoked.id.to_string())),
        ip: Some("198.51.100.9"),
        details: json!({"reason": "address_not_allowed", "secret_proven": true}),
        ..Row::new(a.org, Utc::now(), "api_key.rejected_use")
    }
    .insert(&a.app)
    .await;
    let long_ago = Row {
        actor: ("key", Some(revoked.id)),
        target: Some(("api_key", Uuid::new_v4().to_string())),
        ip: Some("198.51.100.10"),
        details: json!({"reason": "revoked", "secret_proven": true}),
        ..Row::new(a.org, Utc::now() - chrono::Duration::days(32), "api_key.rejected_use")
    }
    .insert(&a.app)
    .await;

    let html = a.console.page(&keys).await;
    assert!(Page::parse(&html).has("#forgotten-keys"));
    assert!(
        html.contains("Revoked or expired API keys presented in the last 30 days: 2 (distinct addresses: 3)."),
        "two keys, three addresses"
    );
    let orgs = a.console.page("/orgs").await;
    assert!(Page::parse(&orgs).has(&format!("#forgotten-{}", a.org)));
    assert!(orgs.contains("Revoked or expired keys presented in the last 30 days: 2 (distinct addresses: 3)"));
    assert!(
        !Page::parse(&orgs).has(&format!("#forgotten-{}", globex)),
        "none for the org without"
    );

    let link = Page::parse(&html)
        .href("#forgotten-link")
        .expect("a link to the events");
    assert!(
        links(&orgs).contains(&link),
        "the selection screen links to the same events"
    );
    let log = a.console.page(&link).await;
    let listed = event_ids(&log);
    assert_eq!(listed.len(), 3, "the three refused uses of revoked or expired keys");
    assert!(!listed.contains(&not_allowed) && !listed.contains(&long_ago));
    assert!(Page::parse(&log).has("#forgotten-note"));
    assert!(log.contains("198.51.100.1") && log.contains("198.51.100.3"));
}

#[tokio::test]
async fn the_log_and_the_forgotten_keys_notice_speak_japanese_without_an_english_message() {
    use keyward::console::catalog::audit_log::{EN, JA};
    let (a, _) = acme().await;
    let csrf = a.console.csrf().await;
    let res = a
        .console
        .post("/language", &[("csrf", &csrf), ("lang", "ja"), ("back", "/orgs")])
        .await;
    assert_eq!(res.status(), 303);
    let key = key_named(&a, "夜間同期", chrono::Duration::days(30)).await;
    revoke(&a, &key).await;
    Row {
        actor: ("key", Some(key.id)),
        target: Some(("api_key", key.id.to_string())),
        ip: Some("198.51.100.4"),
        details: json!({"reason": "revoked", "secret_proven": false}),
        ..Row::new(a.org, Utc::now(), "api_key.rejected_use")
    }
    .insert(&a.app)
    .await;
    let keys = a.console.page(&format!("/o/{}/settings/api-keys", a.org)).await;
    assert!(keys.contains(JA.forgotten_title));
    let log = a.console.page(&log_page(&a)).await;
    let bad = a
        .console
        .get(&format!("{}?from=2026-02-30", log_page(&a)))
        .await
        .text()
        .await
        .expect("page");
    for (page, html) in [("keys", &keys), ("log", &log), ("bad filters", &bad)] {
        assert_eq!(Page::parse(html).lang(), "ja", "{page}");
        for ((name, en), (_, ja)) in EN.all().into_iter().zip(JA.all()) {
            if en != ja && !en.contains('{') {
                assert!(!html.contains(&format!(">{en}<")), "{page}: {name} in English");
            }
        }
    }
    assert!(
        log.contains(JA.api_key_rejected_use) && log.contains(JA.api_key_revoked) && log.contains(JA.api_key_created)
    );
    assert!(log.contains(JA.reason_revoked));
    assert!(bad.contains(JA.date_unreadable));
}
