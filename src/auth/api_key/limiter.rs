//! Limits verification attempts that miss the proof cache, per public id and per client
//! address, so nobody can make the server burn argon2 time at will. Attempts are charged before
//! the row read and refunded when they succeed; a cached proof is never charged. Counters are
//! fixed one-minute windows in a bounded moka cache, per instance (DESIGN.md section 2).

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

    /// Charges one attempt for `public_id` from `address`, or refuses it when either is over its limit.
    pub fn charge(&self, public_id: &str, address: IpAddr) -> Result<(), Throttled> {
        let by_address = Self::window(&self.by_address, address);
        if by_address.attempts.load(Ordering::Relaxed) >= self.per_address {
            return Err(Self::retry_after(&by_address));
        }
        let by_id = Self::window(&self.by_public_id, public_id.to_owned());
        if by_id.attempts.load(Ordering::Relaxed) >= self.per_public_id {
            return Err(Self::retry_after(&by_id));
        }
        by_address.attempts.fetch_add(1, Ordering::Relaxed);
        by_id.attempts.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Gives back an attempt that turned out to be a good key.
    pub fn refund(&self, public_id: &str, address: IpAddr) {
        let release = |window: Option<Arc<Window>>| {
            if let Some(window) = window {
                let _ = window
                    .attempts
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
            }
        };
        release(self.by_address.get(&address));
        release(self.by_public_id.get(public_id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_beyond_the_limit_are_refused_per_id_and_per_address() {
        let limiter = FailureLimiter::new(3, 5);
        let a: IpAddr = "127.0.0.2".parse().expect("ip");
        let b: IpAddr = "127.0.0.3".parse().expect("ip");
        for _ in 0..3 {
            assert!(limiter.charge("abcdefghijkl", a).is_ok());
        }
        let refused = limiter
            .charge("abcdefghijkl", b)
            .expect_err("the id is over its limit from any address");
        assert!(refused.retry_after_secs >= 1);
        assert!(limiter.charge("bcdefghijklm", a).is_ok());
        assert!(limiter.charge("cdefghijklmn", a).is_ok());
        assert!(
            limiter.charge("defghijklmno", a).is_err(),
            "the address is over its limit for any id"
        );
        assert!(limiter.charge("defghijklmno", b).is_ok());
    }

    #[test]
    fn a_refunded_success_does_not_count() {
        let limiter = FailureLimiter::new(2, 100);
        let a: IpAddr = "127.0.0.1".parse().expect("ip");
        for _ in 0..10 {
            assert!(limiter.charge("abcdefghijkl", a).is_ok());
            limiter.refund("abcdefghijkl", a);
        }
    }
}
