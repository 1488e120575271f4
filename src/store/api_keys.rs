//! Admin API keys: creation, listing, revocation and the reads the key middleware needs.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use sqlx::types::ipnet::IpNet;
use uuid::Uuid;

use crate::domain::actor::{Actor, ActorKind};
use crate::domain::api_key::ApiKey;
use crate::domain::api_key::{Expiry, KeyName, KeyStatus};
use crate::domain::token::PublicId;
use crate::domain::{KeyScopes, Scope};

/// What the key middleware needs to verify a presented token. Not `Debug`: it holds the hash.
#[derive(Clone)]
pub struct VerificationRow {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub org_id: Uuid,
    pub scoped: bool,
    pub scopes: Vec<Scope>,
    pub responsible_user_id: Option<Uuid>,
    pub secret_hash: String,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A key about to be inserted; the secret is already hashed.
pub struct NewApiKey<'a> {
    pub org_id: Uuid,
    pub public_id: &'a PublicId,
    pub name: &'a KeyName,
    pub scopes: &'a KeyScopes,
    pub secret_hash: &'a str,
    pub created_by: Actor,
    pub responsible_user_id: Option<Uuid>,
    /// Turned into `expires_at` by the database, against its own clock.
    pub expiry: Expiry,
}

/// What the database decided for a key it inserted.
#[derive(Debug, Clone, Copy)]
pub struct InsertedKey {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

fn parse_scopes(names: Vec<String>) -> Vec<Scope> {
    // The foreign key to the catalog and the catalog test keep every stored name parseable.
    names.iter().filter_map(|name| name.parse().ok()).collect()
}

/// Inserts the key and its scopes. Run it in the transaction that also records the audit event.
/// `created_at` is the insert statement's time (a trigger forces it whatever is sent) and the
/// expiry is computed from it in SQL, so the CHECK of the expiry window holds against the
/// database clock; a refusal is the `api_keys_expiry_window` violation.
pub async fn insert(conn: &mut PgConnection, key: &NewApiKey<'_>) -> Result<InsertedKey, sqlx::Error> {
    let id = Uuid::new_v4();
    let (in_days, at) = match key.expiry {
        Expiry::InDays(days) => (Some(i32::from(days)), None),
        Expiry::At(at) => (None, Some(at)),
    };
    let inserted = sqlx::query!(
        r#"INSERT INTO api_keys (id, org_id, public_id, name, scoped, secret_hash, created_by_kind, created_by_id,
                                responsible_user_id, created_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, statement_timestamp(),
                   COALESCE(statement_timestamp() + make_interval(days => $10::int4), $11::timestamptz))
           RETURNING created_at, expires_at"#,
        id,
        key.org_id,
        key.public_id.as_str(),
        key.name.as_str(),
        key.scopes.listed().is_some(),
        key.secret_hash,
        key.created_by.kind() as ActorKind,
        key.created_by.id(),
        key.responsible_user_id,
        in_days,
        at
    )
    .fetch_one(&mut *conn)
    .await?;
    if let Some(scopes) = key.scopes.listed() {
        let names: Vec<String> = scopes.iter().map(|s| s.name().to_owned()).collect();
        sqlx::query!(
            "INSERT INTO api_key_scopes (key_id, scope) SELECT $1, unnest($2::text[])",
            id,
            &names
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(InsertedKey {
        id,
        created_at: inserted.created_at,
        expires_at: inserted.expires_at,
    })
}

/// The row behind a public id, for verifying a presented secret.
pub async fn for_verification(
    conn: &mut PgConnection,
    public_id: &PublicId,
) -> Result<Option<VerificationRow>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT k.id, k.name, k.created_at, k.org_id, k.scoped, k.secret_hash, k.expires_at, k.revoked_at, k.responsible_user_id,
                  ARRAY(SELECT s.scope FROM api_key_scopes s WHERE s.key_id = k.id ORDER BY s.scope) AS "scopes!"
           FROM api_keys k WHERE k.public_id = $1"#,
        public_id.as_str()
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| VerificationRow {
        id: r.id,
        name: r.name,
        created_at: r.created_at,
        org_id: r.org_id,
        scoped: r.scoped,
        scopes: parse_scopes(r.scopes),
        responsible_user_id: r.responsible_user_id,
        secret_hash: r.secret_hash,
        expires_at: r.expires_at,
        revoked_at: r.revoked_at,
    }))
}

