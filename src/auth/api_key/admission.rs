//! The admission of a keyed request: the whole decision of the key middleware (DESIGN.md section
//! 5, steps 1 to 4, then the key's request rate), as one value, made by one sequence written
//! once:
//!
//! - the token parses and its checksum holds (step 1);
//! - its secret is proven (step 2): against the proof cache, or on a miss after the negative
//!   cache, the failure limit and the fill budget, by a fill (a row read, then argon2id);
//! - the key is still valid (step 3): not revoked, not expired;
//! - the client address is on the org's IP allowlist (step 4);
//! - the key is within its request rate on this instance (`key_rate`).
//!
//! Each step decides, goes on to the next, or stops to wait for the database. `admit` runs the
//! sequence as far as it can without waiting, which on the cached path is to the end; `finish`
//! does the waiting and goes on in the same sequence, so the cached path and the waiting path
//! cannot take the steps in a different order. What the route then checks (steps 5 and 6: the
//! key's org and scopes) is the router's guard, not admission.

use std::net::IpAddr;
use std::sync::Arc;

use subtle::ConstantTimeEq;

use super::failure_limit::Throttled;
use super::key_rate::{Budget, OverLimit};
use super::negative_cache::RefusedId;
use super::{CachedKey, Caller, KeyVerifier, bearer_credentials};
use crate::domain::audit::RefusedBecause;
use crate::domain::policy::AddressPolicy;
use crate::domain::token::{KeyToken, PresentedToken};

/// The admission decision: the caller and its rate budget, or why the request is refused.
pub type Decision = Result<Admitted, Refusal>;

/// A request whose key passed every step.
#[derive(Debug)]
pub struct Admitted {
    pub caller: Caller,
    /// The key's budget after this request, for the answer's `X-RateLimit-*` headers.
    pub budget: Budget,
}

/// Why a request's key was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No bearer token, another scheme, bad structure or checksum.
    Malformed,
    /// A well-formed token whose secret was not proven: all look the same from outside.
    Invalid(Invalid),
    /// The secret was proven, and the key is revoked.
    Revoked,
    /// The secret was proven, and the key has expired.
    Expired,
    /// A miss from an address that failed too often (`failure_limit`).
    TooManyFailures { retry_after_secs: u64 },
    /// A miss while the instance's fill budget is spent (`fill_budget`).
    FillBudgetSpent { retry_after_secs: u64 },
    /// The database or the argon2 pool cannot answer now; fail closed.
    Unavailable,
    /// A valid key, used from an address its org's IP allowlist does not hold.
    AddressNotAllowed,
    /// A valid key over its request rate on this instance (`key_rate`).
    OverRate(OverLimit),
}

/// Why a well-formed token was not proven. The caller is told only that the key is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    /// Nobody issued a key with this public id.
    Unknown,
    /// The secret is not the key's.
    WrongSecret,
    /// The key is revoked; the secret was not checked.
    Revoked,
    /// The key has expired; the secret was not checked.
    Expired,
}

impl Refusal {
    fn too_many_failures(throttled: Throttled) -> Refusal {
        Refusal::TooManyFailures {
            retry_after_secs: throttled.retry_after_secs,
        }
    }
}

/// What `KeyVerifier::admit` decided without waiting.
pub enum Admission {
    Decided(Decision),
    /// The rest of the sequence needs the database (and, on a miss, argon2id): `finish` it.
    Waiting(Waiting),
}

/// A request stopped at a step that waits.
pub struct Waiting {
    ip: IpAddr,
    user_agent: Option<String>,
    at: Wait,
}

/// The steps that wait, each with what it goes on from.
enum Wait {
    /// Step 2 on a miss: a fill for this token and proof.
    Fill { token: KeyToken, proof: [u8; 32] },
    /// Step 3 on a cached entry not yet known to be current: its revocation state is read.
    Confirm(Arc<CachedKey>),
    /// Step 4 when the org's allowlists are not cached (or not trusted): they are read.
    Allowlist(Caller),
}

/// Where a step leaves the request.
enum Step {
    Decided(Decision),
    Wait(Wait),
}

impl KeyVerifier {
    /// Admits the request with this `Authorization` header from `ip` as far as it can without
    /// waiting. `user_agent` is recorded with refused uses.
    pub fn admit(&self, authorization: Option<&str>, ip: IpAddr, user_agent: Option<&str>) -> Admission {
        match self.prove(authorization, ip, user_agent) {
            Step::Decided(decision) => Admission::Decided(decision),
            Step::Wait(at) => Admission::Waiting(Waiting {
                ip,
                user_agent: user_agent.map(str::to_owned),
                at,
            }),
        }
    }

