//! The append-only audit log.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use sqlx::types::ipnet::IpNet;
use uuid::Uuid;

use crate::domain::OrgId;
use crate::domain::actor::{Actor, ActorKind};
use crate::domain::audit::RefusedBecause;
use crate::domain::{Action, UserAgent};

/// Where a request came from, as the audit events it causes record it. Empty for the command
/// line and for the system's own work.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub ip: Option<std::net::IpAddr>,
    pub user_agent: Option<UserAgent>,
}

impl Origin {
    pub fn user_agent(&self) -> Option<&str> {
        self.user_agent.as_ref().map(UserAgent::as_str)
    }
}

/// Who does something in which org, from where: what every admin change records about itself.
#[derive(Debug, Clone, Copy)]
pub struct Acting<'a> {
    pub org_id: Uuid,
    pub actor: Actor,
    pub origin: &'a Origin,
}

impl<'a> Acting<'a> {
    /// The org the change is made in.
    pub fn org(&self) -> OrgId {
        OrgId::from(self.org_id)
    }

    /// The audit event of one change made by this actor to `target_kind` `target_id`.
    pub fn event(
        &self,
        action: Action,
        target_kind: &'static str,
        target_id: Option<String>,
        details: Value,
    ) -> NewEvent<'a> {
        NewEvent {
            org_id: Some(self.org_id),
            actor: self.actor,
            action,
            target_kind: Some(target_kind),
            target_id,
            ip: self.origin.ip,
            user_agent: self.origin.user_agent(),
            details,
        }
    }
}

/// One thing that happened, about to be recorded.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub org_id: Option<Uuid>,
    pub actor: Actor,
    pub action: Action,
    pub target_kind: Option<&'a str>,
    pub target_id: Option<String>,
    pub ip: Option<std::net::IpAddr>,
    pub user_agent: Option<&'a str>,
    pub details: Value,
}

pub async fn record(conn: &mut PgConnection, event: NewEvent<'_>) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::new_v4();
    let ip = event.ip.map(sqlx::types::ipnet::IpNet::from);
    sqlx::query!(
        "INSERT INTO audit_events (id, org_id, actor_kind, actor_id, action, target_kind, target_id, ip, user_agent, details)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        id,
        event.org_id,
        event.actor.kind() as ActorKind,
        event.actor.id(),
        event.action.name(),
        event.target_kind,
        event.target_id,
        ip,
        event.user_agent,
        event.details
    )
    .execute(conn)
    .await?;
    Ok(id)
}

/// One recorded event, as the events API reads it: the actor's name and email come from the
/// person or key the event names.
#[derive(Debug, Clone)]
pub struct Event {
    pub id: Uuid,
    pub org_id: Option<Uuid>,
    pub time: DateTime<Utc>,
    pub actor: Actor,
    /// The person's display name, or the key's name.
    pub actor_name: Option<String>,
    /// The person's email (a key has none).
    pub actor_email: Option<String>,
    pub action: String,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
    pub details: Value,
}

struct EventRow {
    id: Uuid,
    org_id: Option<Uuid>,
    time: DateTime<Utc>,
    actor_kind: ActorKind,
    actor_id: Option<Uuid>,
    actor_name: Option<String>,
    actor_email: Option<String>,
    action: String,
    target_kind: Option<String>,
    target_id: Option<String>,
    ip: Option<IpNet>,
    user_agent: Option<String>,
    details: Value,
}

impl From<EventRow> for Event {
    fn from(row: EventRow) -> Event {
        Event {
            id: row.id,
            org_id: row.org_id,
            time: row.time,
            actor: Actor::from_parts(row.actor_kind, row.actor_id),
            actor_name: row.actor_name,
            actor_email: row.actor_email,
            action: row.action,
            target_kind: row.target_kind,
            target_id: row.target_id,
            ip: row.ip.map(|net| net.addr()),
            user_agent: row.user_agent,
            details: row.details,
        }
    }
}

