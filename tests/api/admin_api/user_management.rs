//! User management (`/users/{accountId}/manage...`): members of the key's org only, and
//! account-level changes only for the org that manages the account.

use keyward::domain::Scope;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{Answer, TestApp, error_body, json_of};

/// Acme with a keeper admin, `ada` (managed by Acme) and `una` (a member Acme does not
/// manage), and a key calling with `scopes`.
struct World {
    acme: Uuid,
    keeper: Uuid,
    ada: Uuid,
    una: Uuid,
    token: String,
}

async fn world(app: &TestApp, scopes: Option<&[Scope]>) -> World {
    let acme = app.org("Acme").await;
    let keeper = app.user("keeper@example.com", Some(acme)).await;
    app.member(acme, keeper, "admin").await;
    let ada = app.user("ada@example.com", Some(acme)).await;
    app.member(acme, ada, "member").await;
    let una = app.user("una@example.com", None).await;
    app.member(acme, una, "member").await;
    let token = app.key(acme, scopes).await.token;
    World {
        acme,
        keeper,
        ada,
        una,
        token,
    }
}

async fn sessions_of(app: &TestApp, user: Uuid) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM sessions WHERE user_id = $1")
        .bind(user)
        .fetch_one(&app.pool)
        .await
        .expect("count")
}

async fn status_of(app: &TestApp, user: Uuid) -> String {
    sqlx::query_scalar("SELECT status::text FROM users WHERE id = $1")
        .bind(user)
        .fetch_one(&app.pool)
        .await
        .expect("status")
}

/// `method path` with an optional JSON body.
async fn call(app: &TestApp, method: Method, path: &str, token: &str, body: Option<&Value>) -> Answer {
    match body {
        Some(body) => app.api_json(method, path, token, body).await,
        None => app.api(method, path, token).await,
    }
}

