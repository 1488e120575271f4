//! Who belongs to which organization: the org's user list and search, suspension, removal,
//! and the admin memberships the last-admin rule locks.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::member::{Member, Role, UserStatus};

/// Keyset position in an org's user list: the (joined_at, user id) of the last member shown.
pub type MemberCursor = (DateTime<Utc>, Uuid);

/// The search filters of the users search endpoints; `None` means "any".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberFilter {
    pub user_ids: Option<Vec<Uuid>>,
    /// Account statuses as the database spells them.
    pub statuses: Option<Vec<UserStatus>>,
    /// Case-insensitive substrings of the name or nickname; any one matches.
    pub names: Option<Vec<String>>,
    /// Email local parts (before the `@`), case-insensitive; any one matches.
    pub email_usernames: Option<Vec<String>>,
    /// Email domains (after the `@`), case-insensitive; any one matches.
    pub email_domains: Option<Vec<String>>,
    pub suspended: Option<bool>,
    /// Case-insensitive substrings of the name, nickname or email; any one matches.
    pub terms: Option<Vec<String>>,
    /// Whole email addresses, case-insensitive; any one matches.
    pub emails: Option<Vec<String>>,
    /// True for accounts this org manages (`managed_by_org`), false for the others.
    pub managed: Option<bool>,
}

/// A page of the org's members, oldest membership first, after `after`, and how many members
/// the org has, in one statement (the users list is the API's most common read). The order is
/// total (ties on the timestamp are broken by user id), so a walk sees every member that
/// existed when it began exactly once; members added later appear at the end.
pub async fn list(
    conn: &mut PgConnection,
    org_id: Uuid,
    after: Option<MemberCursor>,
    limit: i64,
) -> Result<(Vec<Member>, i64), sqlx::Error> {
    let (after_at, after_id) = after.unzip();
    let rows = sqlx::query!(
        r#"SELECT u.id AS user_id, u.email, u.display_name, u.nickname, u.status AS "status: UserStatus",
                  u.managed_by_org, u.last_login_at, m.role AS "role: Role", m.suspended_at,
                  m.created_at AS joined_at,
                  (SELECT count(*) FROM memberships c WHERE c.org_id = $1) AS "total!"
           FROM memberships m JOIN users u ON u.id = m.user_id
           WHERE m.org_id = $1
             AND ($2::timestamptz IS NULL OR (m.created_at, m.user_id) > ($2, $3::uuid))
           ORDER BY m.created_at, m.user_id
           LIMIT $4"#,
        org_id,
        after_at,
        after_id,
        limit
    )
    .fetch_all(&mut *conn)
    .await?;
    let total = match rows.first() {
        Some(row) => row.total,
        // Past the last member (or none at all): the count alone.
        None => count(conn, org_id).await?,
    };
    let members = rows
        .into_iter()
        .map(|row| Member {
            user_id: row.user_id,
            email: row.email,
            display_name: row.display_name,
            nickname: row.nickname,
            status: row.status,
            managed_by_org: row.managed_by_org,
            last_login_at: row.last_login_at,
            role: row.role,
            suspended_at: row.suspended_at,
            joined_at: row.joined_at,
        })
        .collect();
    Ok((members, total))
}