/// Which of an org's events a list selects. Empty fields select everything.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// A case-insensitive substring of the action, the target, the actor's name or email, or
    /// the details (`%` and `_` match themselves).
    pub text: Option<String>,
    /// From this time on (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// Before this time (exclusive).
    pub to: Option<DateTime<Utc>>,
    /// Any of these actions.
    pub actions: Vec<Action>,
    /// Done by this actor.
    pub actor: Option<ActorFilter>,
    /// From this address, or from any address of this network.
    pub ip: Option<IpNet>,
}

impl EventFilter {
    fn pattern(&self) -> Option<String> {
        self.text.as_deref().map(|text| {
            let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            format!("%{escaped}%")
        })
    }

    fn action_names(&self) -> Vec<String> {
        self.actions.iter().map(|a| a.name().to_owned()).collect()
    }

    /// (only keyward itself, only this person's or key's id).
    fn actor_parts(&self) -> (bool, Option<Uuid>) {
        match self.actor {
            Some(ActorFilter::System) => (true, None),
            Some(ActorFilter::Id(id)) => (false, Some(id)),
            None => (false, None),
        }
    }
}

/// An actor as a filter names it: a person's and a key's ids never collide (both are random
/// uuids), so an id alone names either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorFilter {
    System,
    Id(Uuid),
}

/// The order of a page of events, by (time, id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    NewestFirst,
    OldestFirst,
}

