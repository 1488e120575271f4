//! The per-key rate limiter's own cost per request, measured in process: a million checks of
//! one key's `KeyRate` (the compare-and-swap every keyed request makes), and a million renderings
//! of the three `X-RateLimit-*` headers every answer to a key carries.

use std::hint::black_box;
use std::num::NonZeroU32;
use std::time::Instant;

use actix_web::http::header::HeaderMap;
use keyward::api::key_rate_headers;
use keyward::auth::api_key::key_rate::KeyRate;

use crate::servers::BENCH_RATE_LIMIT;

const CHECKS: u32 = 1_000_000;

pub struct LimiterCost {
    /// Nanoseconds per `KeyRate::admit`.
    pub check_ns: f64,
    /// Nanoseconds per setting of the three headers on an answer's header map.
    pub headers_ns: f64,
}

impl LimiterCost {
    pub fn total_ns(&self) -> f64 {
        self.check_ns + self.headers_ns
    }
}

/// Runs on the calling thread (the load generator's CPU), with the benchmark's limit, so no
/// check is refused: the admitted path is the one every request under its limit takes.
pub fn measure() -> anyhow::Result<LimiterCost> {
    let limit = NonZeroU32::new(BENCH_RATE_LIMIT).ok_or_else(|| anyhow::anyhow!("the limit is positive"))?;
    let rate = KeyRate::new(limit);
    let mut budget = None;
    let started = Instant::now();
    for _ in 0..CHECKS {
        budget = black_box(rate.admit().ok());
    }
    let check_ns = started.elapsed().as_secs_f64() * 1e9 / f64::from(CHECKS);
    let budget = budget.ok_or_else(|| anyhow::anyhow!("the limiter refused a check at {BENCH_RATE_LIMIT} a minute"))?;
    let mut headers = HeaderMap::new();
    let started = Instant::now();
    for _ in 0..CHECKS {
        key_rate_headers::insert(black_box(&mut headers), black_box(budget));
    }
    let headers_ns = started.elapsed().as_secs_f64() * 1e9 / f64::from(CHECKS);
    Ok(LimiterCost { check_ns, headers_ns })
}
