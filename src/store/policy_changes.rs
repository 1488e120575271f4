//! Who last changed each of an org's policies, from the audit log: the policies page shows it
//! beside each policy. One statement for the whole page, each policy's latest event found
//! through the index `audit_events_target`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::actor::{Actor, ActorKind};

/// The latest recorded change of one policy.
#[derive(Debug, Clone)]
pub struct LastChange {
    pub time: DateTime<Utc>,
    pub actor: Actor,
    /// The person's display name, or the key's name.
    pub actor_name: Option<String>,
}

/// The latest audit event of each of `ids` (policies of `org_id`); a policy with none (written
/// by hand in psql) is absent.
pub async fn last_changes(
    conn: &mut sqlx::PgConnection,
    org_id: Uuid,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, LastChange>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT p.id AS "id!", e.time, e.actor_kind AS "actor_kind: ActorKind", e.actor_id,
                  COALESCE(u.display_name, k.name) AS "actor_name?"
           FROM unnest($2::uuid[]) AS p(id)
           CROSS JOIN LATERAL (
               SELECT time, actor_kind, actor_id FROM audit_events
               WHERE org_id = $1 AND target_kind = 'policy' AND target_id = p.id::text
               ORDER BY time DESC, id DESC
               LIMIT 1
           ) e
           LEFT JOIN users u ON e.actor_kind = 'user' AND u.id = e.actor_id
           LEFT JOIN api_keys k ON e.actor_kind = 'key' AND k.id = e.actor_id"#,
        org_id,
        ids
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            (
                row.id,
                LastChange {
                    time: row.time,
                    actor: Actor::from_parts(row.actor_kind, row.actor_id),
                    actor_name: row.actor_name,
                },
            )
        })
        .collect())
}
