//! A key as the console's pages show it: its facts with its status and expiry warning judged
//! once, at the time of the request.

use chrono::{DateTime, Duration, Utc};

use crate::console::catalog::Messages;
use crate::domain::actor::Actor;
use crate::domain::api_key::ApiKey;
use crate::domain::api_key::KeyStatus;

/// An active key expiring sooner than this is flagged.
const EXPIRY_WARNING: Duration = Duration::days(14);

pub struct KeyView {
    pub key: ApiKey,
    pub status: KeyStatus,
    pub expires_soon: bool,
}

impl KeyView {
    /// The keys list's tab this key is on.
    pub fn kind_name(&self) -> &'static str {
        if self.key.scoped() { "scoped" } else { "unscoped" }
    }

    pub fn new(key: ApiKey, now: DateTime<Utc>) -> KeyView {
        let status = key.status(now);
        let expires_soon = status == KeyStatus::Active && key.expires_at - now <= EXPIRY_WARNING;
        KeyView {
            key,
            status,
            expires_soon,
        }
    }

    pub fn is_active(&self) -> bool {
        self.status == KeyStatus::Active
    }

    pub fn status_label(&self, t: &'static Messages) -> &'static str {
        match self.status {
            KeyStatus::Active => t.status_active,
            KeyStatus::Expired => t.status_expired,
            KeyStatus::Revoked => t.status_revoked,
        }
    }

    pub fn status_class(&self) -> &'static str {
        self.status.as_str()
    }

    /// Who made the key: a person by name, another key, or keyward itself.
    pub fn created_by(&self, t: &'static Messages) -> String {
        match (&self.key.creator_name, self.key.created_by) {
            (Some(name), Actor::User(_)) => name.clone(),
            (Some(name), _) => crate::console::catalog::fill(t.created_by_key_for, &[("name", name)]),
            (None, Actor::Key(_)) => t.created_by_key.to_owned(),
            (None, _) => t.created_by_keyward.to_owned(),
        }
    }

    pub fn last_used_ip(&self) -> String {
        self.key.last_used_ip.map(|ip| ip.to_string()).unwrap_or_default()
    }
}
