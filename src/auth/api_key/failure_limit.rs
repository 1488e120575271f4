//! Throttling of failed key verifications, per client address (DESIGN.md section 5, step 7):
//! after too many failures from one address, its verifications that miss the proof cache are
//! answered 429 before any row read or argon2id. Nobody who merely knows a public id (it is not
//! secret) can lock the key out for the address its owner uses:
//! - wrong secrets count per (public id, client address), so failures from one address never
//!   throttle the same key elsewhere;
//! - every failure (a wrong secret, or a public id nobody issued) counts per client address,
//!   so one address cannot spread its guesses over many known public ids;
//! - revoked and expired presentations cost no argon2 and are not failures.
//!
//! The limits are checked before the row read and never on a cache hit; failures are counted
//! when they happen. Failure counters are fixed one-minute windows in bounded moka caches, per
//! instance (DESIGN.md section 2). An IPv6 client counts as its /64. The instance's budget for
//! all misses together is `fill_budget`.

use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use moka::sync::Cache;

const WINDOW: Duration = Duration::from_secs(60);

struct Window {
    started: Instant,
    attempts: AtomicU32,
}

/// The unit an address limit applies to: one IPv4 address, or one IPv6 /64 (what a single
/// subscriber usually holds, so rotating through it gains nothing).
pub(super) fn address_unit(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => {
            let [a, b, c, d, ..] = v6.segments();
            IpAddr::V6(Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
        }
    }
}

/// Over a limit: retry after this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub retry_after_secs: u64,
}

pub struct FailureLimiter {
    wrong_secrets_per_key_and_address: u32,
    failures_per_address: u32,
    by_key_and_address: Cache<(String, IpAddr), Arc<Window>>,
    by_address: Cache<IpAddr, Arc<Window>>,
}

impl FailureLimiter {
    pub fn new(wrong_secrets_per_key_and_address: u32, failures_per_address: u32) -> FailureLimiter {
        FailureLimiter {
            wrong_secrets_per_key_and_address,
            failures_per_address,
            by_key_and_address: Cache::builder().max_capacity(100_000).time_to_live(WINDOW).build(),
            by_address: Cache::builder().max_capacity(100_000).time_to_live(WINDOW).build(),
        }
    }

    fn count<K>(cache: &Cache<K, Arc<Window>>, key: K)
    where
        K: std::hash::Hash + Eq + Send + Sync + 'static,
    {
        cache
            .get_with(key, || {
                Arc::new(Window {
                    started: Instant::now(),
                    attempts: AtomicU32::new(0),
                })
            })
            .attempts
            .fetch_add(1, Ordering::Relaxed);
    }

    /// Refuses when `address` has failed too often in the current window, or has presented
    /// wrong secrets for `public_id` too often.
    pub fn check(&self, public_id: &str, address: IpAddr) -> Result<(), Throttled> {
        let unit = address_unit(address);
        let over = |window: Option<Arc<Window>>, limit: u32| {
            window.filter(|window| window.attempts.load(Ordering::Relaxed) >= limit)
        };
        match over(self.by_address.get(&unit), self.failures_per_address).or_else(|| {
            over(
                self.by_key_and_address.get(&(public_id.to_owned(), unit)),
                self.wrong_secrets_per_key_and_address,
            )
        }) {
            Some(window) => Err(Throttled {
                retry_after_secs: WINDOW.saturating_sub(window.started.elapsed()).as_secs().max(1),
            }),
            None => Ok(()),
        }
    }

    /// A wrong secret for `public_id` from `address`.
    pub fn record_wrong_secret(&self, public_id: &str, address: IpAddr) {
        let unit = address_unit(address);
        Self::count(&self.by_address, unit);
        Self::count(&self.by_key_and_address, (public_id.to_owned(), unit));
    }

    /// A public id nobody issued, presented from `address`.
    pub fn record_unknown(&self, address: IpAddr) {
        Self::count(&self.by_address, address_unit(address));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    const KEY: &str = "abcdefghijkl";
    const OTHER_KEY: &str = "bcdefghijklm";

    #[test]
    fn wrong_secrets_throttle_that_key_from_that_address_only() {
        let limiter = FailureLimiter::new(3, 100);
        for _ in 0..3 {
            assert!(limiter.check(KEY, ip("127.0.0.2")).is_ok());
            limiter.record_wrong_secret(KEY, ip("127.0.0.2"));
        }
        let refused = limiter.check(KEY, ip("127.0.0.2")).expect_err("over the limit");
        assert!(refused.retry_after_secs >= 1);
        assert!(
            limiter.check(KEY, ip("127.0.0.1")).is_ok(),
            "the key's own address is not locked out by another's failures"
        );
        assert!(
            limiter.check(OTHER_KEY, ip("127.0.0.2")).is_ok(),
            "other keys are unaffected"
        );
    }

    #[test]
    fn every_failure_of_an_address_counts_against_it_for_any_key() {
        let limiter = FailureLimiter::new(100, 3);
        limiter.record_unknown(ip("127.0.0.2"));
        limiter.record_unknown(ip("127.0.0.2"));
        limiter.record_wrong_secret(KEY, ip("127.0.0.2"));
        assert!(limiter.check(OTHER_KEY, ip("127.0.0.2")).is_err());
        assert!(
            limiter.check(OTHER_KEY, ip("127.0.0.1")).is_ok(),
            "other addresses are unaffected"
        );
    }

    #[test]
    fn the_address_limit_is_reached_exactly_at_its_count() {
        let limiter = FailureLimiter::new(100, 2);
        limiter.record_unknown(ip("127.0.0.2"));
        assert!(
            limiter.check(KEY, ip("127.0.0.2")).is_ok(),
            "one failure is below a limit of two"
        );
        limiter.record_unknown(ip("127.0.0.2"));
        assert!(limiter.check(KEY, ip("127.0.0.2")).is_err());
    }

    #[test]
    fn an_ipv6_subscriber_cannot_escape_by_rotating_through_its_64() {
        let limiter = FailureLimiter::new(2, 100);
        limiter.record_wrong_secret(KEY, ip("2001:db8:1:2::1"));
        limiter.record_wrong_secret(KEY, ip("2001:db8:1:2::ffff"));
        assert!(limiter.check(KEY, ip("2001:db8:1:2:abcd::9")).is_err());
        assert!(limiter.check(KEY, ip("2001:db8:1:3::1")).is_ok());
    }

    #[test]
    fn an_ipv4_mapped_address_counts_as_its_ipv4_address() {
        let limiter = FailureLimiter::new(100, 1);
        limiter.record_unknown(ip("::ffff:192.0.2.1"));
        assert!(limiter.check(KEY, ip("192.0.2.1")).is_err());
    }

    #[test]
    fn checking_alone_counts_nothing() {
        let limiter = FailureLimiter::new(1, 1);
        for _ in 0..10 {
            assert!(limiter.check(KEY, ip("127.0.0.1")).is_ok());
        }
    }
}
