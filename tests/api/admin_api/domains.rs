//! Domains: the API that lists them (v1 and v2 paths) and the command line that claims,
//! verifies and removes them.

use keyward::domain::Scope;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{TestApp, database_server, domains, error_body, fresh_database, keyward};

fn list_path(version: &str, org: Uuid) -> String {
    format!("/admin/{version}/orgs/{org}/domains")
}

async fn created_at(app: &TestApp, id: Uuid) -> (Value, Value) {
    let (created, verified): (chrono::DateTime<chrono::Utc>, Option<chrono::DateTime<chrono::Utc>>) =
        sqlx::query_as("SELECT created_at, verified_at FROM domains WHERE id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .expect("domain");
    (json!(created), json!(verified))
}

#[tokio::test]
async fn domains_are_listed_and_got_in_the_wire_shape_under_v1_and_v2() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let verified = app.domain(org, "acme.example", true).await;
    let unverified = app.domain(org, "mail.acme.example", false).await;
    let key = app.key(org, Some(&[Scope::ReadDomains])).await;

    for version in ["v1", "v2"] {
        let base = format!("{}{}", app.address, list_path(version, org));
        let res = app.api(Method::GET, &list_path(version, org), &key.token).await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "application/json;charset=UTF-8");
        let body: Value = res.json().await.expect("JSON");
        let (created, verified_at) = created_at(&app, verified).await;
        let (created2, _) = created_at(&app, unverified).await;
        assert_eq!(
            body,
            json!({
                "data": [
                    { "id": verified, "type": "domains",
                      "attributes": { "name": "acme.example", "claim": { "type": "dns", "status": "verified" },
                                      "createdAt": created, "verifiedAt": verified_at },
                      "links": { "self": format!("{base}/{verified}") } },
                    { "id": unverified, "type": "domains",
                      "attributes": { "name": "mail.acme.example", "claim": { "type": "dns", "status": "unverified" },
                                      "createdAt": created2, "verifiedAt": null },
                      "links": { "self": format!("{base}/{unverified}") } },
                ],
                "links": { "self": format!("{base}?limit=50"), "prev": null, "next": null }
            })
        );
        let one = format!("{}/{verified}", list_path(version, org));
        let res = app.api(Method::GET, &one, &key.token).await;
        assert_eq!(res.status(), 200);
        let single: Value = res.json().await.expect("JSON");
        assert_eq!(single, json!({ "data": body["data"][0] }));
    }
}

#[tokio::test]
async fn the_orgs_domains_relationship_points_at_the_domain_list() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    app.domain(org, "acme.example", false).await;
    let key = app.key(org, None).await;
    let orgs: Value = app
        .api(Method::GET, &format!("/admin/v1/orgs/{org}"), &key.token)
        .await
        .json()
        .await
        .expect("JSON");
    let related = orgs["data"]["relationships"]["domains"]["links"]["related"]
        .as_str()
        .expect("a related link");
    let path = related
        .strip_prefix(&app.address)
        .expect("an absolute URL of this instance");
    let res = app.api(Method::GET, path, &key.token).await;
    assert_eq!(res.status(), 200);
    let list: Value = res.json().await.expect("JSON");
    assert_eq!(list["data"][0]["attributes"]["name"], "acme.example");
}

#[tokio::test]
async fn the_cursor_walks_every_domain_once() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let mut expected = Vec::new();
    for i in 0..7 {
        expected.push(app.domain(org, &format!("d{i}.acme.example"), false).await.to_string());
    }
    let key = app.key(org, None).await;
    let mut path = format!("{}?limit=3", list_path("v2", org));
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let body: Value = app
            .api(Method::GET, &path, &key.token)
            .await
            .json()
            .await
            .expect("JSON");
        pages += 1;
        for item in body["data"].as_array().expect("data") {
            seen.push(item["id"].as_str().expect("id").to_owned());
        }
        match body["links"]["next"].as_str() {
            Some(next) => path = next.strip_prefix(&app.address).expect("own URL").to_owned(),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, expected, "oldest claim first, none twice, none missing");
}

