//! Verification of admin API keys (DESIGN.md section 5). A presented token is parsed and its
//! checksum checked with no I/O; then its secret is proven against a per-process cache of keyed
//! hashes, so argon2id runs once per key and process, never per request. The cache entry of a
//! public id holds the proof, the key's immutable facts and its revocation state together,
//! kept current by `LISTEN keyward_keys` (see `listener`). Misses are limited (`failure_limit`,
//! `fill_budget`, `negative_cache`), coalesced, and verified on a bounded blocking pool. The
//! order of the steps, from the token to the key's rate, is `admission`.
//!
//! The proof cache is quick_cache, with coalescing written here (`fill_coalesced`), not moka's
//! `try_get_with`, which DESIGN.md names. Three reasons, each measured or tested:
//! - The cached path reads it on every keyed request. A hit in moka 0.12's sync cache costs
//!   about 1,000 instructions (it records the read for its admission policy and checks
//!   expiry); in quick_cache 0.6 about 200, a lookup under a shard's read lock (callgrind,
//!   1,000 public ids looked up by `&str`): about 1 % of a keyed answer, against a budget of
//!   0.85 times the bare route's throughput (`bench/callgrind.sh` measures the whole answer).
//! - Misses must coalesce on the public id and the keyed hash of the presented secret, never
//!   on the public id alone, or a wrong secret would share a right one's result; moka coalesces
//!   on its cache key, which is the public id, so revocation notices can find the entry.
//! - A fill must outlive the request that started it: moka's sync cache blocks the waiting
//!   threads (actix's async workers), and its future cache runs the fill inside the first
//!   waiter's future, so a client that hangs up cancels it and the next waiter starts a second
//!   row read and argon2id. Here the fill is a task of its own that holds its slot until its
//!   result is cached or failed (tested by
//!   `a_fill_whose_first_waiter_is_dropped_still_serves_the_next_99_with_one_argon2`).
//!
//! The failure limits, the negative cache and the background writes' throttle are moka caches:
//! they are read only on misses and refusals, and they need moka's time to live.

mod admission;
mod allowlist;
mod background;
mod failure_limit;
mod fill_budget;
pub mod key_rate;
mod listener;
mod negative_cache;

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use sqlx::PgPool;
use subtle::ConstantTimeEq;
use tokio::sync::{Semaphore, watch};
use uuid::Uuid;

use crate::auth::argon2id;
use crate::domain::audit::RefusedBecause;
use crate::domain::token::{KeyToken, PresentedToken, PublicId};
use crate::domain::{OrgId, Scope};
use crate::metrics::Metrics;
use crate::store;
pub use admission::{Admission, Admitted, Decision, Invalid, Refusal, Waiting};
use allowlist::AddressPolicies;
use background::{BackgroundWrites, RejectedUse};
use failure_limit::FailureLimiter;
use fill_budget::FillBudget;
use key_rate::KeyRate;
use negative_cache::{NegativeCache, RefusedId};

/// How long a request may wait for the database (connection and read) before it is answered 503.
const DB_WAIT: Duration = Duration::from_secs(1);

/// What never changes about a key (the triggers of the `api_keys` table guarantee it), shared
/// between its cache entry and every request it makes.
#[derive(Debug)]
pub struct KeyFacts {
    pub key_id: Uuid,
    pub public_id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub org_id: Uuid,
    pub scoped: bool,
    pub scopes: Vec<Scope>,
    /// The person answerable for the key (its creator, or its creator's creator).
    pub responsible_user_id: Option<Uuid>,
    pub expires_at: DateTime<Utc>,
    /// What `GET /admin/v1/key` answers for this key, rendered on its first use: it is made of
    /// the facts above alone, which never change.
    pub description: OnceLock<Bytes>,
}

impl KeyFacts {
    /// The org the key belongs to.
    pub fn org(&self) -> OrgId {
        OrgId::from(self.org_id)
    }
}

/// A caller whose key was proven and is valid now. Derefs to the key's facts.
#[derive(Debug, Clone)]
pub struct Caller {
    facts: Arc<KeyFacts>,
    rate: Arc<KeyRate>,
    pub ip: IpAddr,
}

impl std::ops::Deref for Caller {
    type Target = KeyFacts;

