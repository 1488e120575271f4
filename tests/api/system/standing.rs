//! A key lives and dies with its holder's standing, whatever the timing: a key written while its
//! holder is removed goes with the removal, disabling an account ends its keys in every org, a
//! kept key of a suspended or demoted admin reads but cannot govern, no key acts on the person
//! it answers for, and a key revoked while its request waits changes nothing.
//!
//! Races are placed, not timed: a second connection holds a row lock where the race must
//! happen, and the test waits until the requests wait behind it.

use std::future::Future;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::console::{Console, person};
use crate::harness::signed_in::{create_form, pairs};
use crate::harness::{Answer, TestApp, TestKey, json_of};

/// An org managing the accounts of two active admins, Ada and Bob, each with a key of their
/// own without scopes.
struct Org {
    app: TestApp,
    id: Uuid,
    ada: Uuid,
    bob: Uuid,
    ada_key: TestKey,
    bob_key: TestKey,
}

async fn org_of_two_admins() -> Org {
    let app = TestApp::spawn().await;
    let id = app.org("Acme").await;
    let ada = app.user("ada@acme.example", Some(id)).await;
    let bob = app.user("bob@acme.example", Some(id)).await;
    app.member(id, ada, "admin").await;
    app.member(id, bob, "admin").await;
    let ada_key = app.key_for(id, ada).await;
    let bob_key = app.key_for(id, bob).await;
    Org {
        app,
        id,
        ada,
        bob,
        ada_key,
        bob_key,
    }
}

fn keys_path(org: Uuid) -> String {
    format!("/admin/api-access/v1/orgs/{org}/api-keys")
}

fn directory_user(org: Uuid, user: Uuid, action: &str) -> String {
    format!("/admin/v1/orgs/{org}/directory/users/{user}/{action}")
}

fn lifecycle(user: Uuid, action: &str) -> String {
    format!("/users/{user}/manage/lifecycle/{action}")
}

/// Waits, at most 20 seconds, until `n` sessions of the test database wait for a lock.
async fn lock_waiters(app: &TestApp, n: i64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(&app.pool)
        .await
        .expect("waiters");
        if waiting >= n {
            return;
        }
        assert!(Instant::now() < deadline, "{n} sessions never waited for a lock");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The active keys `user` answers for, in every org.
async fn active_keys_of(app: &TestApp, user: Uuid) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM api_keys WHERE responsible_user_id = $1 AND revoked_at IS NULL")
        .bind(user)
        .fetch_one(&app.pool)
        .await
        .expect("count")
}

/// `method path` with `key` is a 403 for the key's standing: `code` in the admin APIs' error
/// list, user management's own `{"key":"forbidden"}` on `/users/`.
async fn assert_refused(app: &TestApp, key: &TestKey, method: Method, path: &str, body: Option<Value>, code: &str) {
    let answer = match &body {
        Some(body) => app.api_json(method.clone(), path, &key.token, body).await,
        None => app.api(method.clone(), path, &key.token).await,
    };
    assert_eq!(answer.status(), 403, "{method} {path}");
    let body = json_of(answer).await;
    if path.starts_with("/users/") {
        assert_eq!(body["key"], "forbidden", "user management's own form: {body}");
    } else {
        assert_eq!(body["errors"][0]["code"], code, "{body}");
    }
}

async fn works(app: &TestApp, key: &TestKey) -> bool {
    let answer = app.api(Method::GET, "/admin/v1/key", &key.token).await;
    match answer.status().as_u16() {
        200 => true,
        401 => false,
        other => panic!("GET /admin/v1/key answered {other}"),
    }
}

/// Holds the org's key lifetime policy, which a key creation reads under a lock after its
/// checks: a creation started now stops between its checks and its insert until the holder
/// ends.
async fn hold_key_creations(app: &TestApp, org: Uuid) -> sqlx::Transaction<'static, sqlx::Postgres> {
    sqlx::query(
        "INSERT INTO policies (id, org_id, type, name, status, rule)
         VALUES (gen_random_uuid(), $1, 'api-key-lifetime', 'a year', 'enabled', '{\"maxDays\": 365}')",
    )
    .bind(org)
    .execute(&app.pool)
    .await
    .expect("policy");
    let mut holder = app.pool.begin().await.expect("transaction");
    sqlx::query("SELECT id FROM policies WHERE org_id = $1 FOR UPDATE")
        .bind(org)
        .fetch_all(&mut *holder)
        .await
        .expect("lock");
    holder
}

