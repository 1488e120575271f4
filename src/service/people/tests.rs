//! The rules of people management, checked against a real database.

use super::*;
use crate::domain::OrgName;
use crate::domain::actor::Actor;
use crate::pg_embedded::PrivateCluster;
use crate::store::audit::Origin;
use crate::store::test_database::database;

struct World {
    pool: PgPool,
    _cluster: Option<PrivateCluster>,
    acme: Uuid,
    globex: Uuid,
}

async fn world() -> World {
    let (pool, cluster) = database().await;
    let mut conn = pool.acquire().await.expect("connection");
    let acme = store::orgs::create(&mut conn, &OrgName::parse("Acme").expect("name"))
        .await
        .expect("org")
        .id;
    let globex = store::orgs::create(&mut conn, &OrgName::parse("Globex").expect("name"))
        .await
        .expect("org")
        .id;
    drop(conn);
    World {
        pool,
        _cluster: cluster,
        acme,
        globex,
    }
}

impl World {
    /// A person managed by `managed_by`, with these memberships.
    async fn person(&self, email: &str, managed_by: Option<Uuid>, memberships: &[(Uuid, Role)]) -> Uuid {
        let mut conn = self.pool.acquire().await.expect("connection");
        let user = store::users::create(
            &mut conn,
            &Email::parse(email).expect("email"),
            &DisplayName::parse(email).expect("name"),
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
            // As if `managed_by` had verified the email's domain.
            managed_by,
        )
        .await
        .expect("user");
        for &(org, role) in memberships {
            store::users::grant_admin(&mut conn, org, user.id)
                .await
                .expect("membership");
            store::memberships::set_role(&mut conn, org, user.id, role)
                .await
                .expect("role");
        }
        user.id
    }

    fn acting<'a>(&self, org_id: Uuid, origin: &'a Origin) -> Acting<'a> {
        Acting {
            org_id,
            actor: Actor::System,
            origin,
        }
    }

    async fn is_active(&self, org: Uuid, user: Uuid) -> bool {
        let mut conn = self.pool.acquire().await.expect("connection");
        store::memberships::is_active(&mut conn, org, user)
            .await
            .expect("is_active")
    }

    async fn sessions_of(&self, user: Uuid) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM sessions WHERE user_id = $1")
            .bind(user)
            .fetch_one(&self.pool)
            .await
            .expect("count")
    }

    async fn add_session(&self, user: Uuid) {
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, csrf_secret, expires_at)
             VALUES (sha256(gen_random_uuid()::text::bytea), $1, '\\x00', now() + interval '1 hour')",
        )
        .bind(user)
        .execute(&self.pool)
        .await
        .expect("session");
    }

    async fn events(&self, action: &str) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = $1")
            .bind(action)
            .fetch_one(&self.pool)
            .await
            .expect("count")
    }
}

#[tokio::test]
async fn is_active_is_per_org_and_follows_suspension_and_the_account() {
    let w = world().await;
    let origin = Origin::default();
    let _keeper = w
        .person(
            "keeper@example.com",
            None,
            &[(w.acme, Role::Admin), (w.globex, Role::Admin)],
        )
        .await;
    let ada = w
        .person(
            "ada@example.com",
            Some(w.acme),
            &[(w.acme, Role::Member), (w.globex, Role::Member)],
        )
        .await;
    assert!(w.is_active(w.acme, ada).await);
    assert!(w.is_active(w.globex, ada).await);

    assert!(
        suspend(&w.pool, None, &w.acting(w.acme, &origin), ada, KeyHandover::Keep)
            .await
            .expect("suspend")
            .changed
    );
    assert!(!w.is_active(w.acme, ada).await, "suspended where it was suspended");
    assert!(w.is_active(w.globex, ada).await, "the other org is untouched");

    restore(&w.pool, &w.acting(w.acme, &origin), ada)
        .await
        .expect("restore");
    assert!(w.is_active(w.acme, ada).await);

    disable(&w.pool, None, &w.acting(w.acme, &origin), ada, None)
        .await
        .expect("disable");
    assert!(!w.is_active(w.acme, ada).await, "a disabled account is active nowhere");
    assert!(!w.is_active(w.globex, ada).await);

    let stranger = w.person("stranger@example.com", None, &[]).await;
    assert!(!w.is_active(w.acme, stranger).await, "no membership, no access");
}

