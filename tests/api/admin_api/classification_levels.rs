//! Classification levels: the API's shapes, and the lifecycle's rules (edit only drafts,
//! publish only drafts, archive only published levels, restore only archived ones, reorder
//! naming every published level exactly once), each shown to hold with nothing written when
//! refused.

use keyward::domain::Scope;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{Answer, TestApp, error_body};

fn levels(org: Uuid) -> String {
    format!("/admin/dlp/v1/orgs/{org}/classification-levels")
}

struct Org {
    app: TestApp,
    org: Uuid,
    /// A key with both classification scopes.
    token: String,
}

async fn org() -> Org {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let token = app
        .key(
            org,
            Some(&[Scope::ReadClassificationLevels, Scope::WriteClassificationLevels]),
        )
        .await
        .token;
    Org { app, org, token }
}

impl Org {
    async fn post(&self, action: &str, body: Value) -> Answer {
        let path = if action.is_empty() {
            levels(self.org)
        } else {
            format!("{}/{action}", levels(self.org))
        };
        self.app.api_json(Method::POST, &path, &self.token, &body).await
    }

    async fn put(&self, id: Uuid, body: Value) -> Answer {
        let path = format!("{}/{id}", levels(self.org));
        self.app.api_json(Method::PUT, &path, &self.token, &body).await
    }

    async fn create(&self, name: &str) -> Uuid {
        let res = self.post("", json!({ "name": name })).await;
        assert_eq!(res.status(), 201);
        let body: Value = res.json().await.expect("JSON");
        body["id"].as_str().expect("id").parse().expect("uuid")
    }

    async fn publish(&self, ids: &[Uuid]) -> Answer {
        self.post("publish", json!({ "levelIds": ids })).await
    }

    /// (name, status, rank) of every level, in the list's order.
    async fn listed(&self) -> Vec<(String, String, Option<i64>)> {
        let body: Value = self
            .app
            .api(Method::GET, &levels(self.org), &self.token)
            .await
            .json()
            .await
            .expect("JSON");
        body["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|l| {
                (
                    l["name"].as_str().expect("name").to_owned(),
                    l["status"].as_str().expect("status").to_owned(),
                    l["rank"].as_i64(),
                )
            })
            .collect()
    }

    /// Every level row and every event: what a refused request must leave as it was.
    async fn rows(&self) -> (Vec<String>, Vec<String>) {
        (
            self.app.snapshot("classification_levels").await,
            self.app.snapshot("audit_events").await,
        )
    }

    async fn actions(&self) -> Vec<String> {
        sqlx::query_scalar(
            "SELECT action FROM audit_events WHERE action LIKE 'classification_level.%' ORDER BY time, id",
        )
        .fetch_all(&self.app.pool)
        .await
        .expect("events")
    }
}

fn names(listed: &[(String, String, Option<i64>)]) -> Vec<(&str, &str, Option<i64>)> {
    listed.iter().map(|(n, s, r)| (n.as_str(), s.as_str(), *r)).collect()
}

async fn refused(res: Answer, status: u16, code: &str, says: &str) {
    assert_eq!(res.status(), status);
    let body = error_body(res).await;
    assert_eq!(body["errors"][0]["code"], code, "{body}");
    let detail = body["errors"][0]["detail"].as_str().expect("detail");
    assert!(detail.contains(says), "{detail:?} should say {says:?}");
}

