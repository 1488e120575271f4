//! API keys made for a test through the key service, as the console or the CLI makes them.

use super::TestApp;

/// A key made for a test: its id and the bearer value.
pub struct TestKey {
    pub id: uuid::Uuid,
    pub token: String,
}

impl TestKey {
    pub fn public_id(&self) -> &str {
        self.token
            .trim_start_matches("kw_")
            .split('_')
            .next()
            .expect("public id")
    }
}

impl TestApp {
    /// A key of `org`: `scopes` None for an unscoped key; it stops working `expires_in` after
    /// now. The database stamps its creation, so a key cannot be made already expired: make
    /// it short-lived and wait.
    pub async fn key_with(
        &self,
        org: uuid::Uuid,
        scopes: Option<&[keyward::domain::Scope]>,
        expires_in: chrono::Duration,
    ) -> TestKey {
        use keyward::domain::KeyScopes;
        use keyward::domain::api_key::{AskedExpiry, KeyName};
        let request = keyward::service::keys::KeyRequest {
            org_id: org.into(),
            name: KeyName::parse("test key").expect("name"),
            scopes: scopes.map_or(KeyScopes::Unscoped, |s| KeyScopes::Scoped(s.to_vec())),
            expiry: AskedExpiry::At(chrono::Utc::now() + expires_in),
            created_by: keyward::domain::actor::Actor::System,
            responsible_user_id: None,
            origin: Default::default(),
        };
        self.create_key(&request).await
    }

    /// An active key of `org` living 30 days.
    pub async fn key(&self, org: uuid::Uuid, scopes: Option<&[keyward::domain::Scope]>) -> TestKey {
        self.key_with(org, scopes, chrono::Duration::days(30)).await
    }

    /// A key of `org` that `user` answers for (as if they had created it in the console).
    pub async fn key_for(&self, org: uuid::Uuid, user: uuid::Uuid) -> TestKey {
        let expiry = keyward::domain::api_key::AskedExpiry::InDays(30);
        self.key_by(org, user, "their key", expiry).await
    }

    /// An unscoped key of `org` named `name` that `user` created and answers for.
    pub async fn key_by(
        &self,
        org: uuid::Uuid,
        user: uuid::Uuid,
        name: &str,
        expiry: keyward::domain::api_key::AskedExpiry,
    ) -> TestKey {
        use keyward::domain::KeyScopes;
        use keyward::domain::api_key::KeyName;
        let request = keyward::service::keys::KeyRequest {
            org_id: org.into(),
            name: KeyName::parse(name).expect("name"),
            scopes: KeyScopes::Unscoped,
            expiry,
            created_by: keyward::domain::actor::Actor::User(user),
            responsible_user_id: Some(user.into()),
            origin: Default::default(),
        };
        self.create_key(&request).await
    }

    /// Creates the key `request` describes, through the key service.
    async fn create_key(&self, request: &keyward::service::keys::KeyRequest) -> TestKey {
        let argon2 = keyward::auth::argon2id::Argon2Pool::new(2);
        let created = keyward::service::keys::create(&self.pool, &argon2, request)
            .await
            .expect("key");
        TestKey {
            id: created.id.uuid(),
            token: created.token.expose_token(),
        }
    }
}