/// The expiry of `key_id` when it is neither revoked nor expired by the database's clock, with
/// the row locked against revocation until the transaction ends (`FOR SHARE` conflicts with
/// the revoking UPDATE): a key creating another holds this while the new key is inserted, so a
/// revocation cannot slip between the check and the insert.
pub async fn lock_active(conn: &mut PgConnection, key_id: Uuid) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT expires_at FROM api_keys
         WHERE id = $1 AND revoked_at IS NULL AND expires_at > statement_timestamp()
         FOR SHARE",
        key_id
    )
    .fetch_optional(conn)
    .await
}

/// The person a key of the org answers for (`Some(None)` for a key nobody answers for, such as
/// one the command line made without `--created-by`); `None` when the org has no such key. Read
/// without a lock: it never changes after insert.
pub async fn responsible_user(
    conn: &mut PgConnection,
    org_id: Uuid,
    key_id: Uuid,
) -> Result<Option<Option<Uuid>>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT responsible_user_id FROM api_keys WHERE id = $1 AND org_id = $2",
        key_id,
        org_id
    )
    .fetch_optional(conn)
    .await
}

/// Every active key, in every org, that `user_id` is answerable for, revoked (disabling an
/// account). Returns each key's org, id and public id.
pub async fn revoke_all_by_responsible(
    conn: &mut PgConnection,
    user_id: Uuid,
    by: Actor,
) -> Result<Vec<(Uuid, Uuid, String)>, sqlx::Error> {
    sqlx::query!("SET LOCAL statement_timeout = '5s'")
        .execute(&mut *conn)
        .await?;
    let rows = sqlx::query!(
        "UPDATE api_keys SET revoked_at = statement_timestamp(), revoked_by_kind = $2, revoked_by_id = $3
         WHERE responsible_user_id = $1 AND revoked_at IS NULL
         RETURNING org_id, id, public_id",
        user_id,
        by.kind() as ActorKind,
        by.id()
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.org_id, r.id, r.public_id)).collect())
}

/// Whether the key is revoked, read by primary key (the middleware's per-request check while
/// its revocation listener is not healthy). `None` when no such key exists.
pub async fn is_revoked(conn: &mut PgConnection, key_id: Uuid) -> Result<Option<bool>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT revoked_at IS NOT NULL AS "revoked!" FROM api_keys WHERE id = $1"#,
        key_id
    )
    .fetch_optional(conn)
    .await
}

/// Which of these public ids are revoked (catching up after the listener reconnects).
pub async fn revoked_among(conn: &mut PgConnection, public_ids: &[String]) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT public_id FROM api_keys WHERE public_id = ANY($1) AND revoked_at IS NOT NULL",
        public_ids
    )
    .fetch_all(conn)
    .await
}

/// What a revocation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revocation {
    /// The key was active (or expired) and is revoked now.
    Revoked { public_id: String },
    /// It was revoked before: nothing changed.
    AlreadyRevoked,
    /// No such key in this org.
    NotFound,
}

/// Revokes one key of the org: a single statement guarded by `revoked_at IS NULL`, under a
/// statement timeout. Run it in the transaction that records the audit event; the trigger's
/// NOTIFY goes out when that transaction commits.
pub async fn revoke(conn: &mut PgConnection, org_id: Uuid, key_id: Uuid, by: Actor) -> Result<Revocation, sqlx::Error> {
    sqlx::query!("SET LOCAL statement_timeout = '5s'")
        .execute(&mut *conn)
        .await?;
    let revoked = sqlx::query_scalar!(
        "UPDATE api_keys SET revoked_at = statement_timestamp(), revoked_by_kind = $3, revoked_by_id = $4
         WHERE id = $1 AND org_id = $2 AND revoked_at IS NULL
         RETURNING public_id",
        key_id,
        org_id,
        by.kind() as ActorKind,
        by.id()
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(public_id) = revoked {
        return Ok(Revocation::Revoked { public_id });
    }
    let exists = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM api_keys WHERE id = $1 AND org_id = $2) AS "exists!""#,
        key_id,
        org_id
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(if exists {
        Revocation::AlreadyRevoked
    } else {
        Revocation::NotFound
    })
}

