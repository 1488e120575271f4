//! Keeps the proof cache's revocation state and the orgs' cached IP allowlists current: `LISTEN
//! keyward_keys` and `keyward_policies` on a connection of its own (never one borrowed from the request pool, which a load spike can starve). When the
//! connection is lost, reset, or its heartbeat is late, the verifier falls back to a database
//! read per request until a new listener is connected, has caught up, and has heard its own
//! heartbeat come back.

use std::sync::atomic::Ordering;
use std::time::Duration;

use sqlx::postgres::{PgListener, PgPoolOptions};
use tokio::time::{Instant, MissedTickBehavior, interval, timeout};

use super::KeyVerifier;
use crate::store;

pub const CHANNEL: &str = "keyward_keys";
/// The policies table's trigger names the org whose policies changed.
const POLICY_CHANNEL: &str = "keyward_policies";
const HEARTBEAT_CHANNEL: &str = "keyward_heartbeat";
/// The instance notifies itself this often...
const HEARTBEAT_EVERY: Duration = Duration::from_millis(500);
/// ...and distrusts its listener when its own notice is this late.
const HEARTBEAT_LATE: Duration = Duration::from_millis(1500);

pub fn spawn(verifier: KeyVerifier) {
    tokio::spawn(async move {
        let instance = uuid::Uuid::new_v4().simple().to_string();
        let mut backoff = Backoff::default();
        loop {
            let started = Instant::now();
            if let Err(reason) = listen(&verifier, &instance).await {
                tracing::warn!(%reason, "revocation listener down; checking revocation per request until it is back");
            }
            set_healthy(&verifier, false);
            verifier
                .inner
                .metrics
                .listener_reconnects
                .fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(backoff.after(started.elapsed())).await;
        }
    });
}

/// How long to wait before rebuilding the listener: doubling from 100 ms to at most 2 s while
/// attempts keep failing, and back to 100 ms after a listener that lasted.
#[derive(Debug)]
struct Backoff {
    next: Duration,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(100);
    const MAX: Duration = Duration::from_secs(2);
    /// A listener that lived this long was healthy: its end starts a new series of attempts.
    const LASTED: Duration = Duration::from_secs(10);

    /// The wait after a listener that lived `lived`.
    fn after(&mut self, lived: Duration) -> Duration {
        if lived > Self::LASTED {
            self.next = Self::FIRST;
        }
        let wait = self.next;
        self.next = (self.next * 2).min(Self::MAX);
        wait
    }
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff { next: Self::FIRST }
    }
}

fn set_healthy(verifier: &KeyVerifier, healthy: bool) {
    // Any change of trust moves the generation, so a fill that straddles it re-checks.
    verifier.inner.generation.fetch_add(1, Ordering::SeqCst);
    verifier.inner.listener_healthy.store(healthy, Ordering::SeqCst);
    verifier
        .inner
        .metrics
        .listener_healthy
        .store(i64::from(healthy), Ordering::Relaxed);
}