/// Runs `creation` until it waits behind `holder`, then `removal`; the removal either finishes
/// at once (deciding without the pending key) or waits behind the creation, and then the
/// creation is let go. Returns both answers.
async fn remove_while_creating<T>(
    app: &TestApp,
    holder: sqlx::Transaction<'static, sqlx::Postgres>,
    creation: impl Future<Output = T>,
    removal: impl Future<Output = Answer>,
) -> (T, Answer) {
    let removing = async {
        lock_waiters(app, 1).await;
        tokio::pin!(removal);
        let finished = tokio::select! {
            answer = &mut removal => Some(answer),
            () = lock_waiters(app, 2) => None,
        };
        holder.commit().await.expect("release");
        match finished {
            Some(answer) => answer,
            None => removal.await,
        }
    };
    tokio::join!(creation, removing)
}

#[tokio::test]
async fn a_key_minted_through_the_api_while_its_holder_is_being_removed_is_revoked_by_the_removal() {
    let Org {
        app,
        id,
        ada,
        ada_key,
        bob_key,
        ..
    } = org_of_two_admins().await;
    let holder = hold_key_creations(&app, id).await;
    let (keys, body) = (keys_path(id), json!({ "label": "minted during the removal" }));
    let remove_ada = format!("/admin/v1/orgs/{id}/directory/users/{ada}");
    let (minted, removed) = remove_while_creating(
        &app,
        holder,
        app.api_json(Method::POST, &keys, &ada_key.token, &body),
        app.api(Method::DELETE, &remove_ada, &bob_key.token),
    )
    .await;

    assert_eq!(removed.status(), 204);
    if minted.status() == 201 {
        let token = json_of(minted).await["token"].as_str().expect("token").to_owned();
        let minted = TestKey { id: Uuid::nil(), token };
        assert!(
            !works(&app, &minted).await,
            "the key minted during the removal was revoked by it"
        );
    } else {
        assert_eq!(minted.status(), 403, "refused for Ada's standing");
    }
    assert_eq!(
        active_keys_of(&app, ada).await,
        0,
        "no key of Ada's survives her removal"
    );
}

#[tokio::test]
async fn a_key_created_in_the_console_while_its_creator_is_being_removed_is_revoked_by_the_removal() {
    let app = TestApp::spawn().await;
    let id = app.org("Acme").await;
    let ada = person(&app, "ada@acme.example").await;
    let bob = app.user("bob@acme.example", Some(id)).await;
    app.member(id, ada, "admin").await;
    app.member(id, bob, "admin").await;
    let bob_key = app.key_for(id, bob).await;
    let console = Console::signed_in(&app, "ada@acme.example").await;
    let csrf = console.csrf().await;
    let keys = format!("/o/{id}/settings/api-keys");
    let review = console
        .post(
            &format!("{keys}/review"),
            &[
                ("csrf", &csrf),
                ("type", "unscoped"),
                ("name", "minted"),
                ("expiry", "7"),
            ],
        )
        .await;
    assert_eq!(review.status(), 200);
    let form = create_form(&review.text().await.expect("review page"));

    let holder = hold_key_creations(&app, id).await;
    let remove_ada = format!("/admin/v1/orgs/{id}/directory/users/{ada}");
    let (created, removed) = remove_while_creating(
        &app,
        holder,
        console.post(&keys, &pairs(&form)),
        app.api(Method::DELETE, &remove_ada, &bob_key.token),
    )
    .await;

    assert_eq!(removed.status(), 204);
    assert!(
        [200, 404].contains(&created.status().as_u16()),
        "shown once, or refused as no longer her org: {}",
        created.status()
    );
    assert_eq!(
        active_keys_of(&app, ada).await,
        0,
        "no key of Ada's survives her removal"
    );
}

#[tokio::test]
async fn disabling_an_account_revokes_every_key_it_answers_for_in_every_org_and_enabling_brings_none_back() {
    let Org {
        app,
        id,
        ada,
        ada_key,
        bob_key,
        ..
    } = org_of_two_admins().await;
    let globex = app.org("Globex").await;
    let carol = app.user("carol@globex.example", Some(globex)).await;
    app.member(globex, carol, "admin").await;
    app.member(globex, ada, "admin").await;
    let ada_at_globex = app.key_for(globex, ada).await;

    let disabled = app
        .api_json(Method::POST, &lifecycle(ada, "disable"), &bob_key.token, &json!({}))
        .await;
    assert_eq!(disabled.status(), 204);

    assert!(!works(&app, &ada_key).await, "her key of the managing org is refused");
    assert!(!works(&app, &ada_at_globex).await, "and her key of another org too");
    let revived = app.api(Method::POST, &lifecycle(ada, "enable"), &ada_key.token).await;
    assert_eq!(revived.status(), 401, "her own key cannot enable her again");
    let globex_events: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE org_id = $1 AND action = 'api_key.revoked' AND target_id = $2",
    )
    .bind(globex)
    .bind(ada_at_globex.id.to_string())
    .fetch_one(&app.pool)
    .await
    .expect("events");
    assert_eq!(globex_events, 1, "Globex's log says its key was revoked");

    let enabled = app.api(Method::POST, &lifecycle(ada, "enable"), &bob_key.token).await;
    assert_eq!(enabled.status(), 204);
    assert!(!works(&app, &ada_key).await, "enabling brings no key back");
    assert_eq!(active_keys_of(&app, ada).await, 0);
    let _ = id;
}