#[tokio::test]
async fn an_unknown_a_foreign_and_a_malformed_domain_id_are_the_same_404() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let other = app.org("Globex").await;
    let theirs = app.domain(other, "globex.example", true).await;
    let key = app.key(org, None).await;
    let mut answers = Vec::new();
    for id in [theirs.to_string(), Uuid::new_v4().to_string(), "not-an-id".to_owned()] {
        let res = app
            .api(Method::GET, &format!("{}/{id}", list_path("v1", org)), &key.token)
            .await;
        assert_eq!(res.status(), 404, "{id}");
        answers.push(error_body(res).await);
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[1], answers[2]);
    assert_eq!(answers[0]["errors"][0]["code"], "ADMIN-404-3");
    // Another org's list is the org's 404.
    let res = app.api(Method::GET, &list_path("v2", other), &key.token).await;
    assert_eq!(res.status(), 404);
    assert_eq!(error_body(res).await["errors"][0]["code"], "ADMIN-404-2");
}

#[tokio::test]
async fn the_domains_scope_is_needed_and_a_key_without_scopes_may_read() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let domain = app.domain(org, "acme.example", false).await;
    let others = app.key(org, Some(&[Scope::ReadOrgs, Scope::ReadAccounts])).await;
    let unscoped = app.key(org, None).await;
    for path in [list_path("v1", org), format!("{}/{domain}", list_path("v2", org))] {
        let res = app.api(Method::GET, &path, &others.token).await;
        assert_eq!(res.status(), 403, "{path}");
        assert_eq!(
            res.headers()["www-authenticate"],
            r#"Bearer error="insufficient_scope", scope="read:domains:admin""#
        );
        assert_eq!(
            app.api(Method::GET, &path, &unscoped.token).await.status(),
            200,
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_bad_cursor_or_limit_is_a_400_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    app.domain(org, "acme.example", false).await;
    let key = app.key(org, None).await;
    let before = (app.count("domains").await, app.count("audit_events").await);
    for (query, code) in [
        ("cursor=zz", "ADMIN-400-1"),
        ("limit=0", "ADMIN-400-24"),
        ("limit=101", "ADMIN-400-24"),
        ("limit=many", "ADMIN-400-24"),
    ] {
        let res = app
            .api(Method::GET, &format!("{}?{query}", list_path("v1", org)), &key.token)
            .await;
        assert_eq!(res.status(), 400, "{query}");
        assert_eq!(error_body(res).await["errors"][0]["code"], code, "{query}");
    }
    assert_eq!(before, (app.count("domains").await, app.count("audit_events").await));
}

#[tokio::test]
async fn a_name_is_verified_by_at_most_one_org_but_may_be_claimed_by_several() {
    let (_, pool) = fresh_database().await;
    let mut ids = Vec::new();
    for name in ["Acme", "Globex"] {
        let id = Uuid::new_v4();
        sqlx::query("INSERT INTO orgs (id, name) VALUES ($1, $2)")
            .bind(id)
            .bind(name)
            .execute(&pool)
            .await
            .expect("org");
        ids.push(id);
    }
    let claim = |org: Uuid, status: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query(
                "INSERT INTO domains (id, org_id, name, claim_type, status, verified_at)
                 VALUES (gen_random_uuid(), $1, 'shared.example', 'dns', $2,
                         CASE WHEN $2 = 'verified' THEN now() END)",
            )
            .bind(org)
            .bind(status)
            .execute(&pool)
            .await
        }
    };
    claim(ids[0], "verified").await.expect("the first verification");
    claim(ids[1], "unverified")
        .await
        .expect("a second org may claim the name");
    let second = sqlx::query("UPDATE domains SET status = 'verified', verified_at = now() WHERE org_id = $1")
        .bind(ids[1])
        .execute(&pool)
        .await;
    assert!(
        matches!(&second, Err(sqlx::Error::Database(db)) if db.constraint() == Some("domains_verified_once")),
        "{second:?}"
    );
    assert!(claim(ids[0], "unverified").await.is_err(), "one claim per org and name");
    for garbage in ["Upper.Example", "no_underscores.example", "single", "-x.example"] {
        let refused =
            sqlx::query("INSERT INTO domains (id, org_id, name, claim_type) VALUES (gen_random_uuid(), $1, $2, 'dns')")
                .bind(ids[0])
                .bind(garbage)
                .execute(&pool)
                .await;
        assert!(refused.is_err(), "{garbage} is not a stored name");
    }
}