/// Up to `limit` of the org's events that `filter` selects, in `order`, after the keyset
/// `after` (the (time, id) of the previous page's last event). Newest first rides the index
/// `audit_events_org_time` forwards, oldest first backwards.
pub async fn search(
    conn: &mut PgConnection,
    org_id: Uuid,
    filter: &EventFilter,
    order: Order,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<Event>, sqlx::Error> {
    let (after_time, after_id) = after.unzip();
    let (only_system, actor_id) = filter.actor_parts();
    let rows = match order {
        Order::NewestFirst => {
            sqlx::query_as!(
                EventRow,
                r#"SELECT e.id, e.org_id, e.time, e.actor_kind AS "actor_kind: ActorKind", e.actor_id,
                          COALESCE(u.display_name, k.name) AS "actor_name?", u.email AS "actor_email?",
                          e.action, e.target_kind, e.target_id, e.ip, e.user_agent, e.details
                   FROM audit_events e
                   LEFT JOIN users u ON e.actor_kind = 'user' AND u.id = e.actor_id
                   LEFT JOIN api_keys k ON e.actor_kind = 'key' AND k.id = e.actor_id
                   WHERE e.org_id = $1
                     AND ($2::text IS NULL
                          OR e.action ILIKE $2 ESCAPE '\' OR e.target_kind ILIKE $2 ESCAPE '\'
                          OR e.target_id ILIKE $2 ESCAPE '\' OR u.display_name ILIKE $2 ESCAPE '\'
                          OR u.email ILIKE $2 ESCAPE '\' OR k.name ILIKE $2 ESCAPE '\'
                          OR e.details::text ILIKE $2 ESCAPE '\')
                     AND ($3::timestamptz IS NULL OR e.time >= $3)
                     AND ($4::timestamptz IS NULL OR e.time < $4)
                     AND (cardinality($5::text[]) = 0 OR e.action = ANY($5))
                     AND (NOT $6 OR e.actor_kind = 'system')
                     AND ($7::uuid IS NULL OR e.actor_id = $7)
                     AND ($8::inet IS NULL OR e.ip <<= $8)
                     AND ($9::timestamptz IS NULL OR (e.time, e.id) < ($9, $10))
                   ORDER BY e.time DESC, e.id DESC
                   LIMIT $11"#,
                org_id,
                filter.pattern(),
                filter.from,
                filter.to,
                &filter.action_names(),
                only_system,
                actor_id,
                filter.ip,
                after_time,
                after_id,
                limit
            )
            .fetch_all(conn)
            .await?
        }
        Order::OldestFirst => {
            sqlx::query_as!(
                EventRow,
                r#"SELECT e.id, e.org_id, e.time, e.actor_kind AS "actor_kind: ActorKind", e.actor_id,
                          COALESCE(u.display_name, k.name) AS "actor_name?", u.email AS "actor_email?",
                          e.action, e.target_kind, e.target_id, e.ip, e.user_agent, e.details
                   FROM audit_events e
                   LEFT JOIN users u ON e.actor_kind = 'user' AND u.id = e.actor_id
                   LEFT JOIN api_keys k ON e.actor_kind = 'key' AND k.id = e.actor_id
                   WHERE e.org_id = $1
                     AND ($2::text IS NULL
                          OR e.action ILIKE $2 ESCAPE '\' OR e.target_kind ILIKE $2 ESCAPE '\'
                          OR e.target_id ILIKE $2 ESCAPE '\' OR u.display_name ILIKE $2 ESCAPE '\'
                          OR u.email ILIKE $2 ESCAPE '\' OR k.name ILIKE $2 ESCAPE '\'
                          OR e.details::text ILIKE $2 ESCAPE '\')
                     AND ($3::timestamptz IS NULL OR e.time >= $3)
                     AND ($4::timestamptz IS NULL OR e.time < $4)
                     AND (cardinality($5::text[]) = 0 OR e.action = ANY($5))
                     AND (NOT $6 OR e.actor_kind = 'system')
                     AND ($7::uuid IS NULL OR e.actor_id = $7)
                     AND ($8::inet IS NULL OR e.ip <<= $8)
                     AND ($9::timestamptz IS NULL OR (e.time, e.id) > ($9, $10))
                   ORDER BY e.time ASC, e.id ASC
                   LIMIT $11"#,
                org_id,
                filter.pattern(),
                filter.from,
                filter.to,
                &filter.action_names(),
                only_system,
                actor_id,
                filter.ip,
                after_time,
                after_id,
                limit
            )
            .fetch_all(conn)
            .await?
        }
    };
    Ok(rows.into_iter().map(Event::from).collect())
}

/// One event of the org; another org's event is None, like an unknown one.
pub async fn get(conn: &mut PgConnection, org_id: Uuid, id: Uuid) -> Result<Option<Event>, sqlx::Error> {
    let row = sqlx::query_as!(
        EventRow,
        r#"SELECT e.id, e.org_id, e.time, e.actor_kind AS "actor_kind: ActorKind", e.actor_id,
                  COALESCE(u.display_name, k.name) AS "actor_name?", u.email AS "actor_email?",
                  e.action, e.target_kind, e.target_id, e.ip, e.user_agent, e.details
           FROM audit_events e
           LEFT JOIN users u ON e.actor_kind = 'user' AND u.id = e.actor_id
           LEFT JOIN api_keys k ON e.actor_kind = 'key' AND k.id = e.actor_id
           WHERE e.org_id = $1 AND e.id = $2"#,
        org_id,
        id
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Event::from))
}

/// The org's events about one target (a key's lifecycle), newest first.
pub async fn for_target(
    conn: &mut PgConnection,
    org_id: Uuid,
    target_kind: &str,
    target_id: &str,
    limit: i64,
) -> Result<Vec<Event>, sqlx::Error> {
    let rows = sqlx::query_as!(
        EventRow,
        r#"SELECT e.id, e.org_id, e.time, e.actor_kind AS "actor_kind: ActorKind", e.actor_id,
                  coalesce(u.display_name, k.name) AS "actor_name?", u.email AS "actor_email?",
                  e.action, e.target_kind, e.target_id, e.ip, e.user_agent, e.details
           FROM audit_events e
           LEFT JOIN users u ON e.actor_kind = 'user' AND u.id = e.actor_id
           LEFT JOIN api_keys k ON e.actor_kind = 'key' AND k.id = e.actor_id
           WHERE e.org_id = $1 AND e.target_kind = $2 AND e.target_id = $3
           ORDER BY e.time DESC, e.id DESC
           LIMIT $4"#,
        org_id,
        target_kind,
        target_id,
        limit
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(Event::from).collect())
}

/// Whose events the console's audit log selects: one person's or key's, any key's, or
/// keyward's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogActor {
    Id(Uuid),
    AnyKey,
    System,
}

/// Which of an org's events the console's audit log page and its downloads select. Empty
/// fields select everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogFilter {
    /// From this time on (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// Before this time (exclusive).
    pub to: Option<DateTime<Utc>>,
    pub action: Option<Action>,
    pub actor: Option<LogActor>,
    /// About this target: (kind, id), e.g. ("api_key", its id).
    pub target: Option<(String, String)>,
    /// Only refused uses of revoked or expired keys (forgotten keys).
    pub forgotten: bool,
}

