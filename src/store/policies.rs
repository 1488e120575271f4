//! Org policies as stored: listed, read, written, and the enabled rules enforcement reads.
//! Every write fires the table's trigger, which notifies every instance on commit.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

/// A stored policy. Type, status and rule are as the database spells them; `crate::service::policies`
/// parses them.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub kind: String,
    pub name: String,
    pub status: String,
    pub rule: Value,
    pub resources: Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Keyset position in an org's policy list: the (created_at, id) of the last policy shown.
pub type PolicyCursor = (DateTime<Utc>, Uuid);

/// What a create or update writes.
#[derive(Debug, Clone, Copy)]
pub struct PolicyWrite<'a> {
    pub kind: &'a str,
    pub name: &'a str,
    pub status: &'a str,
    pub rule: &'a Value,
    pub resources: &'a Value,
}

/// One page of the org's policies, oldest first, optionally of one type.
pub async fn list(
    conn: &mut PgConnection,
    org_id: Uuid,
    kind: Option<&str>,
    after: Option<PolicyCursor>,
    limit: i64,
) -> Result<Vec<PolicyRow>, sqlx::Error> {
    let (after_time, after_id) = after.map_or((None, None), |(time, id)| (Some(time), Some(id)));
    sqlx::query_as!(
        PolicyRow,
        r#"SELECT id, org_id, type AS kind, name, status, rule, resources, created_at, updated_at
           FROM policies
           WHERE org_id = $1
             AND ($2::text IS NULL OR type = $2)
             AND ($3::timestamptz IS NULL OR (created_at, id) > ($3, $4))
           ORDER BY created_at, id
           LIMIT $5"#,
        org_id,
        kind,
        after_time,
        after_id,
        limit
    )
    .fetch_all(conn)
    .await
}

pub async fn get(conn: &mut PgConnection, org_id: Uuid, id: Uuid) -> Result<Option<PolicyRow>, sqlx::Error> {
    sqlx::query_as!(
        PolicyRow,
        r#"SELECT id, org_id, type AS kind, name, status, rule, resources, created_at, updated_at
           FROM policies WHERE org_id = $1 AND id = $2"#,
        org_id,
        id
    )
    .fetch_optional(conn)
    .await
}

pub async fn insert(conn: &mut PgConnection, org_id: Uuid, policy: PolicyWrite<'_>) -> Result<PolicyRow, sqlx::Error> {
    sqlx::query_as!(
        PolicyRow,
        r#"INSERT INTO policies (id, org_id, type, name, status, rule, resources)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           RETURNING id, org_id, type AS kind, name, status, rule, resources, created_at, updated_at"#,
        Uuid::new_v4(),
        org_id,
        policy.kind,
        policy.name,
        policy.status,
        policy.rule,
        policy.resources
    )
    .fetch_one(conn)
    .await
}

/// Replaces a policy's name, status, rule and resources; its type never changes. `None` when
/// the org has no such policy.
pub async fn update(
    conn: &mut PgConnection,
    org_id: Uuid,
    id: Uuid,
    policy: PolicyWrite<'_>,
) -> Result<Option<PolicyRow>, sqlx::Error> {
    sqlx::query_as!(
        PolicyRow,
        r#"UPDATE policies
           SET name = $4, status = $5, rule = $6, resources = $7, updated_at = statement_timestamp()
           WHERE org_id = $1 AND id = $2 AND type = $3
           RETURNING id, org_id, type AS kind, name, status, rule, resources, created_at, updated_at"#,
        org_id,
        id,
        policy.kind,
        policy.name,
        policy.status,
        policy.rule,
        policy.resources
    )
    .fetch_optional(conn)
    .await
}

/// Locks the org's policy row for a change, so two writers of one policy follow each other.
pub async fn lock(conn: &mut PgConnection, org_id: Uuid, id: Uuid) -> Result<Option<PolicyRow>, sqlx::Error> {
    sqlx::query_as!(
        PolicyRow,
        r#"SELECT id, org_id, type AS kind, name, status, rule, resources, created_at, updated_at
           FROM policies WHERE org_id = $1 AND id = $2 FOR UPDATE"#,
        org_id,
        id
    )
    .fetch_optional(conn)
    .await
}

pub async fn delete(conn: &mut PgConnection, org_id: Uuid, id: Uuid) -> Result<Option<PolicyRow>, sqlx::Error> {
    sqlx::query_as!(
        PolicyRow,
        r#"DELETE FROM policies WHERE org_id = $1 AND id = $2
           RETURNING id, org_id, type AS kind, name, status, rule, resources, created_at, updated_at"#,
        org_id,
        id
    )
    .fetch_optional(conn)
    .await
}

/// The rules of the org's enabled policies of one type.
pub async fn enabled_rules(conn: &mut PgConnection, org_id: Uuid, kind: &str) -> Result<Vec<Value>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT rule FROM policies WHERE org_id = $1 AND type = $2 AND status = 'enabled' ORDER BY created_at, id",
        org_id,
        kind
    )
    .fetch_all(conn)
    .await
}

/// The rules of the org's enabled policies of one type, their rows held against change until
/// the transaction ends (a key being created with the lifetime they set).
pub async fn enabled_rules_locked(
    conn: &mut PgConnection,
    org_id: Uuid,
    kind: &str,
) -> Result<Vec<Value>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT rule FROM policies WHERE org_id = $1 AND type = $2 AND status = 'enabled' ORDER BY created_at, id FOR SHARE",
        org_id,
        kind
    )
    .fetch_all(conn)
    .await
}