/// Revokes every active key of the org that `user_id` is answerable for (offboarding).
/// Returns the public ids and key ids it revoked.
pub async fn revoke_by_responsible(
    conn: &mut PgConnection,
    org_id: Uuid,
    user_id: Uuid,
    by: Actor,
) -> Result<Vec<(Uuid, String)>, sqlx::Error> {
    sqlx::query!("SET LOCAL statement_timeout = '5s'")
        .execute(&mut *conn)
        .await?;
    let rows = sqlx::query!(
        "UPDATE api_keys SET revoked_at = statement_timestamp(), revoked_by_kind = $3, revoked_by_id = $4
         WHERE org_id = $1 AND responsible_user_id = $2 AND revoked_at IS NULL
         RETURNING id, public_id",
        org_id,
        user_id,
        by.kind() as ActorKind,
        by.id()
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.public_id)).collect())
}

/// The org's key with this id.
pub async fn get(conn: &mut PgConnection, org_id: Uuid, id: Uuid) -> Result<Option<ApiKey>, sqlx::Error> {
    let rows = list_where(conn, org_id, Some(id), None, None, 1).await?;
    Ok(rows.into_iter().next())
}

/// Finds a key of the org by its id or its public id.
pub async fn find(conn: &mut PgConnection, org_id: Uuid, id_or_public_id: &str) -> Result<Option<ApiKey>, sqlx::Error> {
    let by_id = id_or_public_id.parse::<Uuid>().ok();
    let rows = list_where(conn, org_id, by_id, Some(id_or_public_id), None, 1).await?;
    Ok(rows.into_iter().next())
}

/// Keyset cursor: the (created_at, id) of the last key on the previous page.
pub type KeyCursor = (DateTime<Utc>, Uuid);

/// One page of the org's keys, newest first.
pub async fn list(
    conn: &mut PgConnection,
    org_id: Uuid,
    after: Option<KeyCursor>,
    limit: i64,
) -> Result<Vec<ApiKey>, sqlx::Error> {
    list_where(conn, org_id, None, None, after, limit).await
}

async fn list_where(
    conn: &mut PgConnection,
    org_id: Uuid,
    id: Option<Uuid>,
    public_id: Option<&str>,
    after: Option<KeyCursor>,
    limit: i64,
) -> Result<Vec<ApiKey>, sqlx::Error> {
    let (after_created, after_id) = after.unzip();
    let rows = sqlx::query_as!(
        KeyRow,
        r#"SELECT k.id, k.org_id, k.public_id, k.name, k.scoped,
                  k.created_by_kind AS "created_by_kind: ActorKind", k.created_by_id, k.responsible_user_id,
                  k.created_at, k.expires_at, k.last_used_at, k.last_used_ip, k.revoked_at,
                  u.display_name AS "creator_name?", u.email AS "creator_email?",
                  ARRAY(SELECT s.scope FROM api_key_scopes s WHERE s.key_id = k.id ORDER BY s.scope) AS "scopes!"
           FROM api_keys k
           LEFT JOIN users u ON u.id = k.responsible_user_id
           WHERE k.org_id = $1
             AND ($2::uuid IS NULL AND $3::text IS NULL OR k.id = $2 OR k.public_id = $3)
             AND ($4::timestamptz IS NULL OR (k.created_at, k.id) < ($4, $5))
           ORDER BY k.created_at DESC, k.id DESC
           LIMIT $6"#,
        org_id,
        id,
        public_id,
        after_created,
        after_id,
        limit
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(ApiKey::from).collect())
}

/// A key's row as the list queries select it.
struct KeyRow {
    id: Uuid,
    org_id: Uuid,
    public_id: String,
    name: String,
    scoped: bool,
    created_by_kind: ActorKind,
    created_by_id: Option<Uuid>,
    responsible_user_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    last_used_ip: Option<IpNet>,
    revoked_at: Option<DateTime<Utc>>,
    creator_name: Option<String>,
    creator_email: Option<String>,
    scopes: Vec<String>,
}