/// The refusal reasons of a key that was revoked or has expired, as `api_key.rejected_use`
/// events record them in `details.reason`.
fn forgotten_reasons() -> Vec<String> {
    RefusedBecause::FORGOTTEN
        .iter()
        .map(|r| r.as_str().to_owned())
        .collect()
}

/// One event as the console's audit log shows it: the event, with the names of the people
/// and keys it names (actor and target) looked up.
#[derive(Debug, Clone)]
pub struct LogEvent {
    pub event: Event,
    /// The acting key's public id.
    pub actor_key_public_id: Option<String>,
    /// The target key's name and public id, when the target is a key of this org.
    pub target_key: Option<(String, String)>,
    /// The target person's name and email, when the target is a person.
    pub target_user: Option<(String, String)>,
}

struct LogRow {
    id: Uuid,
    org_id: Option<Uuid>,
    time: DateTime<Utc>,
    actor_kind: ActorKind,
    actor_id: Option<Uuid>,
    actor_name: Option<String>,
    actor_email: Option<String>,
    actor_key_public_id: Option<String>,
    action: String,
    target_kind: Option<String>,
    target_id: Option<String>,
    target_key_name: Option<String>,
    target_key_public_id: Option<String>,
    target_user_name: Option<String>,
    target_user_email: Option<String>,
    ip: Option<IpNet>,
    user_agent: Option<String>,
    details: Value,
}

impl From<LogRow> for LogEvent {
    fn from(row: LogRow) -> LogEvent {
        LogEvent {
            actor_key_public_id: row.actor_key_public_id,
            target_key: row.target_key_name.zip(row.target_key_public_id),
            target_user: row.target_user_name.zip(row.target_user_email),
            event: Event {
                id: row.id,
                org_id: row.org_id,
                time: row.time,
                actor: Actor::from_parts(row.actor_kind, row.actor_id),
                actor_name: row.actor_name,
                actor_email: row.actor_email,
                action: row.action,
                target_kind: row.target_kind,
                target_id: row.target_id,
                ip: row.ip.map(|net| net.addr()),
                user_agent: row.user_agent,
                details: row.details,
            },
        }
    }
}

