//! Operator metrics in the Prometheus text format, served on their own listen address
//! (`--metrics-listen`), never on the public one. A fixed set of atomic counters and gauges:
//! simpler than a registry crate for a dozen series, and free on the request path.

use std::fmt::Write;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use actix_web::dev::Server;
use actix_web::{App, HttpResponse, HttpServer, web};

/// How an admin API request's authentication ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthOutcome {
    Ok,
    Malformed,
    Unknown,
    WrongSecret,
    Revoked,
    Expired,
    ForeignOrg,
    InsufficientScope,
    Throttled,
    Unavailable,
    /// A valid key used from an address its org's IP allowlist does not hold.
    AddressRefused,
}

impl AuthOutcome {
    const ALL: [AuthOutcome; 11] = [
        AuthOutcome::Ok,
        AuthOutcome::Malformed,
        AuthOutcome::Unknown,
        AuthOutcome::WrongSecret,
        AuthOutcome::Revoked,
        AuthOutcome::Expired,
        AuthOutcome::ForeignOrg,
        AuthOutcome::InsufficientScope,
        AuthOutcome::Throttled,
        AuthOutcome::Unavailable,
        AuthOutcome::AddressRefused,
    ];

    pub fn label(self) -> &'static str {
        match self {
            AuthOutcome::Ok => "ok",
            AuthOutcome::Malformed => "malformed",
            AuthOutcome::Unknown => "unknown",
            AuthOutcome::WrongSecret => "wrong_secret",
            AuthOutcome::Revoked => "revoked",
            AuthOutcome::Expired => "expired",
            AuthOutcome::ForeignOrg => "foreign_org",
            AuthOutcome::InsufficientScope => "insufficient_scope",
            AuthOutcome::Throttled => "throttled",
            AuthOutcome::Unavailable => "unavailable",
            AuthOutcome::AddressRefused => "address_refused",
        }
    }
}

#[derive(Debug, Default)]
pub struct Metrics {
    auth: [AtomicU64; 11],
    pub proof_cache_hits: AtomicU64,
    pub proof_cache_misses: AtomicU64,
    pub argon2_started: AtomicU64,
    pub argon2_finished: AtomicU64,
    pub argon2_in_flight: AtomicI64,
    pub argon2_waiting: AtomicI64,
    pub listener_healthy: AtomicI64,
    pub listener_reconnects: AtomicU64,
    pub revocation_notices: AtomicU64,
    pub key_row_reads: AtomicU64,
    pub key_revocation_reads: AtomicU64,
    pub fills_throttled: AtomicU64,
    pub refused_id_hits: AtomicU64,
    pub last_use_writes: AtomicU64,
    pub background_dropped: AtomicU64,
    pub policy_reads: AtomicU64,
    pub policy_notices: AtomicU64,
    pub rate_limited: AtomicU64,
}