#[tokio::test]
async fn a_kept_key_of_a_suspended_admin_still_reads_but_cannot_undo_the_suspension_or_govern() {
    let Org {
        app,
        id,
        ada,
        bob,
        ada_key,
        bob_key,
    } = org_of_two_admins().await;
    let suspended = app
        .api(Method::POST, &directory_user(id, ada, "suspend-access"), &bob_key.token)
        .await;
    assert_eq!(suspended.status(), 200, "the API's suspension keeps her keys");
    assert!(works(&app, &ada_key).await);

    let before = app.people_snapshot().await;
    let keys_before = app.count("api_keys").await;
    let policies_before = app.count("policies").await;
    let refused = [
        (Method::POST, directory_user(id, ada, "restore-access"), None),
        (Method::POST, directory_user(id, bob, "suspend-access"), None),
        (
            Method::DELETE,
            format!("/admin/v1/orgs/{id}/directory/users/{bob}"),
            None,
        ),
        (Method::POST, keys_path(id), Some(json!({ "label": "one more" }))),
        (
            Method::POST,
            format!("/admin/v1/orgs/{id}/policies"),
            Some(json!({ "data": { "type": "policy", "attributes": {
                "type": "ip-allowlist", "name": "lockout", "status": "enabled", "rule": { "in": ["10.0.0.0/8"] }
            } } })),
        ),
        (Method::POST, lifecycle(bob, "disable"), Some(json!({}))),
    ];
    for (method, path, body) in refused {
        assert_refused(&app, &ada_key, method, &path, body, "ADMIN-403-5").await;
    }
    assert_eq!(app.people_snapshot().await, before, "nothing changed");
    assert_eq!(app.count("api_keys").await, keys_before);
    assert_eq!(app.count("policies").await, policies_before);

    let read = app
        .api(Method::GET, &format!("/admin/v1/orgs/{id}/users"), &ada_key.token)
        .await;
    assert_eq!(read.status(), 200, "a kept key still reads");
    let revoked_own = app
        .api(
            Method::PATCH,
            &format!("{}/revoke/{}", keys_path(id), ada_key.id),
            &ada_key.token,
        )
        .await;
    assert_eq!(revoked_own.status(), 204, "and may still revoke keys");
}

#[tokio::test]
async fn a_kept_key_of_a_demoted_admin_cannot_mint_keys() {
    let Org {
        app, id, ada, ada_key, ..
    } = org_of_two_admins().await;
    sqlx::query("UPDATE memberships SET role = 'member' WHERE org_id = $1 AND user_id = $2")
        .bind(id)
        .bind(ada)
        .execute(&app.pool)
        .await
        .expect("demoted, keys kept");
    let keys_before = app.count("api_keys").await;
    let minted = app
        .api_json(
            Method::POST,
            &keys_path(id),
            &ada_key.token,
            &json!({ "label": "after demotion" }),
        )
        .await;
    assert_eq!(minted.status(), 403);
    assert_eq!(app.count("api_keys").await, keys_before);
}

#[tokio::test]
async fn a_key_never_acts_on_the_person_it_answers_for() {
    let Org {
        app, id, ada, ada_key, ..
    } = org_of_two_admins().await;
    let before = app.people_snapshot().await;
    let on_herself = [
        (Method::POST, directory_user(id, ada, "suspend-access"), None),
        (Method::POST, directory_user(id, ada, "restore-access"), None),
        (
            Method::DELETE,
            format!("/admin/v1/orgs/{id}/directory/users/{ada}"),
            None,
        ),
        (
            Method::POST,
            format!("/admin/v2/orgs/{id}/directories/{id}/users/{ada}/suspend"),
            None,
        ),
        (Method::POST, lifecycle(ada, "disable"), Some(json!({}))),
        (Method::POST, lifecycle(ada, "enable"), None),
        (
            Method::PATCH,
            format!("/users/{ada}/manage/profile"),
            Some(json!({ "name": "Ada Again" })),
        ),
        (
            Method::PUT,
            format!("/users/{ada}/manage/email"),
            Some(json!({ "email": "ada@elsewhere.example" })),
        ),
    ];
    for (method, path, body) in on_herself {
        assert_refused(&app, &ada_key, method, &path, body, "ADMIN-403-6").await;
    }
    assert_eq!(app.people_snapshot().await, before, "nothing changed");
}