#[tokio::test]
async fn domains_add_verify_list_and_remove_from_the_command_line_each_with_its_event() {
    let (db_name, pool) = fresh_database().await;
    let url = database_server().url(&db_name);
    let org = crate::harness::arranged::org_row(&pool, "Acme").await.to_string();

    let (status, stdout, stderr) = domains(&url, &["add", "--org", &org, "Acme.Example."]);
    assert_eq!(status, Some(0), "{stderr}");
    let id = stdout.trim().to_owned();
    let (status, _, stderr) = domains(&url, &["add", "--org", &org, "--claim", "http", "www.acme.example"]);
    assert_eq!(status, Some(0), "{stderr}");
    let (status, _, stderr) = domains(&url, &["verify", "--org", &org, "acme.example"]);
    assert_eq!(status, Some(0), "{stderr}");

    let (status, stdout, _) = domains(&url, &["list", "--org", &org]);
    assert_eq!(status, Some(0));
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert_eq!(lines[0], format!("{id}\tacme.example\tdns\tverified"));
    assert!(
        lines[1].ends_with("\twww.acme.example\thttp\tunverified"),
        "{}",
        lines[1]
    );

    let (status, _, stderr) = domains(&url, &["remove", "--org", &org, "www.acme.example"]);
    assert_eq!(status, Some(0), "{stderr}");
    let (_, stdout, _) = domains(&url, &["list", "--org", &org]);
    assert_eq!(stdout.lines().count(), 1);

    let events: Vec<(String, String, Option<Uuid>, Value)> =
        sqlx::query_as("SELECT action, actor_kind::text, actor_id, details FROM audit_events ORDER BY time, action")
            .fetch_all(&pool)
            .await
            .expect("events");
    let actions: Vec<&str> = events.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        actions,
        ["domain.added", "domain.added", "domain.verified", "domain.removed"]
    );
    for (_, actor, actor_id, details) in &events {
        assert_eq!((actor.as_str(), *actor_id), ("system", None));
        assert_eq!(details["via"], "cli");
    }
    assert_eq!(events[3].3["name"], "www.acme.example");
}

#[tokio::test]
async fn bad_domain_commands_say_why_in_one_line_exit_2_and_write_nothing() {
    let (db_name, pool) = fresh_database().await;
    let url = database_server().url(&db_name);
    let org = crate::harness::arranged::org_row(&pool, "Acme").await.to_string();
    let other = crate::harness::arranged::org_row(&pool, "Globex").await.to_string();
    for args in [
        vec!["add", "--org", &org, "acme.example"],
        vec!["add", "--org", &other, "acme.example"],
        vec!["verify", "--org", &other, "acme.example"],
    ] {
        let (status, _, stderr) = domains(&url, &args);
        assert_eq!(status, Some(0), "{args:?}: {stderr}");
    }
    let before = (
        sqlx::query_scalar::<_, String>("SELECT string_agg(to_jsonb(d)::text, ',' ORDER BY id) FROM domains d")
            .fetch_one(&pool)
            .await
            .expect("domains"),
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM audit_events")
            .fetch_one(&pool)
            .await
            .expect("events"),
    );
    let unknown_org = Uuid::new_v4().to_string();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["add", "--org", &org, "not a domain"], "NAME"),
        (vec!["add", "--org", &org, "localhost"], "at least two labels"),
        (vec!["add", "--org", &org, "bücher.example"], "xn--"),
        (vec!["add", "--org", &org, "acme.example"], "already"),
        (vec!["add", "--org", &org, "--claim", "ftp", "x.example"], "ftp"),
        (vec!["add", "--org", &unknown_org, "x.example"], "no organization"),
        (vec!["verify", "--org", &org, "acme.example"], "another organization"),
        (vec!["verify", "--org", &org, "nothing.example"], "not claimed"),
        (vec!["remove", "--org", &org, "nothing.example"], "not claimed"),
        (vec!["list", "--org", "not-a-uuid"], "not-a-uuid"),
    ];
    for (args, says) in cases {
        let (status, _, stderr) = domains(&url, &args);
        assert_eq!(status, Some(2), "{args:?}: {stderr}");
        // Besides the server's own log lines, one line says what was wrong.
        let said: Vec<&str> = stderr.lines().filter(|l| l.starts_with("keyward: ")).collect();
        assert_eq!(said.len(), 1, "{args:?}: {stderr:?}");
        assert!(said[0].contains(says), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}");
    }
    let after = (
        sqlx::query_scalar::<_, String>("SELECT string_agg(to_jsonb(d)::text, ',' ORDER BY id) FROM domains d")
            .fetch_one(&pool)
            .await
            .expect("domains"),
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM audit_events")
            .fetch_one(&pool)
            .await
            .expect("events"),
    );
    assert_eq!(before, after);
}

#[test]
fn verify_says_it_records_the_operators_attestation() {
    let output = keyward()
        .args(["domains", "verify", "--help"])
        .output()
        .expect("run keyward");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("cannot reach DNS"), "{help}");
    assert!(help.contains("attestation"), "{help}");
}