/// Up to `limit` of the org's events that `filter` selects, newest first by (time, id), after
/// the keyset `after` (the previous page's last event). Only this org's events, ever: the org
/// is the first column of every index that serves a filter.
pub async fn log_page(
    conn: &mut PgConnection,
    org_id: Uuid,
    filter: &LogFilter,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<LogEvent>, sqlx::Error> {
    let (after_time, after_id) = after.unzip();
    let (actor_id, actor_kind) = match filter.actor {
        Some(LogActor::Id(id)) => (Some(id), None),
        Some(LogActor::AnyKey) => (None, Some(ActorKind::Key)),
        Some(LogActor::System) => (None, Some(ActorKind::System)),
        None => (None, None),
    };
    let (target_kind, target_id) = filter.target.clone().unzip();
    let reasons: Vec<String> = if filter.forgotten {
        forgotten_reasons()
    } else {
        Vec::new()
    };
    // A target id is text (not every target is a row with a uuid): only a uuid-shaped one is
    // looked up, so the cast cannot fail and the lookups use the primary keys.
    let rows = sqlx::query_as!(
        LogRow,
        r#"SELECT e.id, e.org_id, e.time, e.actor_kind AS "actor_kind: ActorKind", e.actor_id,
                  COALESCE(u.display_name, k.name) AS "actor_name?", u.email AS "actor_email?",
                  k.public_id AS "actor_key_public_id?",
                  e.action, e.target_kind, e.target_id,
                  tk.name AS "target_key_name?", tk.public_id AS "target_key_public_id?",
                  tu.display_name AS "target_user_name?", tu.email AS "target_user_email?",
                  e.ip, e.user_agent, e.details
           FROM audit_events e
           LEFT JOIN users u ON e.actor_kind = 'user' AND u.id = e.actor_id
           LEFT JOIN api_keys k ON e.actor_kind = 'key' AND k.id = e.actor_id
           LEFT JOIN api_keys tk ON e.target_kind = 'api_key' AND tk.org_id = e.org_id
                AND tk.id = CASE WHEN e.target_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                                 THEN e.target_id::uuid END
           LEFT JOIN users tu ON e.target_kind = 'user'
                AND tu.id = CASE WHEN e.target_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                                 THEN e.target_id::uuid END
           WHERE e.org_id = $1
             AND ($2::timestamptz IS NULL OR e.time >= $2)
             AND ($3::timestamptz IS NULL OR e.time < $3)
             AND ($4::text IS NULL OR e.action = $4)
             AND ($5::uuid IS NULL OR e.actor_id = $5)
             AND ($6::actor_kind IS NULL OR e.actor_kind = $6)
             AND ($7::text IS NULL OR (e.target_kind = $7 AND e.target_id = $8))
             AND (cardinality($9::text[]) = 0
                  OR (e.action = 'api_key.rejected_use' AND e.details->>'reason' = ANY($9)))
             AND ($10::timestamptz IS NULL OR (e.time, e.id) < ($10, $11))
           ORDER BY e.time DESC, e.id DESC
           LIMIT $12"#,
        org_id,
        filter.from,
        filter.to,
        filter.action.map(Action::name),
        actor_id,
        actor_kind as Option<ActorKind>,
        target_kind,
        target_id,
        &reasons,
        after_time,
        after_id,
        limit
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(LogEvent::from).collect())
}

/// The people who appear as actors in the org's events, by name: (id, name, email). The
/// distinct actors are found by skipping through `audit_events_org_actor_time` from one actor
/// to the next (a loose index scan), so the cost grows with the number of actors, not events.
pub async fn log_people(conn: &mut PgConnection, org_id: Uuid) -> Result<Vec<(Uuid, String, String)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"WITH RECURSIVE actors (id) AS (
               (SELECT e.actor_id FROM audit_events e
                WHERE e.org_id = $1 AND e.actor_id IS NOT NULL
                ORDER BY e.actor_id LIMIT 1)
               UNION ALL
               SELECT (SELECT e.actor_id FROM audit_events e
                       WHERE e.org_id = $1 AND e.actor_id IS NOT NULL AND e.actor_id > a.id
                       ORDER BY e.actor_id LIMIT 1)
               FROM actors a WHERE a.id IS NOT NULL
           )
           SELECT u.id, u.display_name, u.email
           FROM users u
           WHERE u.id IN (SELECT a.id FROM actors a WHERE a.id IS NOT NULL)
           ORDER BY lower(u.display_name), u.email, u.id"#,
        org_id
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.display_name, r.email)).collect())
}

/// Forgotten keys of one org: how many distinct revoked or expired keys were presented since
/// a time, and from how many distinct addresses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ForgottenKeys {
    pub keys: i64,
    pub addresses: i64,
}

/// The forgotten keys of each of `org_ids` since `since`, in one query; an org with none is
/// absent.
pub async fn forgotten_keys(
    conn: &mut PgConnection,
    org_ids: &[Uuid],
    since: DateTime<Utc>,
) -> Result<Vec<(Uuid, ForgottenKeys)>, sqlx::Error> {
    let reasons = forgotten_reasons();
    let rows = sqlx::query!(
        r#"SELECT e.org_id AS "org_id!", count(DISTINCT e.target_id) AS "keys!", count(DISTINCT e.ip) AS "addresses!"
           FROM audit_events e
           WHERE e.org_id = ANY($1) AND e.action = 'api_key.rejected_use' AND e.time >= $2
             AND e.details->>'reason' = ANY($3)
           GROUP BY e.org_id"#,
        org_ids,
        since,
        &reasons
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.org_id,
                ForgottenKeys {
                    keys: r.keys,
                    addresses: r.addresses,
                },
            )
        })
        .collect())
}
