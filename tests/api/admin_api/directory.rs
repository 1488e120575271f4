//! The directory endpoints (v1 and v2): reading members, suspending and restoring them per org,
//! removing them (with the keys they answer for), and the last admin who must stay.

use keyward::domain::Scope;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{TestApp, error_body, json_of};

/// An org with a keeper admin (so the last-admin rule stays out of the way), a member, and a
/// key calling as `scopes`.
struct Org {
    id: Uuid,
    keeper: Uuid,
    ada: Uuid,
    token: String,
}

async fn org(app: &TestApp, scopes: Option<&[Scope]>) -> Org {
    let id = app.org("Acme").await;
    let keeper = app.user("keeper@example.com", Some(id)).await;
    app.member(id, keeper, "admin").await;
    let ada = app.user("ada@example.com", Some(id)).await;
    app.member_at(id, ada, "member", Some("2026-11-02T10:00:00Z".parse().expect("time")))
        .await;
    let token = app.key(id, scopes).await.token;
    Org { id, keeper, ada, token }
}

/// A key Ada answers for: made while she is an admin of the org (no key is made for a member),
/// after which she is a member again.
async fn key_of_ada(app: &TestApp, acme: &Org) -> crate::harness::TestKey {
    let set_role = |role: &'static str| {
        sqlx::query("UPDATE memberships SET role = $3::membership_role WHERE org_id = $1 AND user_id = $2")
            .bind(acme.id)
            .bind(acme.ada)
            .bind(role)
            .execute(&app.pool)
    };
    set_role("admin").await.expect("admin");
    let key = app.key_for(acme.id, acme.ada).await;
    set_role("member").await.expect("member again");
    key
}

async fn suspended(app: &TestApp, org: Uuid, user: Uuid) -> bool {
    sqlx::query_scalar("SELECT suspended_at IS NOT NULL FROM memberships WHERE org_id = $1 AND user_id = $2")
        .bind(org)
        .bind(user)
        .fetch_one(&app.pool)
        .await
        .expect("membership")
}

