//! Invitations to join an org. Only a SHA-256 of each link's token is stored; a link is valid
//! `LIFETIME_DAYS` from when it was last issued and works once. At most one invitation per org
//! and address is pending (`invitations_pending_once`): inviting again issues it again.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::Email;
use crate::domain::actor::Actor;
use crate::domain::member::Role;

/// How long an invitation's link stays usable.
pub const LIFETIME_DAYS: i32 = 7;

/// Where an invitation stands. `Expired` is a pending invitation past its expiry: it is never
/// written, only read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Pending,
    Expired,
    Accepted,
    Revoked,
}

/// An invitation as its pages show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: Uuid,
    pub org_id: Uuid,
    pub org_name: String,
    pub email: String,
    pub email_normalized: String,
    pub role: Role,
    /// The admin who answers for it, and the key that sent it through the API.
    pub invited_by: Option<Uuid>,
    pub invited_by_name: Option<String>,
    pub invited_by_key: Option<Uuid>,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub state: State,
}

impl Invitation {
    /// Who sent it, as the standing rules name actors: the inviting key when it came through
    /// the API, else the admin.
    pub fn inviter(&self) -> Actor {
        match (self.invited_by_key, self.invited_by) {
            (Some(key), _) => Actor::Key(key),
            (None, Some(user)) => Actor::User(user),
            (None, None) => Actor::System,
        }
    }
}

struct Row {
    id: Uuid,
    org_id: Uuid,
    org_name: String,
    email: String,
    email_normalized: String,
    role: Role,
    invited_by: Option<Uuid>,
    invited_by_name: Option<String>,
    invited_by_key: Option<Uuid>,
    issued_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    state: String,
    expired: bool,
}

impl TryFrom<Row> for Invitation {
    type Error = sqlx::Error;

    fn try_from(row: Row) -> Result<Invitation, sqlx::Error> {
        let state = match (row.state.as_str(), row.expired) {
            ("pending", false) => State::Pending,
            ("pending", true) => State::Expired,
            ("accepted", _) => State::Accepted,
            ("revoked", _) => State::Revoked,
            (other, _) => {
                return Err(sqlx::Error::Decode(
                    format!("unknown invitation state {other:?}").into(),
                ));
            }
        };
        Ok(Invitation {
            id: row.id,
            org_id: row.org_id,
            org_name: row.org_name,
            email: row.email,
            email_normalized: row.email_normalized,
            role: row.role,
            invited_by: row.invited_by,
            invited_by_name: row.invited_by_name,
            invited_by_key: row.invited_by_key,
            issued_at: row.issued_at,
            expires_at: row.expires_at,
            state,
        })
    }
}

/// Who sends an invitation: the admin who answers for it, and the key that sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inviter {
    pub user: Option<Uuid>,
    pub key: Option<Uuid>,
}

/// A freshly issued invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Issued {
    pub id: Uuid,
    pub expires_at: DateTime<Utc>,
    /// False when a pending invitation of the address was issued again.
    pub created: bool,
}

/// Invites `email` to the org in `role`, or, when the address has a pending invitation
/// already, issues that one again: the new role, inviter and token, a new expiry.
pub async fn issue(
    conn: &mut PgConnection,
    org_id: Uuid,
    email: &Email,
    role: Role,
    inviter: Inviter,
    token_hash: &[u8],
) -> Result<Issued, sqlx::Error> {
    let id = Uuid::new_v4();
    let row = sqlx::query!(
        r#"INSERT INTO invitations (id, org_id, email, role, invited_by, invited_by_key, token_hash, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, statement_timestamp() + make_interval(days => $8))
           ON CONFLICT (org_id, email_normalized) WHERE state = 'pending' DO UPDATE
               SET email = EXCLUDED.email, role = EXCLUDED.role, invited_by = EXCLUDED.invited_by,
                   invited_by_key = EXCLUDED.invited_by_key, token_hash = EXCLUDED.token_hash,
                   issued_at = EXCLUDED.issued_at, expires_at = EXCLUDED.expires_at
           RETURNING id, expires_at"#,
        id,
        org_id,
        email.as_str(),
        role as Role,
        inviter.user,
        inviter.key,
        token_hash,
        LIFETIME_DAYS
    )
    .fetch_one(conn)
    .await?;
    Ok(Issued {
        id: row.id,
        expires_at: row.expires_at,
        created: row.id == id,
    })
}