impl From<KeyRow> for ApiKey {
    fn from(r: KeyRow) -> ApiKey {
        ApiKey {
            id: r.id,
            org_id: r.org_id,
            public_id: PublicId::from_database(r.public_id),
            name: r.name,
            scopes: KeyScopes::of_stored(r.scoped, parse_scopes(r.scopes)),
            created_by: Actor::from_parts(r.created_by_kind, r.created_by_id),
            responsible_user_id: r.responsible_user_id,
            created_at: r.created_at,
            expires_at: r.expires_at,
            last_used_at: r.last_used_at,
            last_used_ip: r.last_used_ip.map(|net| net.addr()),
            revoked_at: r.revoked_at,
            creator_name: r.creator_name,
            creator_email: r.creator_email,
        }
    }
}

/// Which of an org's keys a list or a count selects.
#[derive(Debug, Clone)]
pub struct KeyFilter {
    /// A case-insensitive substring of the name or the public id, taken literally (`%` and `_`
    /// match themselves).
    pub text: Option<String>,
    /// Keys whose status at `now` is one of these; empty selects every status.
    pub statuses: Vec<KeyStatus>,
    /// Keys expiring strictly after this time.
    pub expires_after: Option<DateTime<Utc>>,
    /// Keys expiring strictly before this time.
    pub expires_before: Option<DateTime<Utc>>,
    /// The time statuses are judged at, so that the filter agrees with the status shown.
    pub now: DateTime<Utc>,
}

impl KeyFilter {
    /// Every key of the org, judged at `now`.
    pub fn everything(now: DateTime<Utc>) -> KeyFilter {
        KeyFilter {
            text: None,
            statuses: Vec::new(),
            expires_after: None,
            expires_before: None,
            now,
        }
    }

    /// The ILIKE pattern of `text`, its wildcards and the escape character escaped.
    fn pattern(&self) -> Option<String> {
        self.text.as_deref().map(|text| {
            let mut pattern = String::with_capacity(text.len() + 2);
            pattern.push('%');
            for c in text.chars() {
                if matches!(c, '\\' | '%' | '_') {
                    pattern.push('\\');
                }
                pattern.push(c);
            }
            pattern.push('%');
            pattern
        })
    }

    fn status_names(&self) -> Vec<String> {
        self.statuses.iter().map(|s| s.as_str().to_owned()).collect()
    }
}

/// One page of the org's keys that `filter` selects, newest first, after the keyset `after`.
pub async fn search(
    conn: &mut PgConnection,
    org_id: Uuid,
    filter: &KeyFilter,
    after: Option<KeyCursor>,
    limit: i64,
) -> Result<Vec<ApiKey>, sqlx::Error> {
    let (after_created, after_id) = after.unzip();
    // The status expression is KeyStatus::at in SQL: revoked first, then expired at `now`.
    let rows = sqlx::query_as!(
        KeyRow,
        r#"SELECT k.id, k.org_id, k.public_id, k.name, k.scoped,
                  k.created_by_kind AS "created_by_kind: ActorKind", k.created_by_id, k.responsible_user_id,
                  k.created_at, k.expires_at, k.last_used_at, k.last_used_ip, k.revoked_at,
                  u.display_name AS "creator_name?", u.email AS "creator_email?",
                  ARRAY(SELECT s.scope FROM api_key_scopes s WHERE s.key_id = k.id ORDER BY s.scope) AS "scopes!"
           FROM api_keys k
           LEFT JOIN users u ON u.id = k.responsible_user_id
           WHERE k.org_id = $1
             AND ($2::text IS NULL OR k.name ILIKE $2 ESCAPE '\' OR k.public_id ILIKE $2 ESCAPE '\')
             AND (cardinality($3::text[]) = 0
                  OR CASE WHEN k.revoked_at IS NOT NULL THEN 'revoked'
                          WHEN k.expires_at <= $4 THEN 'expired'
                          ELSE 'active' END = ANY($3))
             AND ($5::timestamptz IS NULL OR k.expires_at > $5)
             AND ($6::timestamptz IS NULL OR k.expires_at < $6)
             AND ($7::timestamptz IS NULL OR (k.created_at, k.id) < ($7, $8))
           ORDER BY k.created_at DESC, k.id DESC
           LIMIT $9"#,
        org_id,
        filter.pattern(),
        &filter.status_names(),
        filter.now,
        filter.expires_after,
        filter.expires_before,
        after_created,
        after_id,
        limit
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(ApiKey::from).collect())
}

/// How many of the org's keys `filter` selects.
pub async fn count(conn: &mut PgConnection, org_id: Uuid, filter: &KeyFilter) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!"
           FROM api_keys k
           WHERE k.org_id = $1
             AND ($2::text IS NULL OR k.name ILIKE $2 ESCAPE '\' OR k.public_id ILIKE $2 ESCAPE '\')
             AND (cardinality($3::text[]) = 0
                  OR CASE WHEN k.revoked_at IS NOT NULL THEN 'revoked'
                          WHEN k.expires_at <= $4 THEN 'expired'
                          ELSE 'active' END = ANY($3))
             AND ($5::timestamptz IS NULL OR k.expires_at > $5)
             AND ($6::timestamptz IS NULL OR k.expires_at < $6)"#,
        org_id,
        filter.pattern(),
        &filter.status_names(),
        filter.now,
        filter.expires_after,
        filter.expires_before
    )
    .fetch_one(conn)
    .await
}