#[tokio::test]
async fn a_level_is_created_as_a_draft_in_the_wire_shape_and_read_back() {
    let o = org().await;
    let res = o
        .post(
            "",
            json!({ "name": " Restricted ", "description": "Customer data", "guideline": "Never share.\nEncrypt.", "color": "red_bold", "status": "published" }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.expect("JSON");
    let id = created["id"].as_str().expect("id").to_owned();
    let (at, updated): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) =
        sqlx::query_as("SELECT created_at, updated_at FROM classification_levels WHERE id = $1::uuid")
            .bind(&id)
            .fetch_one(&o.app.pool)
            .await
            .expect("row");
    assert_eq!(
        created,
        json!({
            "id": id, "name": "Restricted", "description": "Customer data", "guideline": "Never share.\nEncrypt.",
            "color": "RED_BOLD", "status": "draft", "rank": null, "createdAt": at, "updatedAt": updated
        })
    );
    let got: Value = o
        .app
        .api(Method::GET, &format!("{}/{id}", levels(o.org)), &o.token)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(got, created);
    // The Python client's own example: a name alone.
    let res = o.post("", json!({ "data": { "name": "Public" } })).await;
    let bare: Value = res.json().await.expect("JSON");
    assert_eq!(
        (bare["color"].as_str(), bare["description"].as_str()),
        (Some("GREY"), None)
    );
    assert_eq!(
        o.actions().await,
        ["classification_level.created", "classification_level.created"]
    );
}

#[tokio::test]
async fn the_list_shows_published_levels_by_rank_then_drafts_then_archived_and_filters_by_status() {
    let o = org().await;
    let [a, b, c, d] = [
        o.create("A").await,
        o.create("B").await,
        o.create("C").await,
        o.create("D").await,
    ];
    assert_eq!(o.publish(&[c, a, d]).await.status(), 200);
    assert_eq!(o.post("archive", json!({ "levelId": d })).await.status(), 200);
    let _ = b;
    assert_eq!(
        names(&o.listed().await),
        [
            ("C", "published", Some(1)),
            ("A", "published", Some(2)),
            ("B", "draft", None),
            ("D", "archived", None)
        ]
    );
    let path = format!("{}?status=archived,Draft", levels(o.org));
    let body: Value = o
        .app
        .api(Method::GET, &path, &o.token)
        .await
        .json()
        .await
        .expect("JSON");
    let filtered: Vec<&str> = body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|l| l["name"].as_str().expect("name"))
        .collect();
    assert_eq!(filtered, ["B", "D"]);
    let bad = format!("{}?status=retired", levels(o.org));
    refused(
        o.app.api(Method::GET, &bad, &o.token).await,
        400,
        "ADMIN-400-24",
        "retired",
    )
    .await;
}

#[tokio::test]
async fn bad_create_bodies_are_400s_naming_the_field_and_write_nothing() {
    let o = org().await;
    o.create("Internal").await;
    let before = o.rows().await;
    for (body, says) in [
        (json!({}), "name is required"),
        (json!({ "name": "  " }), "name must not be empty"),
        (json!({ "name": "x".repeat(101) }), "name must be at most 100"),
        (json!({ "name": 7 }), "name must be a string"),
        (json!({ "name": "Secret", "color": "#ff0000" }), "color must be one of"),
        (
            json!({ "name": "Secret", "description": "d".repeat(1001) }),
            "description must be at most 1000",
        ),
        (
            json!({ "name": "Secret", "guideline": "g".repeat(5001) }),
            "guideline must be at most 5000",
        ),
        (json!(["Secret"]), "JSON object"),
    ] {
        refused(o.post("", body).await, 400, "ADMIN-400-24", says).await;
    }
    assert_eq!(o.rows().await, before);
}

#[tokio::test]
async fn names_are_unique_among_levels_in_use_whatever_their_case() {
    let o = org().await;
    let internal = o.create("Internal").await;
    let before = o.rows().await;
    refused(
        o.post("", json!({ "name": "INTERNAL" })).await,
        409,
        "ADMIN-409-4",
        "INTERNAL",
    )
    .await;
    assert_eq!(o.rows().await, before);
    // Once archived, the name is free again; the archived level cannot come back while taken.
    assert_eq!(o.publish(&[internal]).await.status(), 200);
    assert_eq!(o.post("archive", json!({ "levelId": internal })).await.status(), 200);
    o.create("internal").await;
    let before = o.rows().await;
    refused(
        o.post("restore", json!({ "levelId": internal })).await,
        409,
        "ADMIN-409-4",
        "Internal",
    )
    .await;
    assert_eq!(o.rows().await, before);
}

