//! Org policies: the one path the API, the console and the CLI share to create, change and
//! delete them, each change with its audit event in the same transaction. The table's trigger
//! tells every instance on commit; a serving instance also updates its own cache before it
//! answers, so its very next request sees the change.

use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::auth::api_key::KeyVerifier;
use crate::domain::policy::{Allowlist, KeyLifetime, PolicyKind, PolicyRule, PolicyStatus};
use crate::domain::{Action, PolicyName};
use crate::service::standing::{self, Power, StandingError};
use crate::store;
use crate::store::audit::{Acting, NewEvent};
use crate::store::policies::{PolicyRow, PolicyWrite};

/// A policy as a client asked for it, parsed.
#[derive(Debug, Clone)]
pub struct PolicyInput {
    pub name: PolicyName,
    pub status: PolicyStatus,
    pub rule: PolicyRule,
    /// Kept and shown back; keyward applies every policy to the whole org.
    pub resources: Value,
}

impl PolicyInput {
    pub fn kind(&self) -> PolicyKind {
        self.rule.kind()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyChangeError {
    #[error("no such policy in this organization")]
    NotFound,
    #[error("a policy's type cannot change: this one is {0}")]
    TypeChange(&'static str),
    /// The actor may not govern the org: its key was revoked meanwhile, or the person it
    /// answers for is not an active admin.
    #[error(transparent)]
    Standing(#[from] StandingError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// Who changes a policy, from where, and which instance (if any) serves requests.
pub struct Change<'a> {
    pub pool: &'a PgPool,
    pub verifier: Option<&'a KeyVerifier>,
    pub acting: Acting<'a>,
}

impl<'a> Change<'a> {
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn create(&self, input: &PolicyInput) -> Result<PolicyRow, PolicyChangeError> {
        let rule = input.rule.to_json();
        let mut tx = self.begin().await?;
        let row = store::policies::insert(&mut tx, self.acting.org_id, write(input, &rule)).await?;
        store::audit::record(&mut tx, self.event(Action::PolicyCreated, &row)).await?;
        tx.commit().await?;
        self.changed();
        Ok(row)
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn update(&self, id: Uuid, input: &PolicyInput) -> Result<PolicyRow, PolicyChangeError> {
        let rule = input.rule.to_json();
        let mut tx = self.begin().await?;
        let before = store::policies::lock(&mut tx, self.acting.org_id, id)
            .await?
            .ok_or(PolicyChangeError::NotFound)?;
        let kind = PolicyKind::parse(&before.kind).map_err(|_| PolicyChangeError::NotFound)?;
        if kind != input.kind() {
            return Err(PolicyChangeError::TypeChange(kind.name()));
        }
        let row = store::policies::update(&mut tx, self.acting.org_id, id, write(input, &rule))
            .await?
            .ok_or(PolicyChangeError::NotFound)?;
        let mut event = self.event(Action::PolicyUpdated, &row);
        event.details["before"] = json!({ "name": before.name, "status": before.status, "rule": before.rule });
        store::audit::record(&mut tx, event).await?;
        tx.commit().await?;
        self.changed();
        Ok(row)
    }

    /// Disables a policy, leaving its rule as it was; a policy already disabled is a success
    /// that changes nothing.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn disable(&self, id: Uuid) -> Result<PolicyRow, PolicyChangeError> {
        let mut tx = self.begin().await?;
        let row = store::policies::lock(&mut tx, self.acting.org_id, id)
            .await?
            .ok_or(PolicyChangeError::NotFound)?;
        if row.status == PolicyStatus::Disabled.name() {
            return Ok(row);
        }
        let disabled = PolicyWrite {
            kind: &row.kind,
            name: &row.name,
            status: PolicyStatus::Disabled.name(),
            rule: &row.rule,
            resources: &row.resources,
        };
        let row = store::policies::update(&mut tx, self.acting.org_id, id, disabled)
            .await?
            .ok_or(PolicyChangeError::NotFound)?;
        store::audit::record(&mut tx, self.event(Action::PolicyUpdated, &row)).await?;
        tx.commit().await?;
        self.changed();
        Ok(row)
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn delete(&self, id: Uuid) -> Result<PolicyRow, PolicyChangeError> {
        let mut tx = self.begin().await?;
        let row = store::policies::delete(&mut tx, self.acting.org_id, id)
            .await?
            .ok_or(PolicyChangeError::NotFound)?;
        store::audit::record(&mut tx, self.event(Action::PolicyDeleted, &row)).await?;
        tx.commit().await?;
        self.changed();
        Ok(row)
    }

    /// A transaction in which the actor may govern the org, and keeps that standing until the
    /// commit.
    async fn begin(&self) -> Result<sqlx::Transaction<'a, sqlx::Postgres>, PolicyChangeError> {
        let mut tx = self.pool.begin().await?;
        standing::authorize(&mut tx, self.acting.org_id, self.acting.actor, Power::Govern).await?;
        Ok(tx)
    }

    /// After the commit and before the answer: this instance's own cache forgets the org's
    /// policies, so its next request reads them anew.
    fn changed(&self) {
        if let Some(verifier) = self.verifier {
            verifier.policies_changed(self.acting.org_id);
        }
    }

    fn event(&self, action: Action, row: &PolicyRow) -> NewEvent<'a> {
        let details = json!({ "type": row.kind, "name": row.name, "status": row.status, "rule": row.rule });
        self.acting.event(action, "policy", Some(row.id.to_string()), details)
    }
}

fn write<'a>(input: &'a PolicyInput, rule: &'a Value) -> PolicyWrite<'a> {
    PolicyWrite {
        kind: input.kind().name(),
        name: input.name.as_str(),
        status: input.status.name(),
        rule,
        resources: &input.resources,
    }
}

/// The allowlists of the org's enabled ip-allowlist policies. A stored rule that no longer
/// parses (none can: the API parses before it writes) admits nothing rather than everything.
pub fn allowlists(rules: &[Value]) -> Vec<Allowlist> {
    rules
        .iter()
        .map(|rule| match PolicyRule::parse(PolicyKind::IpAllowlist, rule) {
            Ok(PolicyRule::IpAllowlist(list)) => list,
            _ => Allowlist::nothing(),
        })
        .collect()
}

/// The shortest lifetime the org's enabled api-key-lifetime policies allow, if any does.
pub fn shortest_lifetime(rules: &[Value]) -> Option<KeyLifetime> {
    rules
        .iter()
        .filter_map(|rule| match PolicyRule::parse(PolicyKind::KeyLifetime, rule) {
            Ok(PolicyRule::KeyLifetime(lifetime)) => Some(lifetime),
            _ => None,
        })
        .min()
}
