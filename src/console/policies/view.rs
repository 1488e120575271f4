//! What the policies pages share: the policy of this org a path names, a stored policy read
//! into its parsed rule, and the one way the console changes policies (`policies::Change`,
//! acting as the signed-in admin from the request's address).

use std::net::IpAddr;

use actix_web::HttpRequest;
use uuid::Uuid;

use crate::console::PageError;
use crate::console::redirect;
use crate::console::session::OrgAdmin;
use crate::domain::PolicyName;
use crate::domain::actor::Actor;
use crate::domain::policy::{PolicyKind, PolicyRule, PolicyStatus};
use crate::service::policies::{Change, PolicyChangeError, PolicyInput};
use crate::state::AppState;
use crate::store;
use crate::store::audit::{Acting, Origin};
use crate::store::policies::PolicyRow;

/// A stored policy with its type, status and rule parsed.
#[derive(Debug, Clone)]
pub struct Policy {
    pub row: PolicyRow,
    pub kind: PolicyKind,
    pub enabled: bool,
    pub rule: PolicyRule,
}

impl Policy {
    /// A row the API or the console wrote always parses (both parse before they write, and the
    /// table's CHECKs hold the shape); one that does not is damage, not a page to show.
    pub fn read(row: PolicyRow) -> Result<Policy, PageError> {
        let damaged = || PageError::Internal(anyhow::anyhow!("policy {} cannot be read", row.id));
        let kind = PolicyKind::parse(&row.kind).map_err(|_| damaged())?;
        let enabled = PolicyStatus::parse(&row.status).map_err(|_| damaged())? == PolicyStatus::Enabled;
        let rule = PolicyRule::parse(kind, &row.rule).map_err(|_| damaged())?;
        Ok(Policy {
            row,
            kind,
            enabled,
            rule,
        })
    }

    /// The policy as it is, with another status: what enabling it writes.
    pub fn with_status(&self, status: PolicyStatus) -> Result<PolicyInput, PageError> {
        let name = PolicyName::parse(&self.row.name)
            .map_err(|_| PageError::Internal(anyhow::anyhow!("policy {} has an unreadable name", self.row.id)))?;
        Ok(PolicyInput {
            name,
            status,
            rule: self.rule.clone(),
            resources: self.row.resources.clone(),
        })
    }

    /// The allowlist's ranges as text, one per entry; empty for a lifetime policy.
    pub fn ranges(&self) -> Vec<String> {
        match &self.rule {
            PolicyRule::IpAllowlist(list) => list.ranges().iter().map(ToString::to_string).collect(),
            PolicyRule::KeyLifetime(_) => Vec::new(),
        }
    }

    pub fn max_days(&self) -> Option<u16> {
        match &self.rule {
            PolicyRule::KeyLifetime(lifetime) => Some(lifetime.max_days()),
            PolicyRule::IpAllowlist(_) => None,
        }
    }

    /// Whether this allowlist leaves out `ip` (a lifetime policy leaves out no one).
    pub fn excludes(&self, ip: Option<IpAddr>) -> bool {
        match (&self.rule, ip) {
            (PolicyRule::IpAllowlist(list), Some(ip)) => !list.admits(ip),
            _ => false,
        }
    }
}

/// The policy of this org that the path names; another org's, or none, is 404.
pub async fn policy_of_org(state: &AppState, admin: &OrgAdmin, req: &HttpRequest) -> Result<Policy, PageError> {
    let id = req
        .match_info()
        .get("policyId")
        .and_then(|id| id.parse::<Uuid>().ok())
        .ok_or(PageError::NotFound)?;
    let mut conn = state.pool.acquire().await?;
    let row = store::policies::get(&mut conn, admin.org_id, id)
        .await?
        .ok_or(PageError::NotFound)?;
    Policy::read(row)
}

/// A change made by the signed-in admin, from where the request came; this instance forgets
/// the org's cached policies before it answers, every other instance on the commit's notice.
pub fn change<'a>(state: &'a AppState, admin: &OrgAdmin, origin: &'a Origin) -> Change<'a> {
    Change {
        pool: &state.pool,
        verifier: Some(&state.verifier),
        acting: Acting {
            org_id: admin.org_id,
            actor: Actor::User(admin.session.user_id()),
            origin,
        },
    }
}

impl From<PolicyChangeError> for PageError {
    fn from(err: PolicyChangeError) -> PageError {
        match err {
            // The type comes from the stored row, so a change of type is a policy that vanished.
            PolicyChangeError::NotFound | PolicyChangeError::TypeChange(_) => PageError::NotFound,
            PolicyChangeError::Standing(standing) => standing.into(),
            PolicyChangeError::Database(db) => db.into(),
        }
    }
}

/// The list page after a change, with its notice.
pub fn back_to_list(admin: &OrgAdmin, done: &str) -> actix_web::HttpResponse {
    redirect::to(admin.urls().policies().with("done", done))
}

/// The address keyward sees the request come from, as the allowlist would judge it.
pub fn requester_ip(req: &HttpRequest, state: &AppState) -> Option<IpAddr> {
    crate::console::origin(req, state).ip.map(|ip| ip.to_canonical())
}