    fn deref(&self) -> &KeyFacts {
        &self.facts
    }
}

impl Caller {
    /// True when the key may call an endpoint needing `scope`: an unscoped key may call all.
    pub fn has_scope(&self, scope: Scope) -> bool {
        !self.scoped || self.scopes.contains(&scope)
    }

    /// The key's request rate limit on this instance, checked by admission only.
    fn rate(&self) -> &KeyRate {
        &self.rate
    }
}

/// One cached proof: the keyed hash of the secret verified for a public id, the key's facts
/// and its revocation state, together, so no eviction can separate a proof from its revoked mark.
struct CachedKey {
    proof: [u8; 32],
    facts: Arc<KeyFacts>,
    /// The key's request budget on this instance, checked on every request it makes.
    rate: Arc<KeyRate>,
    revoked: AtomicBool,
    /// False until no revocation can have slipped between the fill's row read and its insert
    /// into the cache (see `fill`); an unconfirmed entry is checked against the database.
    confirmed: AtomicBool,
    /// Unix seconds of the last recorded use, so last use is written about once a minute.
    last_use_recorded: AtomicI64,
}

type FillResult = Result<Arc<CachedKey>, Refusal>;
/// Concurrent misses coalesce on the public id and the keyed hash of the presented secret,
/// never on the public id alone (a wrong secret must not share a right one's result).
type FillSlot = (String, [u8; 32]);
/// The fills in progress: each slot's receiver gets the fill's result when it is done.
type Fills = Mutex<HashMap<FillSlot, watch::Receiver<Option<FillResult>>>>;

/// Settings of the verifier.
#[derive(Debug, Clone)]
pub struct VerifierSettings {
    /// Proofs kept in memory at most.
    pub cache_capacity: usize,
    /// argon2 verifications run at once, and how many more may wait before 503.
    pub argon2_concurrency: usize,
    pub argon2_queue: usize,
    /// Wrong secrets a minute for one key from one address (an IPv6 /64).
    pub wrong_secrets_per_key_and_address: u32,
    /// Failures a minute (wrong secrets and unknown public ids) from one address.
    pub failures_per_address: u32,
    /// The instance's fill budget: fills started per second, and the burst allowed.
    pub fills_per_second: u32,
    pub fill_burst: u32,
    /// Requests a minute each key may make (`key_rate::KeyRate`).
    pub api_rate_limit: NonZeroU32,
}

impl Default for VerifierSettings {
    fn default() -> VerifierSettings {
        let cores = std::thread::available_parallelism().map(usize::from).unwrap_or(2);
        let (argon2_concurrency, argon2_queue) = (cores, cores * 8);
        VerifierSettings {
            cache_capacity: 1_000_000,
            argon2_concurrency,
            argon2_queue,
            wrong_secrets_per_key_and_address: 10,
            failures_per_address: 30,
            // About what the argon2 pool verifies in a second; a burst at least the pool and its
            // queue, so a restart's wave of first requests is not refused by the budget first.
            fills_per_second: u32::try_from(cores * 25).unwrap_or(u32::MAX),
            fill_burst: u32::try_from((argon2_concurrency + argon2_queue).max(64)).unwrap_or(u32::MAX),
            api_rate_limit: NonZeroU32::new(key_rate::DEFAULT_PER_MINUTE).unwrap_or(NonZeroU32::MAX),
        }
    }
}

#[derive(Clone)]
pub struct KeyVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    pool: PgPool,
    proofs: quick_cache::sync::Cache<String, Arc<CachedKey>>,
    /// Each org's enabled IP allowlists (step 4), kept current like the revocation state.
    address_policies: AddressPolicies,
    /// HMAC keyed with a per-process random key (its key schedule computed once): a memory dump
    /// of one instance proves nothing anywhere else, and nothing derived from a secret ever
    /// leaves the process.
    proof_mac: Hmac<Sha256>,
    /// argon2 working memory (19 MiB each), reused; at most one per argon2 permit.
    argon2_memory: Mutex<Vec<Vec<argon2::Block>>>,
    /// Bumped by every revocation or policy notice and every listener state change; see `fill`.
    generation: AtomicU64,
    listener_healthy: AtomicBool,
    fills: Fills,
    fill_budget: FillBudget,
    negative_cache: NegativeCache,
    argon2_permits: Arc<Semaphore>,
    /// Places to wait for an argon2 permit; a request that finds none is answered 503.
    argon2_queue: Semaphore,
    failure_limit: FailureLimiter,
    api_rate_limit: NonZeroU32,
    metrics: Arc<Metrics>,
    background: BackgroundWrites,
}