/// Records when and from where a key was last used (written at most about once a minute per key).
pub async fn record_last_use(
    conn: &mut PgConnection,
    key_id: Uuid,
    at: DateTime<Utc>,
    ip: IpAddr,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE api_keys SET last_used_at = $2, last_used_ip = $3
         WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)",
        key_id,
        at,
        IpNet::from(ip)
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Sends the instance's own heartbeat notice, which tells its revocation listener it still
/// hears the database.
pub async fn notify_heartbeat(pool: &sqlx::PgPool, channel: &str, payload: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("SELECT pg_notify($1, $2)", channel, payload)
        .execute(pool)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_filter_matches_its_wildcards_literally() {
        let filter = |text: &str| KeyFilter {
            text: Some(text.to_owned()),
            ..KeyFilter::everything(Utc::now())
        };
        assert_eq!(filter("deploy").pattern().as_deref(), Some("%deploy%"));
        assert_eq!(filter("100%_done").pattern().as_deref(), Some(r"%100\%\_done%"));
        assert_eq!(filter(r"a\b").pattern().as_deref(), Some(r"%a\\b%"));
        assert_eq!(KeyFilter::everything(Utc::now()).pattern(), None);
    }
}

/// How the console's keys list is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsoleSort {
    /// Newest first.
    Created,
    /// Soonest expiry first.
    Expires,
    /// Most recently used first, never-used keys last.
    LastUsed,
}

impl ConsoleSort {
    pub fn parse(input: &str) -> ConsoleSort {
        match input {
            "expires" => ConsoleSort::Expires,
            "last_used" => ConsoleSort::LastUsed,
            _ => ConsoleSort::Created,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ConsoleSort::Created => "created",
            ConsoleSort::Expires => "expires",
            ConsoleSort::LastUsed => "last_used",
        }
    }
}

/// A position in the console's keys list: the sort key of the last key shown (microseconds,
/// negated where the order is ascending, so every sort is descending) and its id.
pub type ConsoleCursor = (i64, Uuid);

/// One tab of the console's keys list.
#[derive(Debug, Clone)]
pub struct ConsoleQuery {
    pub scoped: bool,
    pub filter: KeyFilter,
    /// Keys this person answers for.
    pub creator: Option<Uuid>,
    pub sort: ConsoleSort,
    pub after: Option<ConsoleCursor>,
    pub limit: i64,
}