/// `list` with filters.
pub async fn search(
    conn: &mut PgConnection,
    org_id: Uuid,
    filter: &MemberFilter,
    after: Option<MemberCursor>,
    limit: i64,
) -> Result<Vec<Member>, sqlx::Error> {
    let (after_at, after_id) = after.unzip();
    let names = lowercase(&filter.names);
    let usernames = email_rule(&filter.email_usernames);
    let domains = email_rule(&filter.email_domains);
    let terms = lowercase(&filter.terms);
    let email_terms = email_rule(&filter.terms);
    let emails = email_rule(&filter.emails);
    sqlx::query_as!(
        Member,
        r#"SELECT u.id AS user_id, u.email, u.display_name, u.nickname, u.status AS "status: UserStatus",
                  u.managed_by_org, u.last_login_at, m.role AS "role: Role", m.suspended_at,
                  m.created_at AS joined_at
           FROM memberships m JOIN users u ON u.id = m.user_id
           WHERE m.org_id = $1
             AND ($2::timestamptz IS NULL OR (m.created_at, m.user_id) > ($2, $3::uuid))
             AND ($4::uuid[] IS NULL OR u.id = ANY($4))
             AND ($5::user_status[] IS NULL OR u.status = ANY($5))
             AND ($6::text[] IS NULL OR EXISTS (
                    SELECT 1 FROM unnest($6::text[]) AS n(part)
                    WHERE strpos(lower(u.display_name), n.part) > 0
                       OR strpos(lower(coalesce(u.nickname, '')), n.part) > 0))
             AND ($7::text[] IS NULL OR split_part(u.email_normalized, '@', 1) = ANY($7))
             AND ($8::text[] IS NULL OR split_part(u.email_normalized, '@', 2) = ANY($8))
             AND ($9::bool IS NULL OR (m.suspended_at IS NOT NULL) = $9)
             AND ($10::text[] IS NULL OR EXISTS (
                    SELECT 1 FROM unnest($10::text[], $14::text[]) AS t(part, email_part)
                    WHERE strpos(lower(u.display_name), t.part) > 0
                       OR strpos(lower(coalesce(u.nickname, '')), t.part) > 0
                       OR strpos(u.email_normalized, t.email_part) > 0))
             AND ($11::text[] IS NULL OR u.email_normalized = ANY($11))
             AND ($12::bool IS NULL OR (u.managed_by_org IS NOT DISTINCT FROM $1) = $12)
           ORDER BY m.created_at, m.user_id
           LIMIT $13"#,
        org_id,
        after_at,
        after_id,
        filter.user_ids.as_deref(),
        filter.statuses.as_deref() as Option<&[UserStatus]>,
        names.as_deref(),
        usernames.as_deref(),
        domains.as_deref(),
        filter.suspended,
        terms.as_deref(),
        emails.as_deref(),
        filter.managed,
        limit,
        email_terms.as_deref()
    )
    .fetch_all(conn)
    .await
}

/// Emails, or parts of them, as the email rule compares them (`users.email_normalized`): never
/// SQL `lower()`, whose answer depends on the database's locale.
fn email_rule(values: &Option<Vec<String>>) -> Option<Vec<String>> {
    values
        .as_ref()
        .map(|values| values.iter().map(|v| crate::domain::email::normalize(v)).collect())
}

fn lowercase(values: &Option<Vec<String>>) -> Option<Vec<String>> {
    values
        .as_ref()
        .map(|values| values.iter().map(|v| v.to_lowercase()).collect())
}

/// How many members the org has.
pub async fn count(conn: &mut PgConnection, org_id: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM memberships WHERE org_id = $1"#,
        org_id
    )
    .fetch_one(conn)
    .await
}

/// The member `user_id` of the org, if they are one.
pub async fn find(conn: &mut PgConnection, org_id: Uuid, user_id: Uuid) -> Result<Option<Member>, sqlx::Error> {
    let filter = MemberFilter {
        user_ids: Some(vec![user_id]),
        ..MemberFilter::default()
    };
    Ok(search(conn, org_id, &filter, None, 1).await?.into_iter().next())
}

/// True when `user_id` may act in the org right now: the membership exists, is not suspended,
/// and the account is active. The console checks it on every org page, so a suspension or a
/// disabled account takes effect at once; it says nothing about the person's other orgs.
pub async fn is_active(conn: &mut PgConnection, org_id: Uuid, user_id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (
               SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id
               WHERE m.org_id = $1 AND m.user_id = $2 AND m.suspended_at IS NULL AND u.status = 'active'
           ) AS "active!""#,
        org_id,
        user_id
    )
    .fetch_one(conn)
    .await
}

/// Holds the person's `users` row until the transaction ends against any change of their
/// standing (`FOR SHARE`: many keys may be written for one person at once). Every key creation
/// takes it for the person who answers for the key; removal, demotion, suspension and disabling
/// take `lock_for_standing_change`, which waits for those creations and holds new ones back. A
/// lock on `users`, not on the person's keys, so the batched last-use writes on `api_keys`
/// never wait for it.
pub async fn lock_standing(conn: &mut PgConnection, user_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query_scalar!("SELECT id FROM users WHERE id = $1 FOR SHARE", user_id)
        .fetch_optional(conn)
        .await?;
    Ok(())
}