/// One listener's life: connect, LISTEN, catch up, then follow notices until something fails.
async fn listen(verifier: &KeyVerifier, instance: &str) -> Result<(), String> {
    // Two connections of its own: one listens, one sends the heartbeat and catches up, so a
    // saturated request pool cannot make the listener look dead.
    let options = verifier.inner.pool.connect_options().as_ref().clone();
    let own = PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(3))
        .connect_lazy_with(options);
    let mut listener = timeout(Duration::from_secs(5), PgListener::connect_with(&own))
        .await
        .map_err(|_| "connect timed out".to_owned())?
        .map_err(|e| format!("connect: {e}"))?;
    listener.ignore_pool_close_event(true);
    // A lost connection must surface as `Ok(None)` at once, not be re-established silently
    // while notices sent in between are lost.
    listener.eager_reconnect(false);
    timeout(
        Duration::from_secs(5),
        listener.listen_all([CHANNEL, POLICY_CHANNEL, HEARTBEAT_CHANNEL]),
    )
    .await
    .map_err(|_| "LISTEN timed out".to_owned())?
    .map_err(|e| format!("LISTEN: {e}"))?;

    // From here on notices queue for this listener. Moving the generation now makes any fill
    // that read its row before this point re-check, even if it lands after the snapshot below.
    verifier.inner.generation.fetch_add(1, Ordering::SeqCst);
    verifier.forget_policies();
    catch_up(verifier, &own).await?;

    // Trusted only once its own first heartbeat has come back through it: a connection that
    // takes LISTEN but never delivers a notice (a transaction-pooling proxy, say) never is.
    let mut trusted = false;
    let mut heartbeat = interval(HEARTBEAT_EVERY);
    heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_heard = Instant::now();
    let mut sent: u64 = 0;
    loop {
        tokio::select! {
            received = listener.try_recv() => match received {
                Ok(Some(notice)) if notice.channel() == CHANNEL => {
                    verifier.inner.metrics.revocation_notices.fetch_add(1, Ordering::Relaxed);
                    verifier.mark_revoked(notice.payload());
                }
                Ok(Some(notice)) if notice.channel() == POLICY_CHANNEL => {
                    verifier.inner.metrics.policy_notices.fetch_add(1, Ordering::Relaxed);
                    match notice.payload().parse() {
                        Ok(org_id) => verifier.policies_changed(org_id),
                        Err(_) => verifier.forget_policies(),
                    }
                }
                Ok(Some(notice)) => {
                    if notice.payload().starts_with(instance) {
                        last_heard = Instant::now();
                        if !trusted {
                            trusted = true;
                            set_healthy(verifier, true);
                            tracing::info!("revocation listener connected");
                        }
                    }
                }
                Ok(None) => return Err("connection lost".into()),
                Err(e) => return Err(format!("receive: {e}")),
            },
            _ = heartbeat.tick() => {
                if last_heard.elapsed() > HEARTBEAT_LATE {
                    return Err("heartbeat late".into());
                }
                sent += 1;
                let payload = format!("{instance}:{sent}");
                let pool = own.clone();
                // Sent from the request pool, off this loop: a stalled send must not stall receiving.
                tokio::spawn(async move {
                    let _ = timeout(HEARTBEAT_EVERY, store::api_keys::notify_heartbeat(&pool, HEARTBEAT_CHANNEL, &payload)).await;
                });
            }
        }
    }
}

/// After (re)connecting, and before trusting the cache again: which cached keys were revoked
/// while nobody listened. Exact whatever the clocks say.
async fn catch_up(verifier: &KeyVerifier, own: &sqlx::PgPool) -> Result<(), String> {
    let cached: Vec<String> = verifier.inner.proofs.iter().map(|(public_id, _)| public_id).collect();
    for chunk in cached.chunks(10_000) {
        let read = async {
            let mut conn = own.acquire().await?;
            store::api_keys::revoked_among(&mut conn, chunk).await
        };
        let revoked = timeout(Duration::from_secs(10), read)
            .await
            .map_err(|_| "catch-up timed out".to_owned())?
            .map_err(|e| format!("catch-up: {e}"))?;
        for public_id in revoked {
            verifier.mark_revoked(&public_id);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failing_attempts_back_off_doubling_up_to_two_seconds() {
        let mut backoff = Backoff::default();
        let quick = Duration::from_millis(5);
        let waits: Vec<u128> = (0..7).map(|_| backoff.after(quick).as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 800, 1600, 2000, 2000]);
    }

    #[test]
    fn a_listener_that_lasted_starts_the_backoff_afresh() {
        let mut backoff = Backoff::default();
        for _ in 0..5 {
            backoff.after(Duration::from_millis(5));
        }
        assert_eq!(backoff.after(Duration::from_secs(11)), Duration::from_millis(100));
        assert_eq!(backoff.after(Duration::from_secs(10)), Duration::from_millis(200));
    }
}