/// A page of the console's keys list, each key with its cursor.
pub async fn console_page(
    conn: &mut PgConnection,
    org_id: Uuid,
    query: &ConsoleQuery,
) -> Result<Vec<(ApiKey, ConsoleCursor)>, sqlx::Error> {
    let (after_key, after_id) = query.after.unzip();
    let filter = &query.filter;
    let rows = sqlx::query!(
        r#"WITH keyed AS (
               SELECT k.*, CASE $10::text
                   WHEN 'expires' THEN -(extract(epoch FROM k.expires_at) * 1000000)::bigint
                   WHEN 'last_used' THEN coalesce((extract(epoch FROM k.last_used_at) * 1000000)::bigint, -9223372036854775807)
                   ELSE (extract(epoch FROM k.created_at) * 1000000)::bigint END AS sort_key
               FROM api_keys k
               WHERE k.org_id = $1 AND k.scoped = $2
                 AND ($3::text IS NULL OR k.name ILIKE $3 ESCAPE '\' OR k.public_id ILIKE $3 ESCAPE '\')
                 AND (cardinality($4::text[]) = 0
                      OR CASE WHEN k.revoked_at IS NOT NULL THEN 'revoked'
                              WHEN k.expires_at <= $5 THEN 'expired'
                              ELSE 'active' END = ANY($4))
                 AND ($6::uuid IS NULL OR k.responsible_user_id = $6)
           )
           SELECT k.id, k.org_id, k.public_id, k.name, k.scoped,
                  k.created_by_kind AS "created_by_kind: ActorKind", k.created_by_id, k.responsible_user_id,
                  k.created_at, k.expires_at, k.last_used_at, k.last_used_ip, k.revoked_at,
                  u.display_name AS "creator_name?", u.email AS "creator_email?",
                  ARRAY(SELECT s.scope FROM api_key_scopes s WHERE s.key_id = k.id ORDER BY s.scope) AS "scopes!",
                  k.sort_key AS "sort_key!"
           FROM keyed k
           LEFT JOIN users u ON u.id = k.responsible_user_id
           WHERE $7::bigint IS NULL OR (k.sort_key, k.id) < ($7, $8)
           ORDER BY k.sort_key DESC, k.id DESC
           LIMIT $9"#,
        org_id,
        query.scoped,
        filter.pattern(),
        &filter.status_names(),
        filter.now,
        query.creator,
        after_key,
        after_id,
        query.limit,
        query.sort.name(),
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let cursor = (r.sort_key, r.id);
            let key = ApiKey::from(KeyRow {
                id: r.id,
                org_id: r.org_id,
                public_id: r.public_id,
                name: r.name,
                scoped: r.scoped,
                created_by_kind: r.created_by_kind,
                created_by_id: r.created_by_id,
                responsible_user_id: r.responsible_user_id,
                created_at: r.created_at,
                expires_at: r.expires_at,
                last_used_at: r.last_used_at,
                last_used_ip: r.last_used_ip,
                revoked_at: r.revoked_at,
                creator_name: r.creator_name,
                creator_email: r.creator_email,
                scopes: r.scopes,
            });
            (key, cursor)
        })
        .collect())
}

/// How many keys of each kind the org has under `filter` (scoped, unscoped).
pub async fn console_counts(
    conn: &mut PgConnection,
    org_id: Uuid,
    filter: &KeyFilter,
    creator: Option<Uuid>,
) -> Result<(i64, i64), sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT count(*) FILTER (WHERE k.scoped) AS "scoped!", count(*) FILTER (WHERE NOT k.scoped) AS "unscoped!"
           FROM api_keys k
           WHERE k.org_id = $1
             AND ($2::text IS NULL OR k.name ILIKE $2 ESCAPE '\' OR k.public_id ILIKE $2 ESCAPE '\')
             AND (cardinality($3::text[]) = 0
                  OR CASE WHEN k.revoked_at IS NOT NULL THEN 'revoked'
                          WHEN k.expires_at <= $4 THEN 'expired'
                          ELSE 'active' END = ANY($3))
             AND ($5::uuid IS NULL OR k.responsible_user_id = $5)"#,
        org_id,
        filter.pattern(),
        &filter.status_names(),
        filter.now,
        creator
    )
    .fetch_one(conn)
    .await?;
    Ok((row.scoped, row.unscoped))
}

/// The people who answer for keys of the org, by name, for the list's creator filter.
pub async fn creators(conn: &mut PgConnection, org_id: Uuid) -> Result<Vec<(Uuid, String)>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT u.id, u.display_name FROM users u
         WHERE u.id IN (SELECT DISTINCT responsible_user_id FROM api_keys WHERE org_id = $1)
         ORDER BY lower(u.display_name), u.id",
        org_id
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.display_name)).collect())
}