#[tokio::test]
async fn a_key_cannot_be_revoked_while_its_revocation_of_another_key_is_being_written() {
    let Org {
        app,
        id,
        ada_key,
        bob_key,
        ..
    } = org_of_two_admins().await;
    // Bob's key is held, so Ada's revocation of it waits with its own key in hand.
    let mut holder = app.pool.begin().await.expect("transaction");
    sqlx::query("SELECT id FROM api_keys WHERE id = $1 FOR UPDATE")
        .bind(bob_key.id)
        .fetch_one(&mut *holder)
        .await
        .expect("lock");
    let revoke_bobs = format!("{}/revoke/{}", keys_path(id), bob_key.id);
    let revocation = app.api(Method::PATCH, &revoke_bobs, &ada_key.token);
    let meanwhile = async {
        lock_waiters(&app, 1).await;
        // Revoking Ada's key now, as Bob's key would: it must wait for her revocation.
        sqlx::query("SET LOCAL lock_timeout = '300ms'")
            .execute(&mut *holder)
            .await
            .expect("timeout");
        let revoked = sqlx::query(
            "UPDATE api_keys SET revoked_at = statement_timestamp(), revoked_by_kind = 'key', revoked_by_id = $2
             WHERE id = $1",
        )
        .bind(ada_key.id)
        .bind(bob_key.id)
        .execute(&mut *holder)
        .await;
        match revoked {
            Ok(_) => {
                holder.commit().await.expect("commit");
                false
            }
            Err(err) => {
                drop(holder);
                let code = err.as_database_error().and_then(|db| db.code()).map(|c| c.into_owned());
                assert_eq!(code.as_deref(), Some("55P03"), "{err}");
                true
            }
        }
    };
    let (answer, held) = tokio::join!(revocation, meanwhile);
    assert!(held, "a key acting holds its row: it cannot be revoked halfway through");
    assert_eq!(answer.status(), 204);
    assert!(works(&app, &ada_key).await);
    assert!(!works(&app, &bob_key).await);
}

#[tokio::test]
async fn a_key_revoked_while_its_people_change_waits_changes_nothing() {
    let Org {
        app, id, ada, bob_key, ..
    } = org_of_two_admins().await;
    // The org's admin memberships are held, as another people change would hold them.
    let mut holder = app.pool.begin().await.expect("transaction");
    sqlx::query("SELECT 1 FROM memberships WHERE org_id = $1 AND role = 'admin' FOR UPDATE")
        .bind(id)
        .fetch_all(&mut *holder)
        .await
        .expect("lock");
    let suspend_ada = directory_user(id, ada, "suspend-access");
    let suspension = app.api(Method::POST, &suspend_ada, &bob_key.token);
    let meanwhile = async {
        lock_waiters(&app, 1).await;
        sqlx::query("UPDATE api_keys SET revoked_at = statement_timestamp(), revoked_by_kind = 'system' WHERE id = $1")
            .bind(bob_key.id)
            .execute(&mut *holder)
            .await
            .expect("Bob's key revoked meanwhile");
        holder.commit().await.expect("commit");
    };
    let (answer, ()) = tokio::join!(suspension, meanwhile);
    assert_eq!(
        answer.status(),
        401,
        "the key was revoked before the change was written"
    );
    let suspended: bool =
        sqlx::query_scalar("SELECT suspended_at IS NOT NULL FROM memberships WHERE org_id = $1 AND user_id = $2")
            .bind(id)
            .bind(ada)
            .fetch_one(&app.pool)
            .await
            .expect("membership");
    assert!(!suspended, "Ada was not suspended by a revoked key");
}

#[tokio::test]
async fn two_keys_revoking_each_other_at_once_never_both_succeed() {
    let Org { app, id, ada, bob, .. } = org_of_two_admins().await;
    for round in 0..8 {
        let first = app.key_for(id, ada).await;
        let second = app.key_for(id, bob).await;
        let (revoke_second, revoke_first) = (
            format!("{}/revoke/{}", keys_path(id), second.id),
            format!("{}/revoke/{}", keys_path(id), first.id),
        );
        let (a, b) = tokio::join!(
            app.api(Method::PATCH, &revoke_second, &first.token),
            app.api(Method::PATCH, &revoke_first, &second.token)
        );
        let statuses = [a.status().as_u16(), b.status().as_u16()];
        assert!(
            statuses == [204, 401] || statuses == [401, 204],
            "round {round}: exactly one revocation succeeds, the other key is refused: {statuses:?}"
        );
        let revoked_keys: i64 =
            sqlx::query_scalar("SELECT count(*) FROM api_keys WHERE id = ANY($1) AND revoked_at IS NOT NULL")
                .bind(vec![first.id, second.id])
                .fetch_one(&app.pool)
                .await
                .expect("count");
        assert_eq!(revoked_keys, 1, "round {round}");
    }
}