impl KeyVerifier {
    /// Builds the verifier and starts its revocation listener and background writers on the
    /// current runtime.
    pub fn start(pool: PgPool, metrics: Arc<Metrics>, settings: VerifierSettings) -> KeyVerifier {
        let inner = Arc::new(Inner {
            background: BackgroundWrites::start(pool.clone(), metrics.clone()),
            pool,
            proofs: quick_cache::sync::Cache::new(settings.cache_capacity),
            address_policies: quick_cache::sync::Cache::new(allowlist::CACHED_ORGS),
            // Cannot fail: HMAC takes keys of any length.
            proof_mac: Hmac::<Sha256>::new_from_slice(&crate::random::bytes::<32>())
                .expect("HMAC accepts any key length"),
            argon2_memory: Mutex::new(Vec::new()),
            generation: AtomicU64::new(0),
            listener_healthy: AtomicBool::new(false),
            fills: Mutex::new(HashMap::new()),
            fill_budget: FillBudget::new(settings.fills_per_second, settings.fill_burst),
            negative_cache: NegativeCache::new(100_000),
            argon2_permits: Arc::new(Semaphore::new(settings.argon2_concurrency.max(1))),
            argon2_queue: Semaphore::new(settings.argon2_queue),
            failure_limit: FailureLimiter::new(
                settings.wrong_secrets_per_key_and_address,
                settings.failures_per_address,
            ),
            api_rate_limit: settings.api_rate_limit,
            metrics,
        });
        let verifier = KeyVerifier { inner };
        listener::spawn(verifier.clone());
        verifier
    }

    pub fn cached_proofs(&self) -> u64 {
        self.inner.proofs.len() as u64
    }

