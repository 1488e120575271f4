//! The org's IP allowlist, step 4 of the key middleware. Each org's enabled allowlists are
//! cached together, kept current by the revocation listener (`NOTIFY keyward_policies, '<org
//! id>'` from the policies table's trigger), so a cached key's request with a cached policy
//! reads no row. While the listener is not trusted every request reads its org's allowlists,
//! and answers 503 when the database cannot: never fail open. Fills follow the same generation
//! rule as key proofs: a fill that straddles a notice is not kept.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use uuid::Uuid;

use super::{Caller, DB_WAIT, KeyVerifier, Refusal};
use crate::domain::audit::RefusedBecause;
use crate::domain::policy::{AddressPolicy, PolicyKind};
use crate::service::policies;
use crate::store;

/// Orgs whose allowlists are cached at most; an org that falls out is read again on its next
/// request.
pub(super) const CACHED_ORGS: usize = 100_000;

pub(super) type AddressPolicies = quick_cache::sync::Cache<Uuid, Arc<AddressPolicy>>;

impl KeyVerifier {
    /// The org's enabled allowlists from the cache, while the listener keeps it current.
    pub(super) fn cached_allowlist(&self, org_id: Uuid) -> Option<Arc<AddressPolicy>> {
        if !self.inner.listener_healthy.load(Ordering::SeqCst) {
            return None;
        }
        self.inner.address_policies.get(&org_id)
    }

    /// The org's enabled allowlists from the database, kept while the listener is trusted and
    /// no notice came in between.
    pub(super) async fn read_allowlist(&self, org_id: Uuid) -> Result<Arc<AddressPolicy>, Refusal> {
        let generation = self.inner.generation.load(Ordering::SeqCst);
        self.inner.metrics.policy_reads.fetch_add(1, Ordering::Relaxed);
        let read = async {
            let mut conn = self.inner.pool.acquire().await?;
            store::policies::enabled_rules(&mut conn, org_id, PolicyKind::IpAllowlist.name()).await
        };
        let rules = match tokio::time::timeout(DB_WAIT, read).await {
            Ok(Ok(rules)) => rules,
            _ => return Err(Refusal::Unavailable),
        };
        let policy = Arc::new(AddressPolicy::of(policies::allowlists(&rules)));
        if self.inner.listener_healthy.load(Ordering::SeqCst) {
            self.inner.address_policies.insert(org_id, policy.clone());
            // A change marked between the read and the insert found nothing to forget: this
            // read may predate it, so it is not kept.
            if self.inner.generation.load(Ordering::SeqCst) != generation {
                self.inner.address_policies.remove(&org_id);
            }
        }
        Ok(policy)
    }

    /// Whether the caller's address is allowed; a refusal is recorded as a refused use.
    pub(super) fn judge_address(
        &self,
        policy: &AddressPolicy,
        caller: &Caller,
        user_agent: Option<&str>,
    ) -> Result<(), Refusal> {
        if policy.admits(caller.ip) {
            return Ok(());
        }
        let (key_id, org_id, ip) = (caller.key_id, caller.org_id, caller.ip);
        self.reject_use(key_id, org_id, RefusedBecause::AddressNotAllowed, true, ip, user_agent);
        Err(Refusal::AddressNotAllowed)
    }

    /// The org's policies changed (a notice, or a change this instance committed): its next
    /// request reads them anew, and fills in flight are not kept.
    pub fn policies_changed(&self, org_id: Uuid) {
        self.inner.generation.fetch_add(1, Ordering::SeqCst);
        self.inner.address_policies.remove(&org_id);
    }

    /// After the listener (re)connects: notices may have been missed, so every org's policies
    /// are read anew.
    pub(super) fn forget_policies(&self) {
        self.inner.generation.fetch_add(1, Ordering::SeqCst);
        self.inner.address_policies.clear();
    }
}
