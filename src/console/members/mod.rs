//! Members of an org and one-step offboarding: the list with its pending invitations,
//! inviting people (a link shown once, accepted on `/invitations`), roles, suspension, removal,
//! and new set-password links for the accounts this org manages. Removing, demoting or
//! suspending an admin lists the keys they answer for and revokes them in the same transaction
//! (`people`); the last admin stays.

pub mod accept;
pub mod bulk_revoke;
pub mod detail;
pub mod invite;
pub mod list;
pub mod offboard;
pub mod password_link;
pub mod welcome;

use actix_web::HttpRequest;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::console::PageError;
use crate::console::catalog::Lang;
use crate::console::catalog::members::{self as catalog, Messages};
use crate::console::session::OrgAdmin;
use crate::domain::actor::Actor;
use crate::domain::member::{Member, Role, UserStatus};
use crate::service::people::{Acting, PeopleError};
use crate::state::AppState;
use crate::store;
use crate::store::audit::Origin;

/// This page family's messages in the admin's language.
fn messages(lang: Lang) -> &'static Messages {
    catalog::of(lang)
}

/// A member as the pages show them.
pub struct MemberView {
    pub member: Member,
}

impl MemberView {
    pub fn is_admin(&self) -> bool {
        self.member.role == Role::Admin
    }

    pub fn is_disabled(&self) -> bool {
        self.member.status == UserStatus::Disabled
    }

    pub fn is_suspended(&self) -> bool {
        self.member.suspended_at.is_some()
    }

    pub fn role_label(&self, m: &'static Messages) -> &'static str {
        match self.member.role {
            Role::Admin => m.role_admin,
            Role::Member => m.role_member,
        }
    }

    /// The membership's state: disabled accounts first, then suspension.
    pub fn status_label(&self, t: &'static crate::console::catalog::Messages, m: &'static Messages) -> &'static str {
        if self.member.status == UserStatus::Disabled {
            m.status_disabled
        } else if self.is_suspended() {
            m.status_suspended
        } else {
            t.status_active
        }
    }

    pub fn status_class(&self) -> &'static str {
        if self.member.status == UserStatus::Disabled || self.is_suspended() {
            "revoked"
        } else {
            "active"
        }
    }

    pub fn managed_by(&self, org_id: impl std::borrow::Borrow<Uuid>) -> bool {
        self.member.managed_by_org == Some(*org_id.borrow())
    }

    pub fn last_sign_in(&self) -> Option<&DateTime<Utc>> {
        self.member.last_login_at.as_ref()
    }
}

/// The member of this org that the path names; anyone else, or no one, is 404.
pub async fn member_of_org(state: &AppState, admin: &OrgAdmin, req: &HttpRequest) -> Result<MemberView, PageError> {
    let user_id = req
        .match_info()
        .get("userId")
        .and_then(|id| id.parse::<Uuid>().ok())
        .ok_or(PageError::NotFound)?;
    let mut conn = state.pool.acquire().await?;
    let member = store::memberships::find(&mut conn, admin.org_id, user_id)
        .await?
        .ok_or(PageError::NotFound)?;
    Ok(MemberView { member })
}

/// The signed-in admin acting on their org, from where the request came.
fn acting<'a>(admin: &OrgAdmin, origin: &'a Origin) -> Acting<'a> {
    Acting {
        org_id: admin.org_id,
        actor: Actor::User(admin.session.user_id()),
        origin,
    }
}

/// True when the member is the org's only effective admin (the rule `people` enforces).
async fn is_last_admin(state: &AppState, org_id: Uuid, user_id: Uuid) -> Result<bool, PageError> {
    let mut conn = state.pool.acquire().await?;
    Ok(store::memberships::effective_admins(&mut conn, org_id).await? == [user_id])
}

/// The page a refusal of `people` ends in, where no form shows it.
pub(super) fn page_error(err: PeopleError) -> PageError {
    match err {
        PeopleError::NotFound => PageError::NotFound,
        PeopleError::NotManaged | PeopleError::Disabled | PeopleError::OwnAccount | PeopleError::ManagedElsewhere => {
            PageError::Forbidden
        }
        PeopleError::Database(db) => PageError::Database(db),
        PeopleError::Standing(standing) => standing.into(),
        other => PageError::Internal(other.into()),
    }
}
