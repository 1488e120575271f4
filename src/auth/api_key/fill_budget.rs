//! The instance's budget of key verifications that missed the proof cache (DESIGN.md section 5,
//! step 7): every fill (a row read, then argon2id) takes a token from one bucket, so a flood
//! spread over many addresses, which the per-address `failure_limit` does not catch, still
//! cannot take the argon2 pool or the request pool. Coalesced waiters and answers from the
//! `negative_cache` take none.

use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{Quota, RateLimiter};

use super::failure_limit::Throttled;

/// One token per fill started, `per_second` coming back, at most `burst` held.
pub struct FillBudget {
    bucket: RateLimiter<governor::state::NotKeyed, governor::state::InMemoryState, DefaultClock>,
    clock: DefaultClock,
}

impl FillBudget {
    pub fn new(per_second: u32, burst: u32) -> FillBudget {
        let per_second = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        let clock = DefaultClock::default();
        FillBudget {
            bucket: RateLimiter::direct_with_clock(Quota::per_second(per_second).allow_burst(burst), clock.clone()),
            clock,
        }
    }

    /// Takes a token for a fill, or says when the next one will be there.
    pub fn take(&self) -> Result<(), Throttled> {
        self.bucket.check().map_err(|not_until| Throttled {
            retry_after_secs: not_until.wait_time_from(self.clock.now()).as_secs().max(1),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fill_budget_allows_its_burst_then_says_when_to_retry() {
        let budget = FillBudget::new(1, 3);
        for _ in 0..3 {
            assert!(budget.take().is_ok());
        }
        let refused = budget.take().expect_err("the burst is spent");
        assert!(refused.retry_after_secs >= 1);
    }
}
