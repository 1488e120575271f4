//! Domains an organization claims.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::DomainName;
use crate::domain::domain_name::{ClaimType, DomainStatus};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub claim: ClaimType,
    pub status: DomainStatus,
    pub created_at: DateTime<Utc>,
    pub verified_at: Option<DateTime<Utc>>,
}

/// The name of the constraint a second claim of one name by one org breaks.
pub const NAME_TAKEN: &str = "domains_org_name_unique";
/// The name of the index a second org's verification of a name breaks.
pub const VERIFIED_ELSEWHERE: &str = "domains_verified_once";

struct Row {
    id: Uuid,
    org_id: Uuid,
    name: String,
    claim_type: String,
    status: String,
    created_at: DateTime<Utc>,
    verified_at: Option<DateTime<Utc>>,
}

impl TryFrom<Row> for Domain {
    type Error = sqlx::Error;

    fn try_from(row: Row) -> Result<Domain, sqlx::Error> {
        let unknown = |what: &str, value: &str| sqlx::Error::Decode(format!("unknown domain {what} {value:?}").into());
        Ok(Domain {
            claim: ClaimType::parse(&row.claim_type).ok_or_else(|| unknown("claim type", &row.claim_type))?,
            status: DomainStatus::parse(&row.status).ok_or_else(|| unknown("status", &row.status))?,
            id: row.id,
            org_id: row.org_id,
            name: row.name,
            created_at: row.created_at,
            verified_at: row.verified_at,
        })
    }
}

fn domains(rows: Vec<Row>) -> Result<Vec<Domain>, sqlx::Error> {
    rows.into_iter().map(Domain::try_from).collect()
}

pub async fn insert(
    conn: &mut PgConnection,
    org_id: Uuid,
    name: &DomainName,
    claim: ClaimType,
) -> Result<Domain, sqlx::Error> {
    sqlx::query_as!(
        Row,
        "INSERT INTO domains (id, org_id, name, claim_type) VALUES ($1, $2, $3, $4)
         RETURNING id, org_id, name, claim_type, status, created_at, verified_at",
        Uuid::new_v4(),
        org_id,
        name.as_str(),
        claim.as_str()
    )
    .fetch_one(conn)
    .await?
    .try_into()
}

pub async fn find_by_name(
    conn: &mut PgConnection,
    org_id: Uuid,
    name: &DomainName,
) -> Result<Option<Domain>, sqlx::Error> {
    sqlx::query_as!(
        Row,
        "SELECT id, org_id, name, claim_type, status, created_at, verified_at
         FROM domains WHERE org_id = $1 AND name = $2",
        org_id,
        name.as_str()
    )
    .fetch_optional(conn)
    .await?
    .map(Domain::try_from)
    .transpose()
}

pub async fn get(conn: &mut PgConnection, org_id: Uuid, id: Uuid) -> Result<Option<Domain>, sqlx::Error> {
    sqlx::query_as!(
        Row,
        "SELECT id, org_id, name, claim_type, status, created_at, verified_at
         FROM domains WHERE org_id = $1 AND id = $2",
        org_id,
        id
    )
    .fetch_optional(conn)
    .await?
    .map(Domain::try_from)
    .transpose()
}

/// Up to `limit` of the org's domains after the keyset `after`, oldest claim first.
pub async fn page(
    conn: &mut PgConnection,
    org_id: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<Domain>, sqlx::Error> {
    let (after_at, after_id) = after.unzip();
    let rows = sqlx::query_as!(
        Row,
        r#"SELECT id, org_id, name, claim_type, status, created_at, verified_at
           FROM domains
           WHERE org_id = $1
             AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3::uuid))
           ORDER BY created_at, id
           LIMIT $4"#,
        org_id,
        after_at,
        after_id,
        limit
    )
    .fetch_all(conn)
    .await?;
    domains(rows)
}

/// Marks the domain verified now; `None` when it was verified already (nothing changes).
pub async fn verify(conn: &mut PgConnection, org_id: Uuid, id: Uuid) -> Result<Option<Domain>, sqlx::Error> {
    sqlx::query_as!(
        Row,
        "UPDATE domains SET status = 'verified', verified_at = statement_timestamp()
         WHERE org_id = $1 AND id = $2 AND status = 'unverified'
         RETURNING id, org_id, name, claim_type, status, created_at, verified_at",
        org_id,
        id
    )
    .fetch_optional(conn)
    .await?
    .map(Domain::try_from)
    .transpose()
}

/// Removes the claim; false when there was none.
pub async fn remove(conn: &mut PgConnection, org_id: Uuid, id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!("DELETE FROM domains WHERE org_id = $1 AND id = $2", org_id, id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The org that manages the accounts of `domain` (a normalised email's domain): the one that
/// has it verified, if any. Every claim of the name is locked (`FOR SHARE`) until the
/// transaction ends, so a verification or removal of it in flight is waited for and seen, and
/// one that starts later waits for this account's row to commit: no account is written with a
/// manager its domain no longer has. Ask it first in a transaction, before any `users` row is
/// locked: verification locks the claim, then the domain's accounts, and so must everyone.
pub async fn manager_of(conn: &mut PgConnection, domain: &str) -> Result<Option<Uuid>, sqlx::Error> {
    let claims = sqlx::query!(
        "SELECT org_id, status FROM domains WHERE name = $1 ORDER BY id FOR SHARE",
        domain
    )
    .fetch_all(conn)
    .await?;
    Ok(claims
        .into_iter()
        .find(|claim| claim.status == DomainStatus::Verified.as_str())
        .map(|claim| claim.org_id))
}