/// Holds the person's `users` row against every key creation until the transaction ends
/// (`FOR NO KEY UPDATE` conflicts with `lock_standing`'s `FOR SHARE`): a change of standing takes
/// it before it decides, so no key for the person commits between the decision and the
/// revocation of their keys.
pub async fn lock_for_standing_change(conn: &mut PgConnection, user_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query_scalar!("SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE", user_id)
        .fetch_optional(conn)
        .await?;
    Ok(())
}

/// True when `user_id` is an active admin of the org: an unsuspended admin membership of an
/// active account. Run it after `lock_standing`, as a statement of its own, so under READ
/// COMMITTED it sees whatever the change it waited for committed.
pub async fn is_active_admin(conn: &mut PgConnection, org_id: Uuid, user_id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (
               SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id
               WHERE m.org_id = $1 AND m.user_id = $2 AND m.role = 'admin'
                 AND m.suspended_at IS NULL AND u.status = 'active'
           ) AS "admin!""#,
        org_id,
        user_id
    )
    .fetch_one(conn)
    .await
}

/// Suspends the membership; returns false when it was suspended already (or does not exist).
pub async fn suspend(conn: &mut PgConnection, org_id: Uuid, user_id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE memberships SET suspended_at = statement_timestamp()
         WHERE org_id = $1 AND user_id = $2 AND suspended_at IS NULL",
        org_id,
        user_id
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Lifts the membership's suspension; returns false when it was not suspended.
pub async fn restore(conn: &mut PgConnection, org_id: Uuid, user_id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE memberships SET suspended_at = NULL
         WHERE org_id = $1 AND user_id = $2 AND suspended_at IS NOT NULL",
        org_id,
        user_id
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Changes the member's role; returns false when they are not a member.
pub async fn set_role(conn: &mut PgConnection, org_id: Uuid, user_id: Uuid, role: Role) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE memberships SET role = $3 WHERE org_id = $1 AND user_id = $2",
        org_id,
        user_id,
        role as Role
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes the person from the org; returns false when they were not a member.
pub async fn delete(conn: &mut PgConnection, org_id: Uuid, user_id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "DELETE FROM memberships WHERE org_id = $1 AND user_id = $2",
        org_id,
        user_id
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The orgs in which `user_id` holds an admin membership (suspended or not).
pub async fn admin_orgs(conn: &mut PgConnection, user_id: Uuid) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT org_id FROM memberships WHERE user_id = $1 AND role = 'admin' ORDER BY org_id",
        user_id
    )
    .fetch_all(conn)
    .await
}

/// Locks every admin membership of these orgs until the transaction ends, in one global
/// order (org, user) so two transactions locking overlapping sets cannot deadlock. Every
/// change that can take an org's last admin away (removal, demotion, suspension, disabling)
/// takes these locks before it counts, so two such changes to one org run one after the other
/// and the second counts what the first left.
pub async fn lock_admins(conn: &mut PgConnection, org_ids: &[Uuid]) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "SELECT 1 AS locked FROM memberships WHERE org_id = ANY($1) AND role = 'admin'
         ORDER BY org_id, user_id FOR UPDATE",
        org_ids
    )
    .fetch_all(conn)
    .await?;
    Ok(())
}

/// The people who count as the org's admins: an unsuspended admin membership of an active
/// account. Run it after `lock_admins`, as a statement of its own, so under READ COMMITTED it
/// sees whatever the transactions it waited for committed.
pub async fn effective_admins(conn: &mut PgConnection, org_id: Uuid) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT m.user_id FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.org_id = $1 AND m.role = 'admin' AND m.suspended_at IS NULL AND u.status = 'active'
         ORDER BY m.user_id",
        org_id
    )
    .fetch_all(conn)
    .await
}

/// An org on the selection screen.
#[derive(Debug, Clone)]
pub struct AdministeredOrg {
    pub id: Uuid,
    pub name: String,
    pub active_keys: i64,
}