    fn proof(&self, token: &PresentedToken<'_>) -> [u8; 32] {
        let mut mac = self.inner.proof_mac.clone();
        mac.update(token.public_id().as_bytes());
        mac.update(b"\0");
        mac.update(token.expose_secret().as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The cached entry of a public id, counted as a hit or a miss.
    fn cached(&self, public_id: &str) -> Option<Arc<CachedKey>> {
        let entry = self.inner.proofs.get(public_id);
        let counter = match entry {
            Some(_) => &self.inner.metrics.proof_cache_hits,
            None => &self.inner.metrics.proof_cache_misses,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        entry
    }

    /// What the negative cache remembers of a public id, counted when it remembers something.
    fn remembered_refusal(&self, public_id: &str) -> Option<RefusedId> {
        let refused = self.inner.negative_cache.get(public_id);
        if refused.is_some() {
            self.inner.metrics.refused_id_hits.fetch_add(1, Ordering::Relaxed);
        }
        refused
    }

    /// Revocation is known from the cache only while the listener is healthy and the entry
    /// confirmed; otherwise (unless the entry is already marked revoked) the database says.
    fn needs_confirmation(&self, entry: &CachedKey) -> bool {
        let trusted = self.inner.listener_healthy.load(Ordering::SeqCst) && entry.confirmed.load(Ordering::SeqCst);
        !trusted && !entry.revoked.load(Ordering::SeqCst)
    }

    /// Reads the revocation state of an entry that needs confirmation (see `needs_confirmation`).
    async fn confirm(&self, entry: &CachedKey) -> Result<(), Refusal> {
        match self.read_revoked(entry.facts.key_id).await? {
            // Not revoked when read. While the entry stays in the cache, any later
            // revocation's mark finds it, so it needs no more reads.
            Some(false) => entry.confirmed.store(true, Ordering::SeqCst),
            // Revoked (or gone): this request is refused whatever the cache holds now; the
            // entry this request judges may have left the cache since it was looked up.
            Some(true) | None => {
                entry.revoked.store(true, Ordering::SeqCst);
                self.mark_revoked(&entry.facts.public_id);
            }
        }
        Ok(())
    }

    /// Step 3 on a proven key whose revocation state is known: revoked or expired (checked on
    /// every request) is refused; otherwise the caller may go on, and its use is noted.
    fn still_valid(&self, entry: &CachedKey, ip: IpAddr, user_agent: Option<&str>) -> Result<Caller, Refusal> {
        if entry.revoked.load(Ordering::SeqCst) {
            self.reject_use(
                entry.facts.key_id,
                entry.facts.org_id,
                RefusedBecause::Revoked,
                true,
                ip,
                user_agent,
            );
            return Err(Refusal::Revoked);
        }
        // The system clock compared with the expiry as a timestamp: no calendar arithmetic on
        // the request path.
        let now = SystemTime::now();
        if now >= SystemTime::from(entry.facts.expires_at) {
            self.reject_use(
                entry.facts.key_id,
                entry.facts.org_id,
                RefusedBecause::Expired,
                true,
                ip,
                user_agent,
            );
            return Err(Refusal::Expired);
        }
        let unix_seconds = now.duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs());
        self.note_use(entry, i64::try_from(unix_seconds).unwrap_or(i64::MAX), ip);
        Ok(Caller {
            facts: entry.facts.clone(),
            rate: entry.rate.clone(),
            ip,
        })
    }

    async fn read_revoked(&self, key_id: Uuid) -> Result<Option<bool>, Refusal> {
        self.inner.metrics.key_revocation_reads.fetch_add(1, Ordering::Relaxed);
        let read = async {
            let mut conn = self.inner.pool.acquire().await?;
            store::api_keys::is_revoked(&mut conn, key_id).await
        };
        match tokio::time::timeout(DB_WAIT, read).await {
            Ok(Ok(revoked)) => Ok(revoked),
            _ => Err(Refusal::Unavailable),
        }
    }

    /// Misses with the same public id and the same presented secret share one fill, so a
    /// hundred first requests with a new key cost one argon2 verification. The fill runs as a
    /// task of its own that holds its slot until its result is in the cache or it failed:
    /// waiters that hang up neither stop it nor let a second fill start beside it.
    async fn fill_coalesced(
        &self,
        token: &KeyToken,
        proof: [u8; 32],
        ip: IpAddr,
        user_agent: Option<&str>,
    ) -> FillResult {
        let public_id = token.public_id();
        let slot = (public_id.as_str().to_owned(), proof);
        let mut result = {
            let mut fills = self.inner.fills.lock().map_err(|_| Refusal::Unavailable)?;
            match fills.get(&slot) {
                Some(fill) => fill.clone(),
                None => {
                    // A fill that ended since `admit` put its proof in the cache before it
                    // left the map.
                    if let Some(entry) = self.inner.proofs.get(public_id.as_str()) {
                        return match bool::from(entry.proof.ct_eq(&proof)) {
                            true => Ok(entry),
                            false => Err(Refusal::Invalid(Invalid::WrongSecret)),
                        };
                    }
                    if let Err(spent) = self.inner.fill_budget.take() {
                        return Err(Refusal::FillBudgetSpent {
                            retry_after_secs: spent.retry_after_secs,
                        });
                    }
                    let (done, result) = watch::channel(None);
                    fills.insert(slot.clone(), result.clone());
                    let slot = FillSlotGuard {
                        inner: self.inner.clone(),
                        slot,
                        result: result.clone(),
                    };
                    let (verifier, public_id, secret) = (self.clone(), public_id.clone(), token.secret().clone());
                    let user_agent = user_agent.map(str::to_owned);
                    tokio::spawn(async move {
                        let filled = verifier
                            .fill(&public_id, proof, secret, ip, user_agent.as_deref())
                            .await;
                        drop(slot);
                        done.send_replace(Some(filled));
                    });
                    result
                }
            }
        };
        match result.wait_for(Option::is_some).await {
            Ok(filled) => filled.clone().unwrap_or(Err(Refusal::Unavailable)),
            // The fill's task ended without a result (it panicked).
            Err(_) => Err(Refusal::Unavailable),
        }
    }

    /// Reads the row, verifies the secret with argon2id, caches the proof; counts a failure
    /// against the failure limit and remembers a refused public id.
    async fn fill(
        &self,
        public_id: &PublicId,
        proof: [u8; 32],
        secret: SecretString,
        ip: IpAddr,
        user_agent: Option<&str>,
    ) -> FillResult {
        let result = self.fill_uncounted(public_id, proof, secret, ip, user_agent).await;
        match result {
            Err(Refusal::Invalid(Invalid::WrongSecret)) => {
                self.inner.failure_limit.record_wrong_secret(public_id.as_str(), ip);
            }
            Err(Refusal::Invalid(Invalid::Unknown)) => {
                self.inner.failure_limit.record_unknown(ip);
                self.inner
                    .negative_cache
                    .remember(public_id.as_str(), RefusedId::Unknown);
            }
            _ => {}
        }
        result
    }

    /// The generation counter is sampled before the row read and checked after the insert: if
    /// a revocation was marked in between (when this entry was not there to be marked), the
    /// entry stays unconfirmed and every use checks the database until one read confirms it.
    async fn fill_uncounted(
        &self,
        public_id: &PublicId,
        proof: [u8; 32],
        secret: SecretString,
        ip: IpAddr,
        user_agent: Option<&str>,
    ) -> FillResult {
        let generation = self.inner.generation.load(Ordering::SeqCst);
        self.inner.metrics.key_row_reads.fetch_add(1, Ordering::Relaxed);
        let read = async {
            let mut conn = self.inner.pool.acquire().await?;
            store::api_keys::for_verification(&mut conn, public_id).await
        };
        let row = match tokio::time::timeout(DB_WAIT, read).await {
            Ok(Ok(row)) => row,
            _ => return Err(Refusal::Unavailable),
        };
        let Some(row) = row else {
            return Err(Refusal::Invalid(Invalid::Unknown));
        };
        if row.revoked_at.is_some() {
            // A racing fill with another secret may have cached this key: mark it too.
            if let Some(entry) = self.inner.proofs.get(public_id.as_str()) {
                entry.revoked.store(true, Ordering::SeqCst);
            }
            let refused = RefusedId::Revoked {
                key_id: row.id,
                org_id: row.org_id,
            };
            self.inner.negative_cache.remember(public_id.as_str(), refused);
            self.reject_use(row.id, row.org_id, RefusedBecause::Revoked, false, ip, user_agent);
            return Err(Refusal::Invalid(Invalid::Revoked));
        }
        if Utc::now() >= row.expires_at {
            self.reject_use(row.id, row.org_id, RefusedBecause::Expired, false, ip, user_agent);
            return Err(Refusal::Invalid(Invalid::Expired));
        }

        if !self.verify_secret(row.secret_hash.clone(), secret).await? {
            return Err(Refusal::Invalid(Invalid::WrongSecret));
        }
        let entry = Arc::new(CachedKey {
            proof,
            facts: Arc::new(KeyFacts {
                key_id: row.id,
                public_id: public_id.as_str().to_owned(),
                name: row.name,
                created_at: row.created_at,
                org_id: row.org_id,
                scoped: row.scoped,
                scopes: row.scopes,
                responsible_user_id: row.responsible_user_id,
                expires_at: row.expires_at,
                description: OnceLock::new(),
            }),
            rate: Arc::new(KeyRate::new(self.inner.api_rate_limit)),
            revoked: AtomicBool::new(false),
            confirmed: AtomicBool::new(false),
            last_use_recorded: AtomicI64::new(0),
        });
        self.inner.proofs.insert(public_id.as_str().to_owned(), entry.clone());
        if self.inner.generation.load(Ordering::SeqCst) == generation {
            entry.confirmed.store(true, Ordering::SeqCst);
        }
        Ok(entry)
    }

    /// Runs argon2id on the API's own bounded pool (apart from the console's, so an API flood
    /// cannot block people signing in); 503 when every place in its queue is taken.
    async fn verify_secret(&self, secret_hash: String, secret: SecretString) -> Result<bool, Refusal> {
        let metrics = self.inner.metrics.clone();
        let permit = match self.inner.argon2_permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                let _place = self
                    .inner
                    .argon2_queue
                    .try_acquire()
                    .map_err(|_| Refusal::Unavailable)?;
                let _waiting = GaugeGuard::enter(&metrics.argon2_waiting);
                self.inner
                    .argon2_permits
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(|_| Refusal::Unavailable)?
            }
        };
        metrics.argon2_started.fetch_add(1, Ordering::Relaxed);
        let inner = self.inner.clone();
        let verified = tokio::task::spawn_blocking(move || {
            let _running = GaugeGuard::enter(&metrics.argon2_in_flight);
            let mut memory = inner
                .argon2_memory
                .lock()
                .ok()
                .and_then(|mut pool| pool.pop())
                .unwrap_or_default();
            let verified = argon2id::verify_with_memory(secret.expose_secret().as_bytes(), &secret_hash, &mut memory);
            if let Ok(mut pool) = inner.argon2_memory.lock() {
                pool.push(memory);
            }
            metrics.argon2_finished.fetch_add(1, Ordering::Relaxed);
            drop(permit);
            verified
        })
        .await;
        verified.map_err(|_| Refusal::Unavailable)
    }