#[tokio::test]
async fn the_last_admin_cannot_be_removed_demoted_suspended_or_disabled() {
    let w = world().await;
    let origin = Origin::default();
    let acting = w.acting(w.acme, &origin);
    let only = w
        .person("only@example.com", Some(w.acme), &[(w.acme, Role::Admin)])
        .await;
    // A suspended admin and a disabled admin do not count as admins.
    let suspended = w.person("suspended@example.com", None, &[(w.acme, Role::Admin)]).await;
    store::memberships::suspend(&mut w.pool.acquire().await.expect("conn"), w.acme, suspended)
        .await
        .expect("suspend");
    let disabled = w.person("disabled@example.com", None, &[(w.acme, Role::Admin)]).await;
    store::users::set_status(
        &mut w.pool.acquire().await.expect("conn"),
        disabled,
        UserStatus::Disabled,
    )
    .await
    .expect("disable");

    assert!(matches!(
        remove(&w.pool, None, &acting, only).await,
        Err(PeopleError::LastAdmin)
    ));
    assert!(matches!(
        set_role(&w.pool, None, &acting, only, Role::Member, KeyHandover::Keep).await,
        Err(PeopleError::LastAdmin)
    ));
    assert!(matches!(
        suspend(&w.pool, None, &acting, only, KeyHandover::Keep).await,
        Err(PeopleError::LastAdmin)
    ));
    assert!(matches!(
        disable(&w.pool, None, &acting, only, None).await,
        Err(PeopleError::LastAdmin)
    ));
    assert!(w.is_active(w.acme, only).await, "nothing changed");
    assert_eq!(w.events("membership.removed").await, 0);

    // With a second admin, the first may go.
    let second = w.person("second@example.com", None, &[(w.acme, Role::Admin)]).await;
    set_role(&w.pool, None, &acting, only, Role::Member, KeyHandover::Keep)
        .await
        .expect("demote");
    assert!(matches!(
        remove(&w.pool, None, &acting, second).await,
        Err(PeopleError::LastAdmin)
    ));
}

#[tokio::test]
async fn disabling_is_refused_when_the_account_is_the_last_admin_of_any_org() {
    let w = world().await;
    let origin = Origin::default();
    // Acme has two admins; Globex has only this person.
    let _other = w.person("other@example.com", None, &[(w.acme, Role::Admin)]).await;
    let ada = w
        .person(
            "ada@example.com",
            Some(w.acme),
            &[(w.acme, Role::Admin), (w.globex, Role::Admin)],
        )
        .await;
    let outcome = disable(&w.pool, None, &w.acting(w.acme, &origin), ada, None).await;
    assert!(matches!(outcome, Err(PeopleError::LastAdmin)), "{outcome:?}");
    assert!(w.is_active(w.globex, ada).await);
}