async fn assert_needs_scope(app: &TestApp, org: Uuid, method: Method, path: &str, scope: Scope) {
    let others: Vec<Scope> = Scope::ALL.iter().copied().filter(|s| *s != scope).collect();
    let key = app.key(org, Some(&others)).await;
    let before = app.people_snapshot().await;
    let res = app.api(method, path, &key.token).await;
    assert_eq!(res.status(), 403, "{path}");
    assert_eq!(
        res.headers()["www-authenticate"],
        format!(r#"Bearer error="insufficient_scope", scope="{}""#, scope.name()).as_str()
    );
    assert_eq!(app.people_snapshot().await, before, "{path}: refused, nothing written");
}

/// Another org's id, an unknown one and garbage get one answer, and nothing changes.
async fn assert_foreign_orgs_are_not_found(app: &TestApp, method: Method, path_for: impl Fn(&str) -> String) {
    let mine = app.org("Key's own").await;
    let key = app.key(mine, None).await;
    let other = app.org("Someone else's").await;
    let before = app.people_snapshot().await;
    let mut answers = Vec::new();
    for org in [other.to_string(), Uuid::new_v4().to_string(), "garbage".to_owned()] {
        let res = app.api(method.clone(), &path_for(&org), &key.token).await;
        assert_eq!(res.status(), 404);
        answers.push(error_body(res).await);
    }
    assert_eq!(answers[0]["errors"][0]["code"], "ADMIN-404-2");
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
    assert_eq!(app.people_snapshot().await, before);
}

/// A non-member, an unknown account and a malformed id get one 404, and nothing changes.
async fn assert_non_members_are_not_found(
    app: &TestApp,
    org: Uuid,
    token: &str,
    method: Method,
    path_for: impl Fn(&str) -> String,
) {
    let elsewhere = app.org("Elsewhere").await;
    let outsider = app
        .user(&format!("outsider{}@example.com", Uuid::new_v4().simple()), Some(org))
        .await;
    app.member(elsewhere, outsider, "member").await;
    let before = app.people_snapshot().await;
    let mut answers = Vec::new();
    for user in [
        outsider.to_string(),
        Uuid::new_v4().to_string(),
        "557058:abc".to_owned(),
    ] {
        let res = app.api(method.clone(), &path_for(&user), token).await;
        assert_eq!(res.status(), 404, "{}", path_for(&user));
        answers.push(error_body(res).await);
    }
    assert_eq!(
        answers[0],
        json!({ "errors": [{ "id": null, "status": "404", "code": "ADMIN-404-8", "title": "User not found",
                             "detail": "No user with this account id in this organization." }] })
    );
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
    assert_eq!(app.people_snapshot().await, before);
}

#[tokio::test]
async fn last_active_dates_answer_when_the_person_joined() {
    let app = TestApp::spawn().await;
    let acme = org(&app, Some(&[Scope::ReadAccounts])).await;
    let path = |org: &str, user: &str| format!("/admin/v1/orgs/{org}/directory/users/{user}/last-active-dates");
    let res = app
        .api(
            Method::GET,
            &path(&acme.id.to_string(), &acme.ada.to_string()),
            &acme.token,
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        json_of(res).await,
        json!({ "data": { "product_access": [], "added_to_org": "2026-11-02T10:00:00Z" } })
    );
    let unscoped = app.key(acme.id, None).await;
    let res = app
        .api(
            Method::GET,
            &path(&acme.id.to_string(), &acme.ada.to_string()),
            &unscoped.token,
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_needs_scope(
        &app,
        acme.id,
        Method::GET,
        &path(&acme.id.to_string(), &acme.ada.to_string()),
        Scope::ReadAccounts,
    )
    .await;
    assert_foreign_orgs_are_not_found(&app, Method::GET, |o| path(o, &acme.ada.to_string())).await;
    let org_id = acme.id.to_string();
    assert_non_members_are_not_found(&app, acme.id, &acme.token, Method::GET, |u| path(&org_id, u)).await;
}

#[tokio::test]
async fn suspending_refuses_that_org_only_and_keeps_the_persons_keys() {
    let app = TestApp::spawn().await;
    let acme = org(&app, Some(&[Scope::WriteAccounts])).await;
    let globex = app.org("Globex").await;
    app.member(globex, acme.ada, "admin").await;
    let their_key = key_of_ada(&app, &acme).await;
    let base = format!("/admin/v1/orgs/{}/directory/users/{}", acme.id, acme.ada);

    let res = app
        .client
        .post(format!("{}{base}/suspend-access", app.address))
        .bearer_auth(&acme.token)
        .header("User-Agent", "offboarding-script/1.0")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.expect("JSON"),
        json!({ "message": format!("Access for {} is suspended in this organization.", acme.ada) })
    );
    assert!(suspended(&app, acme.id, acme.ada).await);
    assert!(!suspended(&app, globex, acme.ada).await, "the other org is untouched");
    assert_eq!(
        app.api(Method::GET, "/admin/v1/key", &their_key.token).await.status(),
        200,
        "suspension revokes no key"
    );
    let event: (String, Option<Uuid>, String, Option<String>) = sqlx::query_as(
        "SELECT actor_kind::text, actor_id, host(ip), user_agent FROM audit_events WHERE action = 'membership.suspended'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("one suspension event");
    let caller_key: Uuid = sqlx::query_scalar("SELECT id FROM api_keys WHERE responsible_user_id IS NULL")
        .fetch_one(&app.pool)
        .await
        .expect("caller key");
    assert_eq!(
        event,
        (
            "key".to_owned(),
            Some(caller_key),
            "127.0.0.1".to_owned(),
            Some("offboarding-script/1.0".to_owned())
        )
    );

    let res = app
        .api(Method::POST, &format!("{base}/restore-access"), &acme.token)
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        json_of(res).await,
        json!({ "message": format!("Access for {} is restored in this organization.", acme.ada) })
    );
    assert!(!suspended(&app, acme.id, acme.ada).await);
}

#[tokio::test]
async fn suspend_restore_and_remove_refuse_what_they_cannot_do() {
    let app = TestApp::spawn().await;
    let acme = org(&app, Some(&[Scope::WriteAccounts])).await;
    let org_id = acme.id.to_string();
    for (method, suffix) in [
        (Method::POST, "/suspend-access"),
        (Method::POST, "/restore-access"),
        (Method::DELETE, ""),
    ] {
        let path = |org: &str, user: &str| format!("/admin/v1/orgs/{org}/directory/users/{user}{suffix}");
        assert_needs_scope(
            &app,
            acme.id,
            method.clone(),
            &path(&org_id, &acme.ada.to_string()),
            Scope::WriteAccounts,
        )
        .await;
        assert_foreign_orgs_are_not_found(&app, method.clone(), |o| path(o, &acme.ada.to_string())).await;
        assert_non_members_are_not_found(&app, acme.id, &acme.token, method.clone(), |u| path(&org_id, u)).await;
    }
}

#[tokio::test]
async fn removing_an_admin_revokes_the_keys_they_answer_for_at_once() {
    let app = TestApp::spawn().await;
    let acme = org(&app, Some(&[Scope::WriteAccounts])).await;
    let bob = app.user("bob@example.com", None).await;
    app.member(acme.id, bob, "admin").await;
    let first = app.key_for(acme.id, bob).await;
    let second = app.key_for(acme.id, bob).await;
    let keepers = app.key_for(acme.id, acme.keeper).await;
    // Cached on this instance, so only the local mark can refuse them at once.
    for key in [&first, &second] {
        assert_eq!(app.api(Method::GET, "/admin/v1/key", &key.token).await.status(), 200);
    }

    let res = app
        .api(
            Method::DELETE,
            &format!("/admin/v1/orgs/{}/directory/users/{bob}", acme.id),
            &acme.token,
        )
        .await;
    assert_eq!(res.status(), 204);
    for key in [&first, &second] {
        assert_eq!(app.api(Method::GET, "/admin/v1/key", &key.token).await.status(), 401);
    }
    assert_eq!(
        app.api(Method::GET, "/admin/v1/key", &keepers.token).await.status(),
        200
    );
    let members: i64 = sqlx::query_scalar("SELECT count(*) FROM memberships WHERE user_id = $1")
        .bind(bob)
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(members, 0);
    let revocations: Vec<String> =
        sqlx::query_scalar("SELECT target_id FROM audit_events WHERE action = 'api_key.revoked' ORDER BY target_id")
            .fetch_all(&app.pool)
            .await
            .expect("events");
    let mut expected = vec![first.id.to_string(), second.id.to_string()];
    expected.sort();
    assert_eq!(revocations, expected, "one event per revoked key");
    let listed: Value =
        sqlx::query_scalar("SELECT details->'revoked_keys' FROM audit_events WHERE action = 'membership.removed'")
            .fetch_one(&app.pool)
            .await
            .expect("removal event");
    let mut listed_ids: Vec<String> = listed
        .as_array()
        .expect("a list")
        .iter()
        .map(|k| k["id"].as_str().expect("id").to_owned())
        .collect();
    listed_ids.sort();
    assert_eq!(listed_ids, expected, "the removal's event lists the keys");
}

#[tokio::test]
async fn the_last_admin_cannot_be_removed_or_suspended() {
    let app = TestApp::spawn().await;
    let acme = org(&app, Some(&[Scope::WriteAccounts])).await;
    let their_key = app.key_for(acme.id, acme.keeper).await;
    let base = format!("/admin/v1/orgs/{}/directory/users/{}", acme.id, acme.keeper);
    let v2 = format!("/admin/v2/orgs/{0}/directories/{0}/users/{1}", acme.id, acme.keeper);
    let before = app.people_snapshot().await;
    for (method, path) in [
        (Method::DELETE, base.clone()),
        (Method::POST, format!("{base}/suspend-access")),
        (Method::DELETE, v2.clone()),
        (Method::POST, format!("{v2}/suspend")),
    ] {
        let res = app.api(method, &path, &acme.token).await;
        assert_eq!(res.status(), 409, "{path}");
        assert_eq!(
            error_body(res).await,
            json!({ "errors": [{ "id": null, "status": "409", "code": "ADMIN-409-1", "title": "Last admin",
                                 "detail": "This would leave an organization without an active admin: make someone else an admin first." }] })
        );
    }
    assert_eq!(app.people_snapshot().await, before, "nothing changed");
    assert_eq!(
        app.api(Method::GET, "/admin/v1/key", &their_key.token).await.status(),
        200
    );
}

#[tokio::test]
async fn the_v2_directory_reads_the_org_as_its_one_directory() {
    let app = TestApp::spawn().await;
    let acme = org(&app, Some(&[Scope::ReadAccounts, Scope::ReadDirectories])).await;
    let dirs = format!("/admin/v2/orgs/{}/directories", acme.id);
    let res = app.api(Method::GET, &dirs, &acme.token).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        json_of(res).await,
        json!({
            "data": [{ "directoryId": acme.id, "name": "Acme" }],
            "links": { "self": format!("{}{dirs}", app.address), "prev": null, "next": null },
        })
    );
    for directory in [acme.id.to_string(), "-".to_owned()] {
        let user = json_of(
            app.api(
                Method::GET,
                &format!("{dirs}/{directory}/users/{}", acme.ada),
                &acme.token,
            )
            .await,
        )
        .await;
        assert_eq!(
            user,
            json!({ "data": {
                "accountId": acme.ada, "accountType": "atlassian", "accountStatus": "active",
                "membershipStatus": "active", "claimStatus": "managed", "name": "ada", "nickname": null,
                "email": "ada@example.com", "addedToOrg": "2026-11-02T10:00:00Z", "lastActive": null,
            }})
        );
        let count = app
            .api(Method::GET, &format!("{dirs}/{directory}/users/count"), &acme.token)
            .await;
        assert_eq!(count.status(), 200);
        assert_eq!(json_of(count).await, json!({ "count": 2 }));
    }
    let search = app
        .api_json(
            Method::POST,
            &format!("{dirs}/{}/users/search", acme.id),
            &acme.token,
            &json!({ "searchTerm": "ADA@", "membershipStatus": ["active"], "limit": 10 }),
        )
        .await;
    assert_eq!(search.status(), 200);
    let page = json_of(search).await;
    assert_eq!(page["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(page["data"][0]["accountId"], acme.ada.to_string());
    assert_eq!(page["links"], json!({ "next": null }));

    let unscoped = app.key(acme.id, None).await;
    assert_eq!(app.api(Method::GET, &dirs, &unscoped.token).await.status(), 200);
    assert_needs_scope(&app, acme.id, Method::GET, &dirs, Scope::ReadDirectories).await;
    assert_needs_scope(
        &app,
        acme.id,
        Method::GET,
        &format!("{dirs}/-/users/count"),
        Scope::ReadAccounts,
    )
    .await;
    assert_needs_scope(
        &app,
        acme.id,
        Method::GET,
        &format!("{dirs}/-/users/{}", acme.ada),
        Scope::ReadAccounts,
    )
    .await;
    assert_needs_scope(
        &app,
        acme.id,
        Method::POST,
        &format!("{dirs}/-/users/search"),
        Scope::ReadAccounts,
    )
    .await;
    assert_foreign_orgs_are_not_found(&app, Method::GET, |o| format!("/admin/v2/orgs/{o}/directories")).await;
    assert_foreign_orgs_are_not_found(&app, Method::GET, |o| {
        format!("/admin/v2/orgs/{o}/directories/{o}/users/count")
    })
    .await;
    assert_non_members_are_not_found(&app, acme.id, &acme.token, Method::GET, |u| {
        format!("{dirs}/-/users/{u}")
    })
    .await;

    let other = app.org("Globex").await;
    for directory in [other.to_string(), Uuid::new_v4().to_string(), "nope".to_owned()] {
        let res = app
            .api(Method::GET, &format!("{dirs}/{directory}/users/count"), &acme.token)
            .await;
        assert_eq!(res.status(), 404, "an unknown directory");
        assert_eq!(json_of(res).await["errors"][0]["code"], "ADMIN-404-1");
    }
}

#[tokio::test]
async fn the_v2_search_refuses_bad_filters_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let acme = org(&app, Some(&[Scope::ReadAccounts])).await;
    let path = format!("/admin/v2/orgs/{0}/directories/{0}/users/search", acme.id);
    let before = app.people_snapshot().await;
    for body in [
        json!({ "membershipStatus": ["asleep"] }),
        json!({ "claimStatus": "stolen" }),
        json!({ "accountStatus": ["gone"] }),
        json!({ "searchTerm": "a", "emails": ["a@example.com"] }),
        json!({ "limit": -1 }),
        json!({ "cursor": "zz" }),
        json!({ "emails": 7 }),
    ] {
        let res = app.api_json(Method::POST, &path, &acme.token, &body).await;
        assert_eq!(res.status(), 400, "{body}");
        assert_eq!(json_of(res).await["errors"][0]["status"], "400", "{body}");
    }
    assert_eq!(app.people_snapshot().await, before);
}

#[tokio::test]
async fn the_v2_suspend_restore_and_remove_answer_204() {
    let app = TestApp::spawn().await;
    let acme = org(&app, Some(&[Scope::WriteAccounts])).await;
    let user = format!("/admin/v2/orgs/{0}/directories/{0}/users/{1}", acme.id, acme.ada);
    let their_key = key_of_ada(&app, &acme).await;

    let res = app.api(Method::POST, &format!("{user}/suspend"), &acme.token).await;
    assert_eq!(res.status(), 204);
    assert!(suspended(&app, acme.id, acme.ada).await);
    let res = app.api(Method::POST, &format!("{user}/restore"), &acme.token).await;
    assert_eq!(res.status(), 204);
    assert!(!suspended(&app, acme.id, acme.ada).await);
    let res = app.api(Method::DELETE, &user, &acme.token).await;
    assert_eq!(res.status(), 204);
    assert_eq!(
        app.api(Method::GET, "/admin/v1/key", &their_key.token).await.status(),
        401
    );
    assert_eq!(app.api(Method::DELETE, &user, &acme.token).await.status(), 404, "gone");

    let org_id = acme.id.to_string();
    for suffix in ["/suspend", "/restore"] {
        let path = |o: &str, u: &str| format!("/admin/v2/orgs/{o}/directories/{o}/users/{u}{suffix}");
        assert_needs_scope(
            &app,
            acme.id,
            Method::POST,
            &path(&org_id, &acme.keeper.to_string()),
            Scope::WriteAccounts,
        )
        .await;
        assert_foreign_orgs_are_not_found(&app, Method::POST, |o| path(o, &acme.keeper.to_string())).await;
        assert_non_members_are_not_found(&app, acme.id, &acme.token, Method::POST, |u| path(&org_id, u)).await;
    }
    assert_needs_scope(
        &app,
        acme.id,
        Method::DELETE,
        &format!("/admin/v2/orgs/{0}/directories/{0}/users/{1}", acme.id, acme.keeper),
        Scope::WriteAccounts,
    )
    .await;
    let res = app
        .api(
            Method::POST,
            &format!(
                "/admin/v2/orgs/{0}/directories/{1}/users/{2}/suspend",
                acme.id,
                Uuid::new_v4(),
                acme.keeper
            ),
            &acme.token,
        )
        .await;
    assert_eq!(res.status(), 404, "an unknown directory");
}