/// The org's active keys (unrevoked, unexpired) that `user_id` answers for, newest first: what
/// offboarding them would revoke.
pub async fn active_answered_for(
    conn: &mut PgConnection,
    org_id: Uuid,
    user_id: Uuid,
) -> Result<Vec<ApiKey>, sqlx::Error> {
    let ids = sqlx::query_scalar!(
        "SELECT id FROM api_keys
         WHERE org_id = $1 AND responsible_user_id = $2 AND revoked_at IS NULL AND expires_at > now()",
        org_id,
        user_id
    )
    .fetch_all(&mut *conn)
    .await?;
    by_ids(conn, org_id, &ids).await
}

/// The keys created through the API with the key `key_id`, newest first.
pub async fn created_with(conn: &mut PgConnection, org_id: Uuid, key_id: Uuid) -> Result<Vec<ApiKey>, sqlx::Error> {
    let ids = sqlx::query_scalar!(
        "SELECT id FROM api_keys WHERE org_id = $1 AND created_by_kind = 'key' AND created_by_id = $2",
        org_id,
        key_id
    )
    .fetch_all(&mut *conn)
    .await?;
    by_ids(conn, org_id, &ids).await
}

/// Every key made with the key `key_id`: created through the API with it, or with a key made
/// with it, and so on, newest first.
pub async fn descendants(conn: &mut PgConnection, org_id: Uuid, key_id: Uuid) -> Result<Vec<ApiKey>, sqlx::Error> {
    let ids = sqlx::query_scalar!(
        r#"WITH RECURSIVE made AS (
               SELECT id FROM api_keys WHERE org_id = $1 AND created_by_kind = 'key' AND created_by_id = $2
               UNION
               SELECT k.id FROM api_keys k JOIN made ON k.created_by_kind = 'key' AND k.created_by_id = made.id
               WHERE k.org_id = $1
           )
           SELECT id AS "id!" FROM made"#,
        org_id,
        key_id
    )
    .fetch_all(&mut *conn)
    .await?;
    by_ids(conn, org_id, &ids).await
}

/// Revokes every unrevoked key made with the key `key_id` (its `descendants`); returns their
/// ids and public ids.
pub async fn revoke_descendants(
    conn: &mut PgConnection,
    org_id: Uuid,
    key_id: Uuid,
    by: Actor,
) -> Result<Vec<(Uuid, String)>, sqlx::Error> {
    let rows = sqlx::query!(
        "WITH RECURSIVE made AS (
             SELECT id FROM api_keys WHERE org_id = $1 AND created_by_kind = 'key' AND created_by_id = $2
             UNION
             SELECT k.id FROM api_keys k JOIN made ON k.created_by_kind = 'key' AND k.created_by_id = made.id
             WHERE k.org_id = $1
         )
         UPDATE api_keys SET revoked_at = statement_timestamp(), revoked_by_kind = $3, revoked_by_id = $4
         WHERE org_id = $1 AND id IN (SELECT id FROM made) AND revoked_at IS NULL
         RETURNING id, public_id",
        org_id,
        key_id,
        by.kind() as ActorKind,
        by.id()
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.public_id)).collect())
}

/// The org's keys with these ids, newest first: the one select of a whole key the pages that
/// list a chosen set of keys share (a person's, a key's descendants, what was just revoked).
pub async fn by_ids(conn: &mut PgConnection, org_id: Uuid, ids: &[Uuid]) -> Result<Vec<ApiKey>, sqlx::Error> {
    let rows = sqlx::query_as!(
        KeyRow,
        r#"SELECT k.id, k.org_id, k.public_id, k.name, k.scoped,
                  k.created_by_kind AS "created_by_kind: ActorKind", k.created_by_id, k.responsible_user_id,
                  k.created_at, k.expires_at, k.last_used_at, k.last_used_ip, k.revoked_at,
                  u.display_name AS "creator_name?", u.email AS "creator_email?",
                  ARRAY(SELECT s.scope FROM api_key_scopes s WHERE s.key_id = k.id ORDER BY s.scope) AS "scopes!"
           FROM api_keys k
           LEFT JOIN users u ON u.id = k.responsible_user_id
           WHERE k.org_id = $1 AND k.id = ANY($2)
           ORDER BY k.created_at DESC, k.id DESC"#,
        org_id,
        ids
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(ApiKey::from).collect())
}
