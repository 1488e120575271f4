//! What a test arranges before it acts: people, domains, classification levels and policies
//! straight through the owner's pool; invitations through the service an admin's invite goes
//! through.

use serde_json::{Value, json};
use uuid::Uuid;

use super::TestApp;

/// People: accounts, memberships and sessions arranged directly through the owner's pool.
impl TestApp {
    /// An account named after its email; `managed_by` is the org allowed to change it.
    pub async fn user(&self, email: &str, managed_by: Option<uuid::Uuid>) -> uuid::Uuid {
        let id = uuid::Uuid::new_v4();
        sqlx::query("INSERT INTO users (id, email, display_name, managed_by_org) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(email)
            .bind(email.split('@').next().unwrap_or(email))
            .bind(managed_by)
            .execute(&self.pool)
            .await
            .expect("user");
        id
    }

    /// Makes `user` a member of `org` in `role` ("admin" or "member"), joined at `joined_at`
    /// (now when None).
    pub async fn member_at(
        &self,
        org: uuid::Uuid,
        user: uuid::Uuid,
        role: &str,
        joined_at: Option<chrono::DateTime<chrono::Utc>>,
    ) {
        sqlx::query(
            "INSERT INTO memberships (org_id, user_id, role, created_at)
             VALUES ($1, $2, $3::membership_role, COALESCE($4, now()))",
        )
        .bind(org)
        .bind(user)
        .bind(role)
        .bind(joined_at)
        .execute(&self.pool)
        .await
        .expect("membership");
    }

    pub async fn member(&self, org: uuid::Uuid, user: uuid::Uuid, role: &str) {
        self.member_at(org, user, role, None).await;
    }

    /// A console session of `user`.
    pub async fn session(&self, user: uuid::Uuid) {
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, csrf_secret, expires_at)
             VALUES (sha256(gen_random_uuid()::text::bytea), $1, '\\x00', now() + interval '1 hour')",
        )
        .bind(user)
        .execute(&self.pool)
        .await
        .expect("session");
    }
}

/// Domains and classification levels arranged through the owner's pool.
impl TestApp {
    /// A domain `org` claims (a `dns` claim), verified when `verified`.
    pub async fn domain(&self, org: uuid::Uuid, name: &str, verified: bool) -> uuid::Uuid {
        let id = uuid::Uuid::new_v4();
        sqlx::query(
            "INSERT INTO domains (id, org_id, name, claim_type, status, verified_at)
             VALUES ($1, $2, $3, 'dns', CASE WHEN $4 THEN 'verified' ELSE 'unverified' END,
                     CASE WHEN $4 THEN now() END)",
        )
        .bind(id)
        .bind(org)
        .bind(name)
        .bind(verified)
        .execute(&self.pool)
        .await
        .expect("domain");
        id
    }

    /// A draft classification level of `org`.
    pub async fn level(&self, org: uuid::Uuid, name: &str) -> uuid::Uuid {
        let id = uuid::Uuid::new_v4();
        sqlx::query("INSERT INTO classification_levels (id, org_id, name, color) VALUES ($1, $2, $3, 'GREY')")
            .bind(id)
            .bind(org)
            .bind(name)
            .execute(&self.pool)
            .await
            .expect("classification level");
        id
    }
}

/// Invitations arranged through `people::invitations`, as an admin's invite makes them.
impl TestApp {
    /// `inviter` (an admin of `org`) invites `email` in `role` ("admin" or "member"); returns
    /// the invitation's id and its link's token.
    pub async fn invitation(
        &self,
        org: uuid::Uuid,
        email: &str,
        role: &str,
        inviter: uuid::Uuid,
    ) -> (uuid::Uuid, String) {
        use keyward::domain::actor::Actor;
        use keyward::domain::member::Role;
        use keyward::store::audit::Origin;
        let origin = Origin::default();
        let acting = keyward::service::people::Acting {
            org_id: org,
            actor: Actor::User(inviter),
            origin: &origin,
        };
        let role = match role {
            "admin" => Role::Admin,
            "member" => Role::Member,
            other => panic!("no role {other:?}"),
        };
        let email = keyward::domain::Email::parse(email).expect("an email");
        let link = keyward::service::people::invitations::invite(&self.pool, &acting, &email, role)
            .await
            .expect("invitation");
        let url = link.url("");
        let token = url.split_once("token=").expect("a token in the link").1.to_owned();
        (link.id, token)
    }
}

/// An enabled api-key-lifetime policy of `org`, written as an arrangement (not through the API).
pub async fn lifetime_policy(app: &TestApp, org: Uuid, max_days: i64) -> Uuid {
    insert_policy(app, org, "api-key-lifetime", json!({ "maxDays": max_days })).await
}

pub async fn insert_policy(app: &TestApp, org: Uuid, kind: &str, rule: Value) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO policies (id, org_id, type, name, status, rule) VALUES ($1, $2, $3, 'arranged', 'enabled', $4) RETURNING id",
    )
    .bind(Uuid::new_v4())
    .bind(org)
    .bind(kind)
    .bind(rule)
    .fetch_one(&app.pool)
    .await
    .expect("policy")
}

/// An org written straight into a database no instance serves (before a migration, or for the
/// command line).
pub async fn org_row(pool: &sqlx::PgPool, name: &str) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query("INSERT INTO orgs (id, name) VALUES ($1, $2)")
        .bind(id)
        .bind(name)
        .execute(pool)
        .await
        .expect("org");
    id
}