    /// Waits where `admit` stopped, and goes on in the same sequence to a decision.
    pub async fn finish(&self, waiting: Waiting) -> Decision {
        let Waiting { ip, user_agent, mut at } = waiting;
        let user_agent = user_agent.as_deref();
        loop {
            let step = match at {
                Wait::Fill { token, proof } => {
                    let entry = self.fill_coalesced(&token, proof, ip, user_agent).await?;
                    self.proven(entry, ip, user_agent)
                }
                Wait::Confirm(entry) => {
                    self.confirm(&entry).await?;
                    self.current(&entry, ip, user_agent)
                }
                Wait::Allowlist(caller) => {
                    let allowlist = self.read_allowlist(caller.org_id).await?;
                    Step::Decided(self.allowed(&allowlist, caller, user_agent))
                }
            };
            match step {
                Step::Decided(decision) => return decision,
                Step::Wait(next) => at = next,
            }
        }
    }

    /// Steps 1 and 2: parse the token, then prove its secret against the cache, or go to a fill.
    fn prove(&self, authorization: Option<&str>, ip: IpAddr, user_agent: Option<&str>) -> Step {
        let Some(token) = authorization
            .and_then(bearer_credentials)
            .and_then(|value| PresentedToken::parse(value).ok())
        else {
            return Step::Decided(Err(Refusal::Malformed));
        };
        let proof = self.proof(&token);
        let Some(entry) = self.cached(token.public_id()) else {
            return self.missed(&token, proof, ip, user_agent);
        };
        if !bool::from(entry.proof.ct_eq(&proof)) {
            return Step::Decided(Err(Refusal::Invalid(Invalid::WrongSecret)));
        }
        self.proven(entry, ip, user_agent)
    }

    /// Step 2 on a miss: a public id the database refused lately is refused from memory;
    /// otherwise the failure limit, then a fill (which takes from the fill budget).
    fn missed(&self, token: &PresentedToken<'_>, proof: [u8; 32], ip: IpAddr, user_agent: Option<&str>) -> Step {
        if let Some(refused) = self.remembered_refusal(token.public_id()) {
            return Step::Decided(Err(match refused {
                RefusedId::Unknown => Refusal::Invalid(Invalid::Unknown),
                RefusedId::Revoked { key_id, org_id } => {
                    self.reject_use(key_id, org_id, RefusedBecause::Revoked, false, ip, user_agent);
                    Refusal::Invalid(Invalid::Revoked)
                }
            }));
        }
        if let Err(throttled) = self.inner.failure_limit.check(token.public_id(), ip) {
            return Step::Decided(Err(Refusal::too_many_failures(throttled)));
        }
        Step::Wait(Wait::Fill {
            token: token.to_key_token(),
            proof,
        })
    }

    /// The secret is the one verified for `entry`: step 3, once its revocation state is known.
    fn proven(&self, entry: Arc<CachedKey>, ip: IpAddr, user_agent: Option<&str>) -> Step {
        if self.needs_confirmation(&entry) {
            return Step::Wait(Wait::Confirm(entry));
        }
        self.current(&entry, ip, user_agent)
    }

    /// Step 3 on an entry whose revocation state is known, then step 4.
    fn current(&self, entry: &CachedKey, ip: IpAddr, user_agent: Option<&str>) -> Step {
        match self.still_valid(entry, ip, user_agent) {
            Ok(caller) => match self.cached_allowlist(caller.org_id) {
                Some(allowlist) => Step::Decided(self.allowed(&allowlist, caller, user_agent)),
                None => Step::Wait(Wait::Allowlist(caller)),
            },
            Err(refusal) => Step::Decided(Err(refusal)),
        }
    }

    /// Step 4 with the org's allowlists in hand, then the key's rate.
    fn allowed(&self, allowlist: &AddressPolicy, caller: Caller, user_agent: Option<&str>) -> Decision {
        self.judge_address(allowlist, &caller, user_agent)?;
        match caller.rate().admit() {
            Ok(budget) => Ok(Admitted { caller, budget }),
            Err(over) => Err(Refusal::OverRate(over)),
        }
    }
}