#[tokio::test]
async fn a_draft_is_edited_in_place() {
    let o = org().await;
    let id = o.create("Internal").await;
    let res = o
        .put(
            id,
            json!({ "name": "Internal only", "description": "Staff", "color": "BLUE" }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let edited: Value = res.json().await.expect("JSON");
    assert_eq!(
        (
            &edited["id"],
            &edited["name"],
            &edited["description"],
            &edited["color"],
            &edited["status"]
        ),
        (
            &json!(id),
            &json!("Internal only"),
            &json!("Staff"),
            &json!("BLUE"),
            &json!("draft")
        )
    );
    let cleared: Value = o
        .put(id, json!({ "description": null }))
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        (&cleared["description"], &cleared["name"]),
        (&Value::Null, &json!("Internal only"))
    );
    assert_eq!(
        o.actions().await,
        [
            "classification_level.created",
            "classification_level.updated",
            "classification_level.updated"
        ]
    );
    let before = o.rows().await;
    refused(
        o.put(id, json!({ "color": "plaid" })).await,
        400,
        "ADMIN-400-24",
        "color",
    )
    .await;
    refused(o.put(id, json!({ "name": null })).await, 400, "ADMIN-400-24", "name").await;
    assert_eq!(o.rows().await, before);
}

#[tokio::test]
async fn a_published_level_cannot_be_edited_nor_an_archived_one() {
    let o = org().await;
    let published = o.create("Published").await;
    let archived = o.create("Archived").await;
    assert_eq!(o.publish(&[published, archived]).await.status(), 200);
    assert_eq!(o.post("archive", json!({ "levelId": archived })).await.status(), 200);
    let before = o.rows().await;
    for (id, status) in [(published, "published"), (archived, "archived")] {
        let res = o.put(id, json!({ "name": "Renamed" })).await;
        refused(
            res,
            409,
            "ADMIN-409-3",
            &format!("is {status} and cannot be edited; only a draft"),
        )
        .await;
    }
    assert_eq!(o.rows().await, before);
}

#[tokio::test]
async fn publishing_appends_drafts_in_the_order_given() {
    let o = org().await;
    let [a, b, c] = [o.create("A").await, o.create("B").await, o.create("C").await];
    assert_eq!(o.publish(&[b]).await.status(), 200);
    let res = o.publish(&[c, a]).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.expect("JSON");
    let answered: Vec<(&str, i64)> = body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|l| (l["name"].as_str().expect("name"), l["rank"].as_i64().expect("rank")))
        .collect();
    assert_eq!(answered, [("C", 2), ("A", 3)]);
    assert_eq!(
        names(&o.listed().await),
        [
            ("B", "published", Some(1)),
            ("C", "published", Some(2)),
            ("A", "published", Some(3))
        ]
    );
    assert_eq!(
        o.actions()
            .await
            .iter()
            .filter(|a| *a == "classification_level.published")
            .count(),
        3
    );
}

#[tokio::test]
async fn publishing_takes_only_drafts_of_the_org_all_or_nothing() {
    let o = org().await;
    let draft = o.create("Draft").await;
    let published = o.create("Published").await;
    assert_eq!(o.publish(&[published]).await.status(), 200);
    let other_org = o.app.org("Globex").await;
    let theirs = o.app.level(other_org, "Theirs").await;
    let before = o.rows().await;
    refused(
        o.publish(&[draft, published]).await,
        409,
        "ADMIN-409-3",
        "is published and cannot be published",
    )
    .await;
    refused(
        o.publish(&[draft, theirs]).await,
        404,
        "ADMIN-404-1",
        "No classification level",
    )
    .await;
    refused(
        o.publish(&[draft, Uuid::new_v4()]).await,
        404,
        "ADMIN-404-1",
        "No classification level",
    )
    .await;
    refused(o.publish(&[draft, draft]).await, 400, "ADMIN-400-24", "more than once").await;
    refused(o.publish(&[]).await, 400, "ADMIN-400-24", "at least one").await;
    refused(
        o.post("publish", json!({ "levelIds": ["x"] })).await,
        400,
        "ADMIN-400-24",
        "levelIds[0]",
    )
    .await;
    refused(
        o.post("publish", json!({})).await,
        400,
        "ADMIN-400-24",
        "levelIds is required",
    )
    .await;
    assert_eq!(
        o.rows().await,
        before,
        "the draft named beside a refused level stays a draft"
    );
}

