//! Writes the key middleware makes off the request path: when and from where a key was last
//! used (at most about once a minute per key, decided by the caller), and audit events for
//! revoked or expired keys that are still presented (at most once a minute per key, client
//! address and proof, so a thief's attempts never hide behind a forgotten integration's). Both
//! go through a bounded channel; when the database is slow, records are dropped, never queued
//! without bound, and every dropped record is counted in a metric.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::Utc;
use sqlx::PgPool;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::failure_limit::address_unit;
use crate::domain::actor::Actor;
use crate::domain::audit::RefusedBecause;
use crate::domain::{Action, UserAgent};
use crate::metrics::Metrics;
use crate::store;
use crate::store::audit::NewEvent;

pub struct RejectedUse<'a> {
    pub key_id: Uuid,
    pub org_id: Uuid,
    pub reason: RefusedBecause,
    /// Whether the caller proved the secret. Unproven attempts are throttled apart, so nobody
    /// who merely knows a public id can hide a thief's attempts behind their own.
    pub proven: bool,
    pub ip: IpAddr,
    pub user_agent: Option<&'a str>,
}

struct Rejected {
    key_id: Uuid,
    org_id: Uuid,
    reason: RefusedBecause,
    proven: bool,
    ip: IpAddr,
    user_agent: Option<UserAgent>,
}

enum Write {
    LastUse {
        key_id: Uuid,
        ip: IpAddr,
        at: chrono::DateTime<Utc>,
    },
    Rejected(Rejected),
}

pub struct BackgroundWrites {
    sender: mpsc::Sender<Write>,
    rejected_recently: moka::sync::Cache<(Uuid, bool, IpAddr), ()>,
    metrics: Arc<Metrics>,
}

impl BackgroundWrites {
    pub fn start(pool: PgPool, metrics: Arc<Metrics>) -> BackgroundWrites {
        let (sender, receiver) = mpsc::channel(4096);
        tokio::spawn(run(pool, receiver, metrics.clone()));
        BackgroundWrites {
            metrics,
            sender,
            rejected_recently: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(60))
                .build(),
        }
    }

    pub fn last_use(&self, key_id: Uuid, ip: IpAddr) {
        self.send(Write::LastUse {
            key_id,
            ip,
            at: Utc::now(),
        });
    }

    pub fn rejected_use(&self, rejected: RejectedUse<'_>) {
        let throttle = (rejected.key_id, rejected.proven, address_unit(rejected.ip));
        if self.rejected_recently.contains_key(&throttle) {
            return;
        }
        self.rejected_recently.insert(throttle, ());
        self.send(Write::Rejected(Rejected {
            key_id: rejected.key_id,
            org_id: rejected.org_id,
            reason: rejected.reason,
            proven: rejected.proven,
            ip: rejected.ip,
            user_agent: rejected.user_agent.and_then(|agent| UserAgent::parse(agent.as_bytes())),
        }));
    }

    fn send(&self, write: Write) {
        if self.sender.try_send(write).is_err() {
            self.metrics.background_dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

async fn run(pool: PgPool, mut receiver: mpsc::Receiver<Write>, metrics: Arc<Metrics>) {
    while let Some(write) = receiver.recv().await {
        let result = async {
            let mut conn = pool.acquire().await?;
            match write {
                Write::LastUse { key_id, ip, at } => {
                    store::api_keys::record_last_use(&mut conn, key_id, at, ip).await?;
                    metrics.last_use_writes.fetch_add(1, Ordering::Relaxed);
                    Ok(())
                }
                Write::Rejected(rejected) => store::audit::record(
                    &mut conn,
                    NewEvent {
                        org_id: Some(rejected.org_id),
                        actor: Actor::Key(rejected.key_id),
                        action: Action::ApiKeyRejectedUse,
                        target_kind: Some("api_key"),
                        target_id: Some(rejected.key_id.to_string()),
                        ip: Some(rejected.ip),
                        user_agent: rejected.user_agent.as_ref().map(UserAgent::as_str),
                        details: crate::domain::audit::RejectedUse {
                            reason: rejected.reason,
                            secret_proven: rejected.proven,
                        }
                        .json(),
                    },
                )
                .await
                .map(|_| ()),
            }
        };
        if let Err(err) = result.await {
            tracing::warn!(error = %err, "recording key use failed");
        }
    }
}
