//! Percentiles of measured times, shared by the benchmarks.

use std::time::Duration;

/// Nearest-rank percentile (the smallest sample with at least `p` % of samples at or below it).
pub fn percentile(samples: &[Duration], p: f64) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}
