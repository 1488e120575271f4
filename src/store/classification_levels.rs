//! Classification levels. Every change takes the org's classification lock first (`lock`), so
//! changes of one org's levels run one after another and ranks stay 1..n without gaps.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::classification::{Color, LevelName, LevelStatus, LevelText};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Level {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub guideline: Option<String>,
    pub color: Color,
    pub status: LevelStatus,
    /// 1 is the most sensitive; `None` unless published.
    pub rank: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The index a second level in use with the same name breaks.
pub const NAME_IN_USE: &str = "classification_levels_name_in_use";

/// A level's editable fields, parsed.
#[derive(Debug, Clone)]
pub struct LevelFields {
    pub name: LevelName,
    pub description: LevelText,
    pub guideline: LevelText,
    pub color: Color,
}

struct Row {
    id: Uuid,
    org_id: Uuid,
    name: String,
    description: Option<String>,
    guideline: Option<String>,
    color: String,
    status: String,
    rank: Option<i32>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<Row> for Level {
    type Error = sqlx::Error;

    fn try_from(row: Row) -> Result<Level, sqlx::Error> {
        let unknown = |what: &str, value: &str| sqlx::Error::Decode(format!("unknown level {what} {value:?}").into());
        Ok(Level {
            color: Color::parse(&row.color).map_err(|_| unknown("colour", &row.color))?,
            status: LevelStatus::parse(&row.status).ok_or_else(|| unknown("status", &row.status))?,
            id: row.id,
            org_id: row.org_id,
            name: row.name,
            description: row.description,
            guideline: row.guideline,
            rank: row.rank,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

fn levels(rows: Vec<Row>) -> Result<Vec<Level>, sqlx::Error> {
    rows.into_iter().map(Level::try_from).collect()
}

/// The org's classification lock, held until the transaction ends: a transaction-scoped
/// advisory lock on (a constant for this table, a hash of the org id). Two orgs whose ids hash
/// alike merely wait for each other.
pub async fn lock(conn: &mut PgConnection, org_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT true AS "locked!" FROM pg_advisory_xact_lock(1263423, hashtext($1::text))"#,
        org_id.to_string()
    )
    .fetch_one(conn)
    .await
    .map(|_| ())
}

/// The org's levels in `statuses` (all when empty): published by rank, then drafts, then
/// archived ones, each oldest first.
pub async fn list(conn: &mut PgConnection, org_id: Uuid, statuses: &[LevelStatus]) -> Result<Vec<Level>, sqlx::Error> {
    let statuses: Vec<String> = statuses.iter().map(|s| s.as_str().to_owned()).collect();
    let rows = sqlx::query_as!(
        Row,
        r#"SELECT id, org_id, name, description, guideline, color, status, rank, created_at, updated_at
           FROM classification_levels
           WHERE org_id = $1 AND (cardinality($2::text[]) = 0 OR status = ANY($2))
           ORDER BY CASE status WHEN 'published' THEN 0 WHEN 'draft' THEN 1 ELSE 2 END,
                    rank, created_at, id"#,
        org_id,
        &statuses
    )
    .fetch_all(conn)
    .await?;
    levels(rows)
}

pub async fn get(conn: &mut PgConnection, org_id: Uuid, id: Uuid) -> Result<Option<Level>, sqlx::Error> {
    sqlx::query_as!(
        Row,
        "SELECT id, org_id, name, description, guideline, color, status, rank, created_at, updated_at
         FROM classification_levels WHERE org_id = $1 AND id = $2",
        org_id,
        id
    )
    .fetch_optional(conn)
    .await?
    .map(Level::try_from)
    .transpose()
}

/// The org's levels among `ids`, in no particular order (ids of other orgs are not found).
pub async fn get_many(conn: &mut PgConnection, org_id: Uuid, ids: &[Uuid]) -> Result<Vec<Level>, sqlx::Error> {
    let rows = sqlx::query_as!(
        Row,
        "SELECT id, org_id, name, description, guideline, color, status, rank, created_at, updated_at
         FROM classification_levels WHERE org_id = $1 AND id = ANY($2)",
        org_id,
        ids
    )
    .fetch_all(conn)
    .await?;
    levels(rows)
}

/// The ids of the org's published levels, most sensitive first.
pub async fn published_ids(conn: &mut PgConnection, org_id: Uuid) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT id FROM classification_levels WHERE org_id = $1 AND status = 'published' ORDER BY rank",
        org_id
    )
    .fetch_all(conn)
    .await
}

/// A new draft.
pub async fn insert(conn: &mut PgConnection, org_id: Uuid, fields: &LevelFields) -> Result<Level, sqlx::Error> {
    sqlx::query_as!(
        Row,
        "INSERT INTO classification_levels (id, org_id, name, description, guideline, color)
         VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING id, org_id, name, description, guideline, color, status, rank, created_at, updated_at",
        Uuid::new_v4(),
        org_id,
        fields.name.as_str(),
        fields.description.as_deref(),
        fields.guideline.as_deref(),
        fields.color.as_str()
    )
    .fetch_one(conn)
    .await?
    .try_into()
}

/// Writes a level's editable fields.
pub async fn update(
    conn: &mut PgConnection,
    org_id: Uuid,
    id: Uuid,
    fields: &LevelFields,
) -> Result<Level, sqlx::Error> {
    sqlx::query_as!(
        Row,
        "UPDATE classification_levels
         SET name = $3, description = $4, guideline = $5, color = $6, updated_at = statement_timestamp()
         WHERE org_id = $1 AND id = $2
         RETURNING id, org_id, name, description, guideline, color, status, rank, created_at, updated_at",
        org_id,
        id,
        fields.name.as_str(),
        fields.description.as_deref(),
        fields.guideline.as_deref(),
        fields.color.as_str()
    )
    .fetch_one(conn)
    .await?
    .try_into()
}

/// Publishes `ids`, ranked after the org's published levels in the order given.
pub async fn publish(conn: &mut PgConnection, org_id: Uuid, ids: &[Uuid]) -> Result<Vec<Level>, sqlx::Error> {
    let rows = sqlx::query_as!(
        Row,
        r#"WITH base AS (
               SELECT coalesce(max(rank), 0) AS top FROM classification_levels
               WHERE org_id = $1 AND status = 'published'
           )
           UPDATE classification_levels c
           SET status = 'published', rank = (SELECT top FROM base) + asked.ord::int,
               updated_at = statement_timestamp()
           FROM unnest($2::uuid[]) WITH ORDINALITY AS asked(id, ord)
           WHERE c.org_id = $1 AND c.id = asked.id
           RETURNING c.id, c.org_id, c.name, c.description, c.guideline, c.color, c.status, c.rank,
                     c.created_at, c.updated_at"#,
        org_id,
        ids
    )
    .fetch_all(conn)
    .await?;
    levels(rows)
}

/// Sets a level's status, dropping its rank (archive, restore).
pub async fn set_unranked_status(
    conn: &mut PgConnection,
    org_id: Uuid,
    id: Uuid,
    status: LevelStatus,
) -> Result<Level, sqlx::Error> {
    sqlx::query_as!(
        Row,
        "UPDATE classification_levels SET status = $3, rank = NULL, updated_at = statement_timestamp()
         WHERE org_id = $1 AND id = $2
         RETURNING id, org_id, name, description, guideline, color, status, rank, created_at, updated_at",
        org_id,
        id,
        status.as_str()
    )
    .fetch_one(conn)
    .await?
    .try_into()
}

/// Ranks the org's published levels 1..n in the order of `ids` (which names each of them once),
/// in one statement (the rank constraint is checked at its end).
pub async fn rank_in_order(conn: &mut PgConnection, org_id: Uuid, ids: &[Uuid]) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE classification_levels c
         SET rank = asked.ord::int, updated_at = statement_timestamp()
         FROM unnest($2::uuid[]) WITH ORDINALITY AS asked(id, ord)
         WHERE c.org_id = $1 AND c.id = asked.id AND c.status = 'published' AND c.rank IS DISTINCT FROM asked.ord::int",
        org_id,
        ids
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}
