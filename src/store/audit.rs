//! The append-only audit log.

use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::{Action, UserAgent};

/// Who did something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "actor_kind", rename_all = "lowercase")]
pub enum ActorKind {
    User,
    Key,
    System,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    User(Uuid),
    Key(Uuid),
    System,
}

impl Actor {
    pub fn kind(self) -> ActorKind {
        match self {
            Actor::User(_) => ActorKind::User,
            Actor::Key(_) => ActorKind::Key,
            Actor::System => ActorKind::System,
        }
    }

    pub fn id(self) -> Option<Uuid> {
        match self {
            Actor::User(id) | Actor::Key(id) => Some(id),
            Actor::System => None,
        }
    }

    pub fn from_parts(kind: ActorKind, id: Option<Uuid>) -> Actor {
        match (kind, id) {
            (ActorKind::User, Some(id)) => Actor::User(id),
            (ActorKind::Key, Some(id)) => Actor::Key(id),
            _ => Actor::System,
        }
    }
}

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