#[tokio::test]
async fn two_admins_removing_each_other_at_once_leave_one_admin() {
    let w = world().await;
    let origin = Origin::default();
    let a = w.person("a@example.com", None, &[(w.acme, Role::Admin)]).await;
    let b = w.person("b@example.com", None, &[(w.acme, Role::Admin)]).await;
    for round in 0..10 {
        let acting = w.acting(w.acme, &origin);
        let (first, second) = tokio::join!(
            suspend(&w.pool, None, &acting, a, KeyHandover::Keep),
            disable_or_remove(&w, &acting, b, round)
        );
        let refused = [first.is_err(), second.is_err()];
        assert_eq!(
            refused.iter().filter(|r| **r).count(),
            1,
            "exactly one of two racing changes is refused: {first:?} {second:?}"
        );
        let mut conn = w.pool.acquire().await.expect("conn");
        assert_eq!(
            store::memberships::effective_admins(&mut conn, w.acme)
                .await
                .expect("admins")
                .len(),
            1
        );
        // Put both back for the next round.
        store::users::grant_admin(&mut conn, w.acme, a)
            .await
            .expect("restore a");
        store::users::grant_admin(&mut conn, w.acme, b)
            .await
            .expect("restore b");
        store::users::set_status(&mut conn, b, UserStatus::Active)
            .await
            .expect("enable b");
    }
}

async fn disable_or_remove(w: &World, acting: &Acting<'_>, user: Uuid, round: usize) -> Result<(), PeopleError> {
    if round.is_multiple_of(2) {
        remove(&w.pool, None, acting, user).await.map(drop)
    } else {
        // Unmanaged: make this org manage it first.
        sqlx::query("UPDATE users SET managed_by_org = $1 WHERE id = $2")
            .bind(acting.org_id)
            .bind(user)
            .execute(&w.pool)
            .await
            .expect("manage");
        disable(&w.pool, None, acting, user, None).await.map(drop)
    }
}

#[tokio::test]
async fn disabling_and_changing_the_email_end_every_session_of_the_account() {
    let w = world().await;
    let origin = Origin::default();
    let acting = w.acting(w.acme, &origin);
    let _keeper = w.person("keeper@example.com", None, &[(w.acme, Role::Admin)]).await;
    let ada = w
        .person("ada@example.com", Some(w.acme), &[(w.acme, Role::Member)])
        .await;
    let bob = w
        .person("bob@example.com", Some(w.acme), &[(w.acme, Role::Member)])
        .await;
    for _ in 0..2 {
        w.add_session(ada).await;
        w.add_session(bob).await;
    }

    // Acme has verified the new address's domain, so it still manages the account after.
    sqlx::query(
        "INSERT INTO domains (id, org_id, name, claim_type, status, verified_at)
         VALUES ($1, $2, 'new.example.com', 'dns', 'verified', now())",
    )
    .bind(Uuid::new_v4())
    .bind(w.acme)
    .execute(&w.pool)
    .await
    .expect("domain");
    set_email(
        &w.pool,
        &acting,
        ada,
        &Email::parse("ada@new.example.com").expect("email"),
    )
    .await
    .expect("email");
    assert_eq!(w.sessions_of(ada).await, 0);
    assert_eq!(w.sessions_of(bob).await, 2, "only that account's sessions");

    w.add_session(ada).await;
    disable(&w.pool, None, &acting, ada, Some("left"))
        .await
        .expect("disable");
    assert_eq!(w.sessions_of(ada).await, 0);
    assert_eq!(w.sessions_of(bob).await, 2);
}

#[tokio::test]
async fn account_changes_are_only_for_the_managing_org() {
    let w = world().await;
    let origin = Origin::default();
    let _keeper = w
        .person(
            "keeper@example.com",
            None,
            &[(w.acme, Role::Admin), (w.globex, Role::Admin)],
        )
        .await;
    let ada = w
        .person(
            "ada@example.com",
            Some(w.globex),
            &[(w.acme, Role::Member), (w.globex, Role::Member)],
        )
        .await;
    w.add_session(ada).await;
    let acme = w.acting(w.acme, &origin);
    let email = Email::parse("ada@acme.example.com").expect("email");
    assert!(matches!(
        disable(&w.pool, None, &acme, ada, None).await,
        Err(PeopleError::NotManaged)
    ));
    assert!(matches!(
        enable(&w.pool, &acme, ada).await,
        Err(PeopleError::NotManaged)
    ));
    assert!(matches!(
        set_email(&w.pool, &acme, ada, &email).await,
        Err(PeopleError::NotManaged)
    ));
    let patch = ProfilePatch {
        name: Some(DisplayName::parse("Someone else").expect("name")),
        fields: vec![],
    };
    assert!(matches!(
        update_profile(&w.pool, &acme, ada, &patch).await,
        Err(PeopleError::NotManaged)
    ));
    assert_eq!(w.sessions_of(ada).await, 1, "nothing happened");
    assert!(w.is_active(w.acme, ada).await);

    // The managing org may.
    let globex = w.acting(w.globex, &origin);
    let updated = update_profile(&w.pool, &globex, ada, &patch).await.expect("patch");
    assert_eq!(updated.display_name, "Someone else");
}

