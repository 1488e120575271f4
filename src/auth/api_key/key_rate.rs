//! The per-key request rate limit of the admin API: one GCRA (governor's, with its
//! `StateInformationMiddleware` for the remaining budget) per key and instance, kept in the key's
//! proof-cache entry and reached from its `Caller`, so a check is one compare-and-swap on that
//! key's own state: no lock or map shared by all keys, no database.
//!
//! Each instance counts on its own (DESIGN.md section 2): behind a load balancer spreading a
//! script over N instances, the script may send up to N times the limit. The budget of a key
//! lives as long as its cache entry; an entry evicted and filled again starts full, which takes
//! a cache miss (a row read and argon2id, themselves limited), so it is no way around the limit.

use std::num::NonZeroU32;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};

/// The default limit, in requests a minute per key and instance: 100 a second sustained, far
/// above what any script paging through an organization needs, with a whole minute's worth as
/// its burst, so a script that pages flat out is not slowed for its first 6,000 requests.
pub const DEFAULT_PER_MINUTE: u32 = 6_000;

/// The rate limit of one key on this instance: `per_minute` requests a minute, all of which may
/// come at once after a quiet minute (the bucket holds a minute's worth, and one request's
/// worth comes back every minute / `per_minute`).
pub struct KeyRate {
    limiter: RateLimiter<NotKeyed, InMemoryState, DefaultClock, StateInformationMiddleware>,
    per_minute: u32,
    /// The time one request's worth takes to come back.
    interval: Duration,
}

/// The key's budget as a request leaves the limiter, for the `X-RateLimit-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// The most requests the key may send at once (its requests a minute).
    pub limit: u32,
    /// How many more it may send right now.
    pub remaining: u32,
    /// Unix seconds (rounded up) by which the budget is full again if the key sends nothing.
    pub full_at: u64,
}

/// Over the limit: the budget (nothing remaining) and the whole seconds to wait, at least 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverLimit {
    pub budget: Budget,
    pub retry_after_secs: u64,
}

impl KeyRate {
    pub fn new(per_minute: NonZeroU32) -> KeyRate {
        let quota = Quota::per_minute(per_minute);
        KeyRate {
            limiter: RateLimiter::direct_with_clock(quota, DefaultClock::default())
                .with_middleware::<StateInformationMiddleware>(),
            per_minute: per_minute.get(),
            interval: quota.replenish_interval(),
        }
    }

    /// Counts one request: admitted with the budget left, or refused with when to retry.
    pub fn admit(&self) -> Result<Budget, OverLimit> {
        match self.limiter.check() {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                // Whole requests' worth missing, each back after one interval: never before the
                // bucket is really full, at most one interval after.
                let missing = self.per_minute.saturating_sub(remaining);
                Ok(self.budget(remaining, self.interval.saturating_mul(missing)))
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                // The request that becomes possible after `wait` is the first of a full bucket's.
                let refill = self.interval.saturating_mul(self.per_minute.saturating_sub(1));
                Err(OverLimit {
                    budget: self.budget(0, wait.saturating_add(refill)),
                    retry_after_secs: whole_seconds(wait).max(1),
                })
            }
        }
    }

    fn budget(&self, remaining: u32, until_full: Duration) -> Budget {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        Budget {
            limit: self.per_minute,
            remaining,
            full_at: whole_seconds(now.saturating_add(until_full)),
        }
    }
}

impl std::fmt::Debug for KeyRate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRate").field("per_minute", &self.per_minute).finish()
    }
}

/// Seconds, rounded up: waiting that long is always enough.
fn whole_seconds(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn per_minute(n: u32) -> NonZeroU32 {
        NonZeroU32::new(n).expect("positive")
    }

    fn unix_now() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_secs()
    }

    #[test]
    fn a_quiet_key_may_send_a_minutes_worth_at_once_then_waits() {
        let rate = KeyRate::new(per_minute(3));
        let remaining: Vec<u32> = (0..3)
            .map(|_| rate.admit().expect("within the burst").remaining)
            .collect();
        assert_eq!(remaining, [2, 1, 0]);
        let over = rate.admit().expect_err("the burst is spent");
        assert_eq!(over.budget.remaining, 0);
        assert_eq!(over.budget.limit, 3);
        // One request's worth comes back every 20 s.
        assert!((19..=20).contains(&over.retry_after_secs), "{over:?}");
    }

    #[test]
    fn the_budget_is_full_again_after_what_was_spent_comes_back() {
        let rate = KeyRate::new(per_minute(60));
        let before = unix_now();
        let mut last = rate.admit().expect("admitted");
        for _ in 0..9 {
            last = rate.admit().expect("admitted");
        }
        assert_eq!(last.limit, 60);
        assert_eq!(last.remaining, 50);
        // Ten requests' worth at one a second: full again in about ten seconds, never sooner.
        assert!(
            (before + 10..=before + 12).contains(&last.full_at),
            "{last:?} at {before}"
        );
        let over = (0..100).find_map(|_| rate.admit().err()).expect("over the limit");
        assert_eq!(over.retry_after_secs, 1);
        assert!(over.budget.full_at >= before + 60, "{over:?}");
    }

    #[test]
    fn the_wait_is_rounded_up_to_a_whole_second_and_is_at_least_one() {
        assert_eq!(whole_seconds(Duration::from_millis(1)), 1);
        assert_eq!(whole_seconds(Duration::from_millis(1_500)), 2);
        assert_eq!(whole_seconds(Duration::from_secs(2)), 2);
        assert_eq!(whole_seconds(Duration::ZERO).max(1), 1);
    }
}
