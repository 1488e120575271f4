//! A person's membership of an organization: their role, their account's status, and what the
//! org's user list shows of them.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A person's role in one organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "membership_role", rename_all = "lowercase")]
pub enum Role {
    Admin,
    Member,
}

/// Whether an account may sign in at all (across every org).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "user_status", rename_all = "lowercase")]
pub enum UserStatus {
    Active,
    Disabled,
}

/// A member of an org, with what the user list shows of their account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub nickname: Option<String>,
    pub status: UserStatus,
    pub managed_by_org: Option<Uuid>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub role: Role,
    pub suspended_at: Option<DateTime<Utc>>,
    /// When the person was added to the org: the membership's creation.
    pub joined_at: DateTime<Utc>,
}
