//! `keyward policies`: the operator's view of an org's policies, and the way out of an
//! allowlist that shuts out every caller (the console can always change it too: the allowlist
//! never applies to it).

use sqlx::PgPool;

use super::{CliError, known_org};
use crate::config::PoliciesCommand;
use crate::domain::actor::Actor;
use crate::service::policies::{Change, PolicyChangeError};
use crate::store;
use crate::store::audit::{Acting, Origin};

pub async fn run(pool: &PgPool, command: &PoliciesCommand) -> Result<(), CliError> {
    match command {
        PoliciesCommand::List { org } => {
            let mut conn = pool.acquire().await?;
            let org = known_org(&mut conn, *org).await?;
            println!("ID\tTYPE\tSTATUS\tNAME\tRULE");
            let mut after = None;
            loop {
                let page = store::policies::list(&mut conn, org.id, None, after, 500).await?;
                for policy in &page {
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        policy.id, policy.kind, policy.status, policy.name, policy.rule
                    );
                }
                match page.last() {
                    Some(last) if page.len() == 500 => after = Some((last.created_at, last.id)),
                    _ => break,
                }
            }
            Ok(())
        }
        PoliciesCommand::Disable { org, policy } => {
            let org = {
                let mut conn = pool.acquire().await?;
                known_org(&mut conn, *org).await?
            };
            let change = Change {
                pool,
                verifier: None,
                acting: Acting {
                    org_id: org.id,
                    actor: Actor::System,
                    origin: &Origin::default(),
                },
            };
            let row = change.disable(*policy).await.map_err(|e| match e {
                PolicyChangeError::Database(db) => CliError::Database(db),
                PolicyChangeError::NotFound => CliError::Invalid(format!(
                    "{} has no policy {policy} (see `keyward policies list --org {}`)",
                    org.name, org.id
                )),
                other => CliError::Invalid(other.to_string()),
            })?;
            eprintln!(
                "policy {} ({}, {}) of {} is disabled; every instance follows at once",
                row.id, row.kind, row.name, org.name
            );
            Ok(())
        }
    }
}