    fn note_use(&self, entry: &CachedKey, now: i64, ip: IpAddr) {
        let last = entry.last_use_recorded.load(Ordering::Relaxed);
        if now - last >= 60
            && entry
                .last_use_recorded
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.inner.background.last_use(entry.facts.key_id, ip);
        }
    }

    /// `proven`: whether the caller showed the right secret (else anyone who knows the public
    /// id could have sent it).
    fn reject_use(
        &self,
        key_id: Uuid,
        org_id: Uuid,
        reason: RefusedBecause,
        proven: bool,
        ip: IpAddr,
        user_agent: Option<&str>,
    ) {
        self.inner.background.rejected_use(RejectedUse {
            key_id,
            org_id,
            reason,
            proven,
            ip,
            user_agent,
        });
    }

    /// Marks a key revoked in this instance's cache (after a local revocation commits, or on a
    /// notice) and moves the generation so racing fills re-check.
    pub fn mark_revoked(&self, public_id: &str) {
        self.inner.generation.fetch_add(1, Ordering::SeqCst);
        if let Some(entry) = self.inner.proofs.get(public_id) {
            entry.revoked.store(true, Ordering::SeqCst);
        }
    }
}

/// Frees a fill's slot in the coalescing map when its task ends, however it ends.
struct FillSlotGuard {
    inner: Arc<Inner>,
    slot: FillSlot,
    result: watch::Receiver<Option<FillResult>>,
}