#[tokio::test]
async fn archiving_takes_only_a_published_level_and_closes_the_ranks_up() {
    let o = org().await;
    let [a, b, c] = [o.create("A").await, o.create("B").await, o.create("C").await];
    let draft = o.create("Draft").await;
    assert_eq!(o.publish(&[a, b, c]).await.status(), 200);
    let res = o.post("archive", json!({ "levelId": a })).await;
    assert_eq!(res.status(), 200);
    let archived: Value = res.json().await.expect("JSON");
    assert_eq!(
        (&archived["status"], &archived["rank"]),
        (&json!("archived"), &Value::Null)
    );
    assert_eq!(
        names(&o.listed().await),
        [
            ("B", "published", Some(1)),
            ("C", "published", Some(2)),
            ("Draft", "draft", None),
            ("A", "archived", None)
        ]
    );
    let before = o.rows().await;
    for (id, status) in [(draft, "draft"), (a, "archived")] {
        let res = o.post("archive", json!({ "levelId": id })).await;
        refused(res, 409, "ADMIN-409-3", &format!("is {status} and cannot be archived")).await;
    }
    refused(
        o.post("archive", json!({ "levelId": Uuid::new_v4() })).await,
        404,
        "ADMIN-404-1",
        "",
    )
    .await;
    refused(
        o.post("archive", json!({ "levelId": 5 })).await,
        400,
        "ADMIN-400-24",
        "levelId",
    )
    .await;
    assert_eq!(o.rows().await, before);
    assert!(o.actions().await.contains(&"classification_level.archived".to_owned()));
}

#[tokio::test]
async fn restoring_takes_only_an_archived_level_and_makes_it_a_draft() {
    let o = org().await;
    let [a, b] = [o.create("A").await, o.create("B").await];
    let draft = o.create("Draft").await;
    assert_eq!(o.publish(&[a, b]).await.status(), 200);
    assert_eq!(o.post("archive", json!({ "levelId": a })).await.status(), 200);
    let res = o.post("restore", json!({ "levelId": a })).await;
    assert_eq!(res.status(), 200);
    let restored: Value = res.json().await.expect("JSON");
    assert_eq!(
        (&restored["status"], &restored["rank"]),
        (&json!("draft"), &Value::Null)
    );
    assert!(o.actions().await.contains(&"classification_level.restored".to_owned()));
    let before = o.rows().await;
    for (id, status) in [(b, "published"), (draft, "draft")] {
        let res = o.post("restore", json!({ "levelId": id })).await;
        refused(res, 409, "ADMIN-409-3", &format!("is {status} and cannot be restored")).await;
    }
    assert_eq!(o.rows().await, before);
}

#[tokio::test]
async fn a_reorder_ranks_the_published_levels_in_the_order_given() {
    let o = org().await;
    let [a, b, c] = [o.create("A").await, o.create("B").await, o.create("C").await];
    assert_eq!(o.publish(&[a, b, c]).await.status(), 200);
    let res = o.post("reorder", json!({ "levelIds": [c, a, b] })).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.expect("JSON");
    let order: Vec<(&str, i64)> = body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|l| (l["name"].as_str().expect("name"), l["rank"].as_i64().expect("rank")))
        .collect();
    assert_eq!(order, [("C", 1), ("A", 2), ("B", 3)]);
    assert_eq!(
        o.actions().await.last().map(String::as_str),
        Some("classification_level.reordered")
    );
}

#[tokio::test]
async fn a_reorder_must_name_every_published_level_exactly_once() {
    let o = org().await;
    let [a, b, c] = [o.create("A").await, o.create("B").await, o.create("C").await];
    let draft = o.create("Draft").await;
    assert_eq!(o.publish(&[a, b, c]).await.status(), 200);
    let stranger = Uuid::new_v4();
    let before = o.rows().await;
    for (ids, says) in [
        (vec![a, b], format!("missing: {c}")),
        (
            vec![a, b, c, draft],
            format!("not published levels of this organization: {draft}"),
        ),
        (
            vec![a, b, c, stranger],
            format!("not published levels of this organization: {stranger}"),
        ),
        (vec![a, b, c, a], format!("named more than once: {a}")),
        (vec![], format!("missing: {a}, {b}, {c}")),
    ] {
        let res = o.post("reorder", json!({ "levelIds": ids })).await;
        refused(res, 400, "ADMIN-400-24", &says).await;
    }
    assert_eq!(o.rows().await, before);
}

