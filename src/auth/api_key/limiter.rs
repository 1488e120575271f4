//! Limits failed verifications that missed the proof cache (unknown public ids, wrong
//! secrets), per public id and per client address, so nobody can make the server burn argon2
//! time at will. The limit is checked before the row read and never on a cache hit; failures
//! are counted when they happen. Concurrent attempts beyond the limit are bounded by the argon2
//! pool and its queue. Counters are fixed one-minute windows in a bounded moka cache, per
//! instance (DESIGN.md section 2).

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use moka::sync::Cache;

const WINDOW: Duration = Duration::from_secs(60);

struct Window {
    started: Instant,
    attempts: AtomicU32,
}

pub struct FailureLimiter {
    per_public_id: u32,
    per_address: u32,
    by_public_id: Cache<String, Arc<Window>>,
    by_address: Cache<IpAddr, Arc<Window>>,
}

/// The unit an address limit applies to: one IPv4 address, or one IPv6 /64 (what a single
/// subscriber usually holds, so rotating through it gains nothing).
fn address_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => {
            let segments = v6.segments();
            IpAddr::V6(std::net::Ipv6Addr::new(
                segments[0],
                segments[1],
                segments[2],
                segments[3],
                0,
                0,
                0,
                0,
            ))
        }
    }
}

/// Over the limit: retry after this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub retry_after_secs: u64,
}

impl FailureLimiter {
    pub fn new(per_public_id: u32, per_address: u32) -> FailureLimiter {
        FailureLimiter {
            per_public_id,
            per_address,
            by_public_id: Cache::builder().max_capacity(100_000).time_to_live(WINDOW).build(),
            by_address: Cache::builder().max_capacity(100_000).time_to_live(WINDOW).build(),
        }
    }

    fn window<K>(cache: &Cache<K, Arc<Window>>, key: K) -> Arc<Window>
    where
        K: std::hash::Hash + Eq + Send + Sync + 'static,
    {
        cache.get_with(key, || {
            Arc::new(Window {
                started: Instant::now(),
                attempts: AtomicU32::new(0),
            })
        })
    }

    fn retry_after(window: &Window) -> Throttled {
        let left = WINDOW.saturating_sub(window.started.elapsed()).as_secs().max(1);
        Throttled { retry_after_secs: left }
    }

    /// Refuses when `public_id` or `address` has failed too often in the current window.
    pub fn check(&self, public_id: &str, address: IpAddr) -> Result<(), Throttled> {
        let over =
            |window: Option<Arc<Window>>, limit: u32| window.filter(|w| w.attempts.load(Ordering::Relaxed) >= limit);
        match over(self.by_address.get(&address_key(address)), self.per_address)
            .or_else(|| over(self.by_public_id.get(public_id), self.per_public_id))
        {
            Some(window) => Err(Self::retry_after(&window)),
            None => Ok(()),
        }
    }

    /// Counts a failed verification against both the public id and the address.
    pub fn record_failure(&self, public_id: &str, address: IpAddr) {
        Self::window(&self.by_address, address_key(address))
            .attempts
            .fetch_add(1, Ordering::Relaxed);
        Self::window(&self.by_public_id, public_id.to_owned())
            .attempts
            .fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn failures_beyond_the_limit_are_refused_per_id_from_any_address() {
        let limiter = FailureLimiter::new(3, 100);
        for _ in 0..3 {
            assert!(limiter.check("abcdefghijkl", ip("127.0.0.2")).is_ok());
            limiter.record_failure("abcdefghijkl", ip("127.0.0.2"));
        }
        let refused = limiter
            .check("abcdefghijkl", ip("127.0.0.3"))
            .expect_err("the id is over its limit");
        assert!(refused.retry_after_secs >= 1);
        assert!(
            limiter.check("bcdefghijklm", ip("127.0.0.3")).is_ok(),
            "other ids are unaffected"
        );
    }

    #[test]
    fn failures_beyond_the_limit_are_refused_per_address_for_any_id() {
        let limiter = FailureLimiter::new(100, 2);
        limiter.record_failure("abcdefghijkl", ip("127.0.0.2"));
        limiter.record_failure("bcdefghijklm", ip("127.0.0.2"));
        assert!(limiter.check("cdefghijklmn", ip("127.0.0.2")).is_err());
        assert!(
            limiter.check("cdefghijklmn", ip("127.0.0.1")).is_ok(),
            "other addresses are unaffected"
        );
    }

    #[test]
    fn an_ipv6_subscriber_cannot_escape_by_rotating_through_its_64() {
        let limiter = FailureLimiter::new(100, 2);
        limiter.record_failure("abcdefghijkl", ip("2001:db8:1:2::1"));
        limiter.record_failure("abcdefghijkl", ip("2001:db8:1:2::ffff"));
        assert!(limiter.check("bcdefghijklm", ip("2001:db8:1:2:abcd::9")).is_err());
        assert!(limiter.check("bcdefghijklm", ip("2001:db8:1:3::1")).is_ok());
    }

    #[test]
    fn checking_alone_counts_nothing() {
        let limiter = FailureLimiter::new(1, 1);
        for _ in 0..10 {
            assert!(limiter.check("abcdefghijkl", ip("127.0.0.1")).is_ok());
        }
    }
}