impl Drop for FillSlotGuard {
    fn drop(&mut self) {
        if let Ok(mut fills) = self.inner.fills.lock()
            && fills
                .get(&self.slot)
                .is_some_and(|current| current.same_channel(&self.result))
        {
            fills.remove(&self.slot);
        }
    }
}

/// The credentials of an `Authorization: Bearer <token>` header; the scheme is matched
/// without regard to case (RFC 7235).
fn bearer_credentials(authorization: &str) -> Option<&str> {
    const SCHEME: &str = "bearer ";
    let (scheme, credentials) = authorization.split_at_checked(SCHEME.len())?;
    scheme.eq_ignore_ascii_case(SCHEME).then(|| credentials.trim_ascii())
}

/// Counts itself in a gauge while alive.
struct GaugeGuard<'a>(&'a AtomicI64);

impl GaugeGuard<'_> {
    fn enter(gauge: &AtomicI64) -> GaugeGuard<'_> {
        gauge.fetch_add(1, Ordering::Relaxed);
        GaugeGuard(gauge)
    }
}

impl Drop for GaugeGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::argon2id::Argon2Pool;
    use crate::domain::actor::Actor;
    use crate::domain::api_key::{AskedExpiry, KeyName};
    use crate::domain::{KeyId, KeyScopes};
    use crate::service::keys::{self, KeyRequest};
    use crate::store::test_database::database;

    #[test]
    fn the_bearer_scheme_is_matched_whatever_its_case_and_the_rest_is_the_credentials() {
        for (header, credentials) in [
            ("Bearer kw_abc", Some("kw_abc")),
            ("bearer kw_abc", Some("kw_abc")),
            ("BEARER   kw_abc \t", Some("kw_abc")),
            ("Bearer ", Some("")),
            ("Bearer", None),
            ("Bearerkw_abc", None),
            ("Basic kw_abc", None),
            ("Bearé kw_abc", None),
            ("", None),
        ] {
            assert_eq!(bearer_credentials(header), credentials, "{header:?}");
        }
    }

    async fn new_key(pool: &PgPool, org_id: Uuid) -> (Uuid, KeyToken) {
        let request = KeyRequest {
            org_id: OrgId::from(org_id),
            name: KeyName::parse("unit").expect("name"),
            scopes: KeyScopes::Unscoped,
            expiry: AskedExpiry::InDays(1),
            created_by: Actor::System,
            responsible_user_id: None,
            origin: Default::default(),
        };
        let created = keys::create(pool, &Argon2Pool::new(1), &request).await.expect("key");
        (created.id.uuid(), created.token)
    }

    fn header(token: &KeyToken) -> String {
        format!("Bearer {}", token.expose_token())
    }

    const IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[tokio::test]
    async fn a_database_read_that_says_revoked_refuses_the_request_even_after_its_entry_left_the_cache() {
        let (pool, _cluster) = database().await;
        let mut conn = pool.acquire().await.expect("connection");
        let org = store::orgs::create(&mut conn, &crate::domain::OrgName::parse("Acme").expect("name"))
            .await
            .expect("org")
            .id;
        let (key_id, token) = new_key(&pool, org).await;
        let settings = VerifierSettings {
            cache_capacity: 1,
            ..VerifierSettings::default()
        };
        let verifier = KeyVerifier::start(pool.clone(), Arc::new(Metrics::default()), settings);
        let Admission::Waiting(first) = verifier.admit(Some(&header(&token)), IP, None) else {
            panic!("a new key misses the cache");
        };
        verifier.finish(first).await.expect("a good key");
        let public_id = token.public_id().as_str();
        // As when the fill straddled a revocation notice: the entry must be confirmed by a read.
        let entry = verifier.inner.proofs.get(public_id).expect("cached");
        entry.confirmed.store(false, Ordering::SeqCst);

        let Admission::Waiting(pending) = verifier.admit(Some(&header(&token)), IP, None) else {
            panic!("an unconfirmed entry is checked against the database");
        };
        // Evicted meanwhile (the cache holds one entry and another key came along).
        verifier.inner.proofs.remove(public_id);
        keys::revoke(
            &pool,
            None,
            OrgId::from(org),
            KeyId::from(key_id),
            Actor::System,
            &Default::default(),
        )
        .await
        .expect("revoke");

        assert!(matches!(verifier.finish(pending).await, Err(Refusal::Revoked)));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_fill_whose_first_waiter_is_dropped_still_serves_the_next_99_with_one_argon2() {
        let (pool, _cluster) = database().await;
        let mut conn = pool.acquire().await.expect("connection");
        let org = store::orgs::create(&mut conn, &crate::domain::OrgName::parse("Acme").expect("name"))
            .await
            .expect("org")
            .id;
        drop(conn);
        let (_, token) = new_key(&pool, org).await;
        let metrics = Arc::new(Metrics::default());
        let verifier = KeyVerifier::start(pool.clone(), metrics.clone(), VerifierSettings::default());

        // The database stalls the fill's row read until the lock is released.
        let mut stall = pool.begin().await.expect("transaction");
        sqlx::query("LOCK TABLE api_keys IN ACCESS EXCLUSIVE MODE")
            .execute(&mut *stall)
            .await
            .expect("lock");
        let Admission::Waiting(first) = verifier.admit(Some(&header(&token)), IP, None) else {
            panic!("a new key misses the cache");
        };
        let hung_up = tokio::spawn({
            let verifier = verifier.clone();
            async move { verifier.finish(first).await.is_ok() }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        hung_up.abort();
        let mut waiters = Vec::new();
        for _ in 0..99 {
            let Admission::Waiting(pending) = verifier.admit(Some(&header(&token)), IP, None) else {
                panic!("still a miss while the fill waits");
            };
            let verifier = verifier.clone();
            waiters.push(tokio::spawn(async move { verifier.finish(pending).await.is_ok() }));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        stall.rollback().await.expect("release the lock");

        for waiter in waiters {
            assert!(waiter.await.expect("waiter"), "served");
        }
        assert_eq!(metrics.argon2_started.load(Ordering::Relaxed), 1);
    }
}