async fn assert_needs_scope(app: &TestApp, org: Uuid, method: Method, path: &str, body: Option<&Value>, scope: Scope) {
    let others: Vec<Scope> = Scope::ALL.iter().copied().filter(|s| *s != scope).collect();
    let key = app.key(org, Some(&others)).await;
    let before = app.people_snapshot().await;
    let res = call(app, method, path, &key.token, body).await;
    assert_eq!(res.status(), 403, "{path}");
    assert_eq!(
        res.headers()["www-authenticate"],
        format!(r#"Bearer error="insufficient_scope", scope="{}""#, scope.name()).as_str()
    );
    assert_eq!(app.people_snapshot().await, before);
}

/// Another org's member, an unknown account and a malformed id: one 404, nothing written.
async fn assert_non_members_are_not_found(
    app: &TestApp,
    token: &str,
    method: Method,
    suffix: &str,
    body: Option<&Value>,
) {
    let globex = app.org("Globex").await;
    let theirs = app
        .user(&format!("theirs{}@example.com", Uuid::new_v4().simple()), Some(globex))
        .await;
    app.member(globex, theirs, "member").await;
    let before = app.people_snapshot().await;
    let mut answers = Vec::new();
    for user in [theirs.to_string(), Uuid::new_v4().to_string(), "557058:abc".to_owned()] {
        let res = call(
            app,
            method.clone(),
            &format!("/users/{user}/manage{suffix}"),
            token,
            body,
        )
        .await;
        assert_eq!(res.status(), 404, "{suffix}");
        answers.push(error_body(res).await);
    }
    assert_eq!(answers[0]["errors"][0]["code"], "ADMIN-404-8");
    assert_eq!(answers[0]["errors"][0]["title"], "User not found");
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
    assert_eq!(app.people_snapshot().await, before);
}

/// The 403 for an account the org does not manage, with nothing written.
async fn assert_not_managed(app: &TestApp, token: &str, method: Method, path: &str, body: Option<&Value>) {
    let before = app.people_snapshot().await;
    let res = call(app, method, path, token, body).await;
    assert_eq!(res.status(), 403, "{path}");
    assert_eq!(
        error_body(res).await,
        json!({ "errors": [{ "id": null, "status": "403", "code": "ADMIN-403-3",
                             "title": "Account not managed by this organization",
                             "detail": "This organization does not manage this account, so it cannot change it." }] })
    );
    assert_eq!(app.people_snapshot().await, before);
}

#[tokio::test]
async fn privileges_say_what_the_org_may_do_to_the_account() {
    let app = TestApp::spawn().await;
    let w = world(&app, Some(&[Scope::ReadAccounts])).await;
    let managed = app
        .api(Method::GET, &format!("/users/{}/manage", w.ada), &w.token)
        .await;
    assert_eq!(managed.status(), 200);
    let allowed = json!({ "allowed": true, "reason": null });
    assert_eq!(
        json_of(managed).await,
        json!({ "profile.read": allowed, "profile.write": allowed, "email.set": allowed, "lifecycle.enablement": allowed })
    );
    let refused = json!({ "allowed": false, "reason": { "key": "not-managed-by-org" } });
    let unmanaged = json_of(
        app.api(Method::GET, &format!("/users/{}/manage", w.una), &w.token)
            .await,
    )
    .await;
    assert_eq!(
        unmanaged,
        json!({ "profile.read": allowed, "profile.write": refused, "email.set": refused, "lifecycle.enablement": refused })
    );
    let asked = json_of(
        app.api(
            Method::GET,
            &format!("/users/{}/manage?privileges=profile.write,email.set", w.una),
            &w.token,
        )
        .await,
    )
    .await;
    assert_eq!(asked, json!({ "profile.write": refused, "email.set": refused }));

    let unscoped = app.key(w.acme, None).await;
    assert_eq!(
        app.api(Method::GET, &format!("/users/{}/manage", w.ada), &unscoped.token)
            .await
            .status(),
        200
    );
    assert_needs_scope(
        &app,
        w.acme,
        Method::GET,
        &format!("/users/{}/manage", w.ada),
        None,
        Scope::ReadAccounts,
    )
    .await;
    assert_non_members_are_not_found(&app, &w.token, Method::GET, "", None).await;
}

#[tokio::test]
async fn the_profile_reads_and_patches_for_the_managing_org() {
    let app = TestApp::spawn().await;
    let w = world(&app, Some(&[Scope::ReadAccounts, Scope::WriteAccounts])).await;
    let path = format!("/users/{}/manage/profile", w.ada);
    let res = app.api(Method::GET, &path, &w.token).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        json_of(res).await,
        json!({ "account": {
            "account_id": w.ada, "account_type": "atlassian", "account_status": "active", "name": "ada",
            "picture": null, "email": "ada@example.com", "nickname": null, "zoneinfo": null, "locale": null,
            "extended_profile": { "job_title": null, "department": null, "organization": null, "location": null },
        }})
    );

    let res = app
        .api_json(
            Method::PATCH,
            &path,
            &w.token,
            &json!({ "name": " Ada Lovelace ", "nickname": "ada", "zoneinfo": "Europe/London", "locale": "en-GB",
                     "extended_profile": { "job_title": "Analyst", "location": "London" } }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let patched = json!({ "account": {
        "account_id": w.ada, "account_type": "atlassian", "account_status": "active", "name": "Ada Lovelace",
        "picture": null, "email": "ada@example.com", "nickname": "ada", "zoneinfo": "Europe/London", "locale": "en-GB",
        "extended_profile": { "job_title": "Analyst", "department": null, "organization": null, "location": "London" },
    }});
    assert_eq!(json_of(res).await, patched);
    assert_eq!(
        json_of(app.api(Method::GET, &path, &w.token).await).await,
        patched,
        "it stays"
    );

    // Wrapped like the GET answer, and null clears a field.
    let res = app
        .api_json(
            Method::PATCH,
            &path,
            &w.token,
            &json!({ "account": { "nickname": null } }),
        )
        .await;
    assert_eq!(json_of(res).await["account"]["nickname"], Value::Null);
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = 'user.profile_updated'")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(events, 2);

    // A member of the org whose account the org does not manage can be read, not changed.
    let una = format!("/users/{}/manage/profile", w.una);
    assert_eq!(app.api(Method::GET, &una, &w.token).await.status(), 200);
    assert_not_managed(&app, &w.token, Method::PATCH, &una, Some(&json!({ "name": "Someone" }))).await;

    let body = json!({ "nickname": "x" });
    assert_needs_scope(&app, w.acme, Method::GET, &path, None, Scope::ReadAccounts).await;
    assert_needs_scope(&app, w.acme, Method::PATCH, &path, Some(&body), Scope::WriteAccounts).await;
    assert_non_members_are_not_found(&app, &w.token, Method::GET, "/profile", None).await;
    assert_non_members_are_not_found(&app, &w.token, Method::PATCH, "/profile", Some(&body)).await;
}

#[tokio::test]
async fn a_bad_profile_patch_is_a_400_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let w = world(&app, None).await;
    let path = format!("/users/{}/manage/profile", w.ada);
    let before = app.people_snapshot().await;
    for body in [
        json!({}),
        json!({ "name": null }),
        json!({ "name": "   " }),
        json!({ "name": "x".repeat(101) }),
        json!({ "locale": "x".repeat(36) }),
        json!({ "extended_profile": { "department": "a\u{7}b" } }),
        json!({ "nickname": "" }),
        json!({ "email": "new@example.com" }),
        json!({ "nickname": 42 }),
        json!("not an object"),
    ] {
        let res = app.api_json(Method::PATCH, &path, &w.token, &body).await;
        assert_eq!(res.status(), 400, "{body}");
        let answer = json_of(res).await;
        assert_eq!(answer["errors"][0]["code"], "ADMIN-400-24", "{body}");
    }
    assert_eq!(app.people_snapshot().await, before);
}

#[tokio::test]
async fn changing_the_email_ends_the_accounts_sessions() {
    let app = TestApp::spawn().await;
    let w = world(&app, Some(&[Scope::WriteAccounts])).await;
    for _ in 0..2 {
        app.session(w.ada).await;
    }
    app.session(w.keeper).await;
    // A domain Acme verified: Acme still manages the account at its new address.
    app.domain(w.acme, "new.example", true).await;
    let path = format!("/users/{}/manage/email", w.ada);
    let res = app
        .api_json(Method::PUT, &path, &w.token, &json!({ "email": "ada@new.example" }))
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(sessions_of(&app, w.ada).await, 0);
    assert_eq!(sessions_of(&app, w.keeper).await, 1, "only that account's");
    let email: String = sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
        .bind(w.ada)
        .fetch_one(&app.pool)
        .await
        .expect("email");
    assert_eq!(email, "ada@new.example");

    app.session(w.ada).await;
    let before = app.people_snapshot().await;
    for body in [json!({ "email": "not-an-email" }), json!({}), json!({ "email": 5 })] {
        let res = app.api_json(Method::PUT, &path, &w.token, &body).await;
        assert_eq!(res.status(), 400, "{body}");
        assert_eq!(json_of(res).await["errors"][0]["status"], "400");
    }
    let res = app
        .api_json(Method::PUT, &path, &w.token, &json!({ "email": "KEEPER@example.com" }))
        .await;
    assert_eq!(res.status(), 409, "another account's address");
    assert_eq!(json_of(res).await["errors"][0]["code"], "ADMIN-409-2");
    assert_eq!(app.people_snapshot().await, before, "nothing written");

    let body = json!({ "email": "una@new.example" });
    assert_not_managed(
        &app,
        &w.token,
        Method::PUT,
        &format!("/users/{}/manage/email", w.una),
        Some(&body),
    )
    .await;
    assert_needs_scope(&app, w.acme, Method::PUT, &path, Some(&body), Scope::WriteAccounts).await;
    assert_non_members_are_not_found(&app, &w.token, Method::PUT, "/email", Some(&body)).await;
}

#[tokio::test]
async fn disabling_ends_the_accounts_sessions_and_enabling_needs_no_body() {
    let app = TestApp::spawn().await;
    let w = world(&app, Some(&[Scope::WriteAccounts])).await;
    app.session(w.ada).await;
    app.session(w.keeper).await;
    let disable = format!("/users/{}/manage/lifecycle/disable", w.ada);
    let res = app
        .api_json(
            Method::POST,
            &disable,
            &w.token,
            &json!({ "message": "left the company" }),
        )
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(status_of(&app, w.ada).await, "disabled");
    assert_eq!(sessions_of(&app, w.ada).await, 0);
    assert_eq!(sessions_of(&app, w.keeper).await, 1);
    let message: Value =
        sqlx::query_scalar("SELECT details->'message' FROM audit_events WHERE action = 'user.disabled'")
            .fetch_one(&app.pool)
            .await
            .expect("event");
    assert_eq!(message, "left the company");

    // Enable as clients send it: no body, no Content-Type.
    let enable = format!("/users/{}/manage/lifecycle/enable", w.ada);
    let res = app.api(Method::POST, &enable, &w.token).await;
    assert_eq!(res.status(), 204);
    assert_eq!(status_of(&app, w.ada).await, "active");
    // Disable with `{}` and with no body at all.
    assert_eq!(
        app.api_json(Method::POST, &disable, &w.token, &json!({}))
            .await
            .status(),
        204
    );
    app.api(Method::POST, &enable, &w.token).await;
    assert_eq!(app.api(Method::POST, &disable, &w.token).await.status(), 204);
    assert_eq!(status_of(&app, w.ada).await, "disabled");

    let before = app.people_snapshot().await;
    for body in [
        json!({ "message": 5 }),
        json!({ "message": "x".repeat(1001) }),
        json!([1]),
    ] {
        let res = app.api_json(Method::POST, &disable, &w.token, &body).await;
        assert_eq!(res.status(), 400, "{body}");
        assert_eq!(json_of(res).await["errors"][0]["code"], "ADMIN-400-24");
    }
    assert_eq!(app.people_snapshot().await, before);

    for suffix in ["disable", "enable"] {
        let path = format!("/users/{}/manage/lifecycle/{suffix}", w.una);
        assert_not_managed(&app, &w.token, Method::POST, &path, None).await;
        let path = format!("/users/{}/manage/lifecycle/{suffix}", w.keeper);
        assert_needs_scope(&app, w.acme, Method::POST, &path, None, Scope::WriteAccounts).await;
        assert_non_members_are_not_found(&app, &w.token, Method::POST, &format!("/lifecycle/{suffix}"), None).await;
    }
}

#[tokio::test]
async fn the_last_admin_cannot_be_disabled() {
    let app = TestApp::spawn().await;
    let w = world(&app, Some(&[Scope::WriteAccounts])).await;
    app.session(w.keeper).await;
    let before = app.people_snapshot().await;
    let res = app
        .api(
            Method::POST,
            &format!("/users/{}/manage/lifecycle/disable", w.keeper),
            &w.token,
        )
        .await;
    assert_eq!(res.status(), 409);
    assert_eq!(
        error_body(res).await,
        json!({ "errors": [{ "id": null, "status": "409", "code": "ADMIN-409-1", "title": "Last admin",
                             "detail": "This would leave an organization without an active admin: make someone else an admin first." }] })
    );
    assert_eq!(app.people_snapshot().await, before, "still active, session kept");
}
