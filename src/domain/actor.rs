//! Who did something: a person, an API key, or keyward itself (the command line, its own
//! work). Every change records its actor; a key's creator is one.

use uuid::Uuid;

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