/// The orgs the user administers today (an admin membership that is not suspended), by name,
/// those whose name contains `search` (case-insensitive, taken literally) when one is given.
pub async fn administered(
    conn: &mut PgConnection,
    user_id: Uuid,
    search: Option<&str>,
) -> Result<Vec<AdministeredOrg>, sqlx::Error> {
    sqlx::query_as!(
        AdministeredOrg,
        r#"SELECT o.id, o.name,
                  (SELECT count(*) FROM api_keys k
                   WHERE k.org_id = o.id AND k.revoked_at IS NULL AND k.expires_at > now()) AS "active_keys!"
           FROM memberships m JOIN orgs o ON o.id = m.org_id
           WHERE m.user_id = $1 AND m.role = 'admin' AND m.suspended_at IS NULL
             AND ($2::text IS NULL OR strpos(lower(o.name), lower($2)) > 0)
           ORDER BY lower(o.name), o.id"#,
        user_id,
        search
    )
    .fetch_all(conn)
    .await
}

/// The org's name, when the user administers it today; `None` both when the org does not
/// exist and when the user is not (or no longer) its admin.
pub async fn administered_org(
    conn: &mut PgConnection,
    user_id: Uuid,
    org_id: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT o.name FROM memberships m JOIN orgs o ON o.id = m.org_id
         WHERE m.user_id = $1 AND m.org_id = $2 AND m.role = 'admin' AND m.suspended_at IS NULL",
        user_id,
        org_id
    )
    .fetch_optional(conn)
    .await
}

/// A row of the console's members page: the member and the active keys they answer for.
#[derive(Debug, Clone)]
pub struct MemberRow {
    pub member: Member,
    pub active_keys: i64,
}

/// A page of the console's members list, oldest membership first, after `after`: those whose
/// name or email contains `text` (case-insensitive, taken literally) and, when given, of `role`.
pub async fn console_page(
    conn: &mut PgConnection,
    org_id: Uuid,
    text: Option<&str>,
    role: Option<Role>,
    after: Option<MemberCursor>,
    limit: i64,
) -> Result<Vec<MemberRow>, sqlx::Error> {
    let (after_at, after_id) = after.unzip();
    let rows = sqlx::query!(
        r#"SELECT u.id AS user_id, u.email, u.display_name, u.nickname, u.status AS "status: UserStatus",
                  u.managed_by_org, u.last_login_at, m.role AS "role: Role", m.suspended_at,
                  m.created_at AS joined_at,
                  (SELECT count(*) FROM api_keys k
                   WHERE k.org_id = $1 AND k.responsible_user_id = u.id
                     AND k.revoked_at IS NULL AND k.expires_at > now()) AS "active_keys!"
           FROM memberships m JOIN users u ON u.id = m.user_id
           WHERE m.org_id = $1
             AND ($2::text IS NULL OR strpos(lower(u.display_name), lower($2)) > 0
                                   OR strpos(u.email_normalized, $7) > 0)
             AND ($3::membership_role IS NULL OR m.role = $3)
             AND ($4::timestamptz IS NULL OR (m.created_at, m.user_id) > ($4, $5::uuid))
           ORDER BY m.created_at, m.user_id
           LIMIT $6"#,
        org_id,
        text,
        role as Option<Role>,
        after_at,
        after_id,
        limit,
        text.map(crate::domain::email::normalize)
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| MemberRow {
            member: Member {
                user_id: row.user_id,
                email: row.email,
                display_name: row.display_name,
                nickname: row.nickname,
                status: row.status,
                managed_by_org: row.managed_by_org,
                last_login_at: row.last_login_at,
                role: row.role,
                suspended_at: row.suspended_at,
                joined_at: row.joined_at,
            },
            active_keys: row.active_keys,
        })
        .collect())
}

/// Adds the person to the org in `role`; returns false when they are a member already.
pub async fn add(conn: &mut PgConnection, org_id: Uuid, user_id: Uuid, role: Role) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, $3) ON CONFLICT (org_id, user_id) DO NOTHING",
        org_id,
        user_id,
        role as Role
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