impl Metrics {
    pub fn auth(&self, outcome: AuthOutcome) {
        // `ALL` lists the outcomes in declaration order, so the discriminant is the index.
        self.auth[outcome as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition of every series.
    pub fn render(&self, cached_proofs: u64) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP keyward_api_auth_total Admin API requests by authentication outcome."
        );
        let _ = writeln!(out, "# TYPE keyward_api_auth_total counter");
        for (outcome, count) in AuthOutcome::ALL.iter().zip(&self.auth) {
            let _ = writeln!(
                out,
                "keyward_api_auth_total{{outcome=\"{}\"}} {}",
                outcome.label(),
                count.load(Ordering::Relaxed)
            );
        }
        let series: [(&str, &str, &str, i128); 19] = [
            (
                "keyward_proof_cache_hits_total",
                "counter",
                "Requests whose key proof was cached.",
                self.proof_cache_hits.load(Ordering::Relaxed).into(),
            ),
            (
                "keyward_proof_cache_misses_total",
                "counter",
                "Requests whose key proof was not cached.",
                self.proof_cache_misses.load(Ordering::Relaxed).into(),
            ),
            (
                "keyward_proof_cache_entries",
                "gauge",
                "Key proofs held in memory.",
                cached_proofs.into(),
            ),
            (
                "keyward_argon2_verifications_started_total",
                "counter",
                "argon2id key verifications started.",
                self.argon2_started.load(Ordering::Relaxed).into(),
            ),
            (
                "keyward_argon2_verifications_finished_total",
                "counter",
                "argon2id key verifications finished.",
                self.argon2_finished.load(Ordering::Relaxed).into(),
            ),
            (
                "keyward_argon2_pool_in_flight",
                "gauge",
                "argon2id key verifications running now.",
                self.argon2_in_flight.load(Ordering::Relaxed).into(),
            ),
            (
                "keyward_argon2_pool_waiting",
                "gauge",
                "argon2id key verifications waiting for the pool.",
                self.argon2_waiting.load(Ordering::Relaxed).into(),
            ),
            (
                "keyward_revocation_listener_healthy",
                "gauge",
                "1 while the revocation listener is connected and caught up.",
                self.listener_healthy.load(Ordering::Relaxed).into(),
            ),
            (
                "keyward_revocation_listener_reconnects_total",
                "counter",
                "Times the revocation listener was rebuilt.",
                self.listener_reconnects.load(Ordering::Relaxed).into(),
            ),
            (
                "keyward_revocation_notices_total",
                "counter",
                "Revocation notices received.",
                self.revocation_notices.load(Ordering::Relaxed).into(),
            ),
            (
                "keyward_key_row_reads_total",
                "counter",
                "Key rows read to fill the proof cache.",
                self.key_row_reads.load(Ordering::Relaxed).into(),
            ),
            (
                "keyward_key_revocation_reads_total",
                "counter",
                "Per-request revocation reads (the listener was not trusted, or an entry not yet confirmed).",
                self.key_revocation_reads.load(Ordering::Relaxed).into(),
            ),
            (
                "keyward_key_fills_throttled_total",
                "counter",
                "Cache misses refused because the instance's fill budget was spent.",
                self.fills_throttled.load(Ordering::Relaxed).into(),
            ),
            (
                "keyward_refused_id_hits_total",
                "counter",
                "Unknown or revoked public ids answered from memory, with no database read.",
                self.refused_id_hits.load(Ordering::Relaxed).into(),
            ),
            (
                "keyward_key_last_use_writes_total",
                "counter",
                "Last-use records written (at most about one a minute per key).",
                self.last_use_writes.load(Ordering::Relaxed).into(),
            ),
            (
                "keyward_background_writes_dropped_total",
                "counter",
                "Last-use records and refused-use audit events dropped because the writer's queue was full.",
                self.background_dropped.load(Ordering::Relaxed).into(),
            ),
            (
                "keyward_policy_reads_total",
                "counter",
                "Org IP allowlists read from the database (not cached yet, or the listener not trusted).",
                self.policy_reads.load(Ordering::Relaxed).into(),
            ),
            (
                "keyward_policy_notices_total",
                "counter",
                "Policy change notices received.",
                self.policy_notices.load(Ordering::Relaxed).into(),
            ),
            (
                "keyward_api_rate_limited_total",
                "counter",
                "Admin API requests refused (429) because their key was over its rate limit on this instance.",
                self.rate_limited.load(Ordering::Relaxed).into(),
            ),
        ];
        for (name, kind, help, value) in series {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
        }
        out
    }
}

/// Serves `GET /metrics` on its own listener. `cached_proofs` reports the proof cache's size.
pub fn serve(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    cached_proofs: Arc<dyn Fn() -> u64 + Send + Sync>,
) -> std::io::Result<Server> {
    let server = HttpServer::new(move || {
        let metrics = metrics.clone();
        let cached_proofs = cached_proofs.clone();
        App::new().route(
            "/metrics",
            web::get().to(move || {
                let body = metrics.render(cached_proofs());
                async move {
                    HttpResponse::Ok()
                        .content_type("text/plain; version=0.0.4; charset=utf-8")
                        .body(body)
                }
            }),
        )
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?
    .run();
    Ok(server)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_outcome_counts_in_its_own_series() {
        let metrics = Metrics::default();
        for (index, outcome) in AuthOutcome::ALL.iter().enumerate() {
            assert_eq!(*outcome as usize, index);
            metrics.auth(*outcome);
        }
        let text = metrics.render(0);
        for outcome in AuthOutcome::ALL {
            assert!(text.contains(&format!(
                "keyward_api_auth_total{{outcome=\"{}\"}} 1\n",
                outcome.label()
            )));
        }
    }
}