/// A new link for the org's pending invitation `id` (expired or not), sent by `inviter`; None
/// when the org has no such pending invitation.
pub async fn reissue(
    conn: &mut PgConnection,
    org_id: Uuid,
    id: Uuid,
    inviter: Inviter,
    token_hash: &[u8],
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar!(
        "UPDATE invitations
         SET invited_by = $3, invited_by_key = $4, token_hash = $5, issued_at = statement_timestamp(),
             expires_at = statement_timestamp() + make_interval(days => $6)
         WHERE org_id = $1 AND id = $2 AND state = 'pending'
         RETURNING expires_at",
        org_id,
        id,
        inviter.user,
        inviter.key,
        token_hash,
        LIFETIME_DAYS
    )
    .fetch_optional(conn)
    .await
}

/// Revokes the org's pending invitation `id`; false when it has no such pending invitation.
pub async fn revoke(conn: &mut PgConnection, org_id: Uuid, id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE invitations SET state = 'revoked', ended_at = statement_timestamp()
         WHERE org_id = $1 AND id = $2 AND state = 'pending'",
        org_id,
        id
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks the invitation accepted by `user_id`, if it is still pending, unexpired and its link
/// is still `token_hash` (not issued again meanwhile). Of two acceptances at once, the second
/// waits for the first and then finds it spent: a link works once.
pub async fn accept(conn: &mut PgConnection, id: Uuid, token_hash: &[u8], user_id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE invitations SET state = 'accepted', accepted_by = $3, ended_at = statement_timestamp()
         WHERE id = $1 AND token_hash = $2 AND state = 'pending' AND expires_at > statement_timestamp()",
        id,
        token_hash,
        user_id
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The invitation whose link has this token hash, whatever its state (read without a lock:
/// `accept` is what spends it, once).
pub async fn by_token(conn: &mut PgConnection, token_hash: &[u8]) -> Result<Option<Invitation>, sqlx::Error> {
    sqlx::query_as!(
        Row,
        r#"SELECT i.id, i.org_id, o.name AS org_name, i.email, i.email_normalized, i.role AS "role: Role",
                  i.invited_by, u.display_name AS "invited_by_name?", i.invited_by_key, i.issued_at,
                  i.expires_at, i.state, i.expires_at <= statement_timestamp() AS "expired!"
           FROM invitations i JOIN orgs o ON o.id = i.org_id LEFT JOIN users u ON u.id = i.invited_by
           WHERE i.token_hash = $1"#,
        token_hash
    )
    .fetch_optional(conn)
    .await?
    .map(Invitation::try_from)
    .transpose()
}

/// Revokes the pending invitations `user_id` answers for in org `org_id` (every org when
/// None): they were suspended, demoted, removed or disabled, and an invitation never outlives
/// its sender's standing, even if that standing comes back. Returns each one's org, id and email.
pub async fn withdraw_sent_by(
    conn: &mut PgConnection,
    org_id: Option<Uuid>,
    user_id: Uuid,
) -> Result<Vec<(Uuid, Uuid, String)>, sqlx::Error> {
    let rows = sqlx::query!(
        "UPDATE invitations SET state = 'revoked', ended_at = statement_timestamp()
         WHERE ($1::uuid IS NULL OR org_id = $1) AND invited_by = $2 AND state = 'pending'
         RETURNING org_id, id, email",
        org_id,
        user_id
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.org_id, r.id, r.email)).collect())
}

/// The org's pending invitations (expired ones too, until they are issued again or revoked),
/// newest first, at most `limit`; only invitation `only` when it is given.
pub async fn pending(
    conn: &mut PgConnection,
    org_id: Uuid,
    only: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Invitation>, sqlx::Error> {
    let rows = sqlx::query_as!(
        Row,
        r#"SELECT i.id, i.org_id, o.name AS org_name, i.email, i.email_normalized, i.role AS "role: Role",
                  i.invited_by, u.display_name AS "invited_by_name?", i.invited_by_key, i.issued_at,
                  i.expires_at, i.state, i.expires_at <= statement_timestamp() AS "expired!"
           FROM invitations i JOIN orgs o ON o.id = i.org_id LEFT JOIN users u ON u.id = i.invited_by
           WHERE i.org_id = $1 AND i.state = 'pending' AND ($2::uuid IS NULL OR i.id = $2)
           ORDER BY i.issued_at DESC, i.id
           LIMIT $3"#,
        org_id,
        only,
        limit
    )
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(Invitation::try_from).collect()
}

/// True when the address (under the email rule) belongs to a member of the org.
pub async fn is_member(conn: &mut PgConnection, org_id: Uuid, email: &Email) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (
               SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id
               WHERE m.org_id = $1 AND u.email_normalized = $2
           ) AS "exists!""#,
        org_id,
        email.normalized()
    )
    .fetch_one(conn)
    .await
}