#[tokio::test]
async fn reading_needs_the_read_scope_and_changing_the_write_scope() {
    let o = org().await;
    let id = o.create("Internal").await;
    let reader = o.app.key(o.org, Some(&[Scope::ReadClassificationLevels])).await;
    let writer = o.app.key(o.org, Some(&[Scope::WriteClassificationLevels])).await;
    let unscoped = o.app.key(o.org, None).await;
    let one = format!("{}/{id}", levels(o.org));
    assert_eq!(o.app.api(Method::GET, &one, &reader.token).await.status(), 200);
    assert_eq!(o.app.api(Method::GET, &one, &writer.token).await.status(), 403);
    let before = o.rows().await;
    let res = o
        .app
        .api_json(
            Method::POST,
            &levels(o.org),
            &reader.token,
            &json!({ "name": "Secret" }),
        )
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(
        res.headers()["www-authenticate"],
        r#"Bearer error="insufficient_scope", scope="write:classification-levels:admin""#
    );
    assert_eq!(o.rows().await, before);
    let res = o
        .app
        .api_json(
            Method::POST,
            &levels(o.org),
            &unscoped.token,
            &json!({ "name": "Secret" }),
        )
        .await;
    assert_eq!(res.status(), 201);
}

#[tokio::test]
async fn another_orgs_level_is_answered_as_an_unknown_one() {
    let o = org().await;
    let other_org = o.app.org("Globex").await;
    let theirs = o.app.level(other_org, "Theirs").await;
    let mut answers = Vec::new();
    for id in [theirs.to_string(), Uuid::new_v4().to_string(), "not-an-id".to_owned()] {
        let path = format!("{}/{id}", levels(o.org));
        let res = o.app.api(Method::GET, &path, &o.token).await;
        assert_eq!(res.status(), 404);
        answers.push(error_body(res).await);
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[1], answers[2]);
    let before = o.rows().await;
    let edit = o.put(theirs, json!({ "name": "Mine now" })).await;
    assert_eq!(error_body(edit).await, answers[0]);
    let archive = o.post("archive", json!({ "levelId": theirs })).await;
    assert_eq!(error_body(archive).await, answers[0]);
    assert_eq!(o.rows().await, before);
    // Their list is the org's 404.
    let res = o.app.api(Method::GET, &levels(other_org), &o.token).await;
    assert_eq!(error_body(res).await["errors"][0]["code"], "ADMIN-404-2");
}

#[tokio::test]
async fn concurrent_publishes_and_reorders_leave_ranks_one_to_n() {
    let o = org().await;
    let mut drafts = Vec::new();
    for i in 0..8 {
        drafts.push(o.create(&format!("Level {i}")).await);
    }
    let publishes = drafts.iter().map(|id| o.publish(std::slice::from_ref(id)));
    let answers = futures_util::future::join_all(publishes).await;
    for res in answers {
        assert_eq!(res.status(), 200, "every publish succeeds, one after the other");
    }
    let ranks = |listed: Vec<(String, String, Option<i64>)>| -> Vec<i64> {
        listed.into_iter().filter_map(|(_, _, rank)| rank).collect()
    };
    assert_eq!(ranks(o.listed().await), (1..=8).collect::<Vec<_>>());

    // Reorders racing archives: each reorder names the levels published when it was sent, so
    // some are refused; whatever wins, ranks stay 1..n.
    let mut reversed = drafts.clone();
    reversed.reverse();
    let reorder = o.post("reorder", json!({ "levelIds": reversed }));
    let archive = o.post("archive", json!({ "levelId": drafts[0] }));
    let reorder_again = o.post("reorder", json!({ "levelIds": drafts }));
    let (r1, a, r2) = tokio::join!(reorder, archive, reorder_again);
    assert_eq!(a.status(), 200);
    for res in [r1, r2] {
        assert!(matches!(res.status().as_u16(), 200 | 400), "{}", res.status());
    }
    assert_eq!(ranks(o.listed().await), (1..=7).collect::<Vec<_>>());
}