#[tokio::test]
async fn removing_a_member_revokes_the_keys_they_answer_for_in_that_org_only() {
    let w = world().await;
    let origin = Origin::default();
    let _keeper = w.person("keeper@example.com", None, &[(w.acme, Role::Admin)]).await;
    let ada = w
        .person(
            "ada@example.com",
            None,
            &[(w.acme, Role::Admin), (w.globex, Role::Admin)],
        )
        .await;
    let argon2 = crate::auth::argon2id::Argon2Pool::new(1);
    let mut request = crate::service::keys::KeyRequest {
        org_id: w.acme.into(),
        name: crate::domain::api_key::KeyName::parse("deploy").expect("name"),
        scopes: crate::domain::KeyScopes::Unscoped,
        expiry: crate::domain::api_key::AskedExpiry::InDays(30),
        created_by: Actor::User(ada),
        responsible_user_id: Some(ada.into()),
        origin: Origin::default(),
    };
    let acme_key = crate::service::keys::create(&w.pool, &argon2, &request)
        .await
        .expect("key")
        .id
        .uuid();
    request.org_id = w.globex.into();
    let globex_key = crate::service::keys::create(&w.pool, &argon2, &request)
        .await
        .expect("key")
        .id
        .uuid();

    let removal = remove(&w.pool, None, &w.acting(w.acme, &origin), ada)
        .await
        .expect("remove");
    assert_eq!(removal.revoked_keys.len(), 1);
    assert_eq!(removal.revoked_keys[0].0, acme_key);
    let revoked: Vec<(Uuid, bool)> = sqlx::query_as("SELECT id, revoked_at IS NOT NULL FROM api_keys ORDER BY id")
        .fetch_all(&w.pool)
        .await
        .expect("keys");
    assert!(revoked.contains(&(acme_key, true)));
    assert!(revoked.contains(&(globex_key, false)), "the other org's key stays");
    assert_eq!(w.events("api_key.revoked").await, 1);
    let listed: serde_json::Value =
        sqlx::query_scalar("SELECT details->'revoked_keys' FROM audit_events WHERE action = 'membership.removed'")
            .fetch_one(&w.pool)
            .await
            .expect("removal event");
    assert_eq!(listed[0]["id"], acme_key.to_string());
}

#[test]
fn profile_fields_are_trimmed_and_bounded() {
    assert_eq!(ProfileField::Nickname.parse("  Ada "), Ok("Ada".to_owned()));
    assert!(ProfileField::Nickname.parse("   ").is_err());
    assert!(ProfileField::Locale.parse(&"x".repeat(36)).is_err());
    assert!(ProfileField::Zoneinfo.parse(&"x".repeat(64)).is_ok());
    assert!(ProfileField::JobTitle.parse("a\u{7}b").is_err());
}

#[test]
fn only_a_deadlock_runs_a_people_change_again() {
    let deadlock = || crate::service::standing::deadlock_error();
    assert!(deadlocked(&PeopleError::Database(deadlock())));
    assert!(deadlocked(&PeopleError::Standing(StandingError::Database(deadlock()))));
    assert!(!deadlocked(&PeopleError::Database(sqlx::Error::RowNotFound)));
    assert!(!deadlocked(&PeopleError::LastAdmin));
}
