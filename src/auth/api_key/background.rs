//! Writes the key middleware makes off the request path: when and from where a key was last
//! used (at most about once a minute per key, decided by the caller), and audit events for
//! revoked or expired keys that are still presented (at most once a minute per key). Both go
//! through bounded channels; when the database is slow, records are dropped, never queued
//! without bound.

use std::net::IpAddr;
use std::time::Duration;

use chrono::Utc;
use sqlx::PgPool;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::store;
use crate::store::audit::{Actor, NewEvent};

pub struct RejectedUse {
    pub key_id: Uuid,
    pub org_id: Uuid,
    pub reason: &'static str,
    /// Whether the caller proved the secret. Unproven attempts are throttled apart, so nobody
    /// who merely knows a public id can hide a thief's attempts behind their own.
    pub proven: bool,
    pub ip: IpAddr,
}

enum Write {
    LastUse {
        key_id: Uuid,
        ip: IpAddr,
        at: chrono::DateTime<Utc>,
    },
    Rejected(RejectedUse),
}

pub struct BackgroundWrites {
    sender: mpsc::Sender<Write>,
    rejected_recently: moka::sync::Cache<(Uuid, bool), ()>,
}

impl BackgroundWrites {
    pub fn start(pool: PgPool) -> BackgroundWrites {
        let (sender, receiver) = mpsc::channel(4096);
        tokio::spawn(run(pool, receiver));
        BackgroundWrites {
            sender,
            rejected_recently: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(60))
                .build(),
        }
    }

    pub fn last_use(&self, key_id: Uuid, ip: IpAddr) {
        let _ = self.sender.try_send(Write::LastUse {
            key_id,
            ip,
            at: Utc::now(),
        });
    }

    pub fn rejected_use(&self, rejected: RejectedUse) {
        let throttle = (rejected.key_id, rejected.proven);
        if self.rejected_recently.contains_key(&throttle) {
            return;
        }
        self.rejected_recently.insert(throttle, ());
        let _ = self.sender.try_send(Write::Rejected(rejected));
    }
}

async fn run(pool: PgPool, mut receiver: mpsc::Receiver<Write>) {
    while let Some(write) = receiver.recv().await {
        let result = async {
            let mut conn = pool.acquire().await?;
            match write {
                Write::LastUse { key_id, ip, at } => store::api_keys::record_last_use(&mut conn, key_id, at, ip).await,
                Write::Rejected(rejected) => store::audit::record(
                    &mut conn,
                    NewEvent {
                        org_id: Some(rejected.org_id),
                        actor: Actor::Key(rejected.key_id),
                        action: "api_key.rejected_use",
                        target_kind: Some("api_key"),
                        target_id: Some(rejected.key_id.to_string()),
                        ip: Some(rejected.ip),
                        user_agent: None,
                        details: serde_json::json!({ "reason": rejected.reason, "secret_proven": rejected.proven }),
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
