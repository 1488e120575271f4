//! Claiming, verifying and removing an organization's domains: each change with its audit
//! event in one transaction. keyward cannot reach DNS or the web, so `verify` records the
//! operator's attestation that they checked the claim (a TXT record or a served file).
//!
//! A verified domain makes its org the manager of the domain's accounts, those that exist and
//! those made later (`store::users::create` asks `store::domains::manager_of`); removing the
//! claim releases them. Only the managing org may change an account itself (`people`).

use sqlx::{PgConnection, PgPool};

use crate::domain::domain_name::ClaimType;
use crate::domain::{Action, DomainName};
use crate::store;
use crate::store::audit::Acting;
use crate::store::domains::Domain;

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("{0} is not claimed by this organization")]
    NotFound(DomainName),
    #[error("{0} is claimed by this organization already")]
    AlreadyClaimed(DomainName),
    #[error("{0} is verified by another organization; it must remove its claim first")]
    VerifiedElsewhere(DomainName),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// What a change did, for the one who asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    Verified(Domain),
    /// It was verified before; nothing changed.
    AlreadyVerified(Domain),
}

/// Who asks, from where, and through what (`cli`, `api`, `console`).
pub struct Change<'a> {
    pub acting: Acting<'a>,
    pub via: &'static str,
}

async fn record(
    conn: &mut PgConnection,
    change: &Change<'_>,
    action: Action,
    domain: &Domain,
    accounts: Option<(&'static str, u64)>,
) -> Result<(), sqlx::Error> {
    let mut details = serde_json::json!({ "via": change.via, "name": domain.name, "claim": domain.claim.as_str() });
    if let Some((what, count)) = accounts {
        details[what] = count.into();
    }
    let event = change
        .acting
        .event(action, "domain", Some(domain.id.to_string()), details);
    store::audit::record(conn, event).await.map(|_| ())
}

/// Claims `name` for the org, unverified.
#[tracing::instrument(skip_all, fields(org_id = %change.acting.org_id), err(level = "debug"))]
pub async fn add(
    pool: &PgPool,
    change: &Change<'_>,
    name: &DomainName,
    claim: ClaimType,
) -> Result<Domain, DomainError> {
    let mut tx = pool.begin().await?;
    let domain = match store::domains::insert(&mut tx, change.acting.org_id, name, claim).await {
        Ok(domain) => domain,
        Err(err) if store::violates(&err, store::domains::NAME_TAKEN) => {
            return Err(DomainError::AlreadyClaimed(name.clone()));
        }
        Err(err) => return Err(err.into()),
    };
    record(&mut tx, change, Action::DomainAdded, &domain, None).await?;
    tx.commit().await?;
    Ok(domain)
}

/// Marks the org's claim of `name` verified, making the org the manager of the domain's
/// accounts; refused while another org has it verified.
#[tracing::instrument(skip_all, fields(org_id = %change.acting.org_id), err(level = "debug"))]
pub async fn verify(pool: &PgPool, change: &Change<'_>, name: &DomainName) -> Result<Verification, DomainError> {
    crate::service::standing::retrying_deadlocks(deadlocked, || async move {
        let mut tx = pool.begin().await?;
        let domain = store::domains::find_by_name(&mut tx, change.acting.org_id, name)
            .await?
            .ok_or_else(|| DomainError::NotFound(name.clone()))?;
        let verified = match store::domains::verify(&mut tx, change.acting.org_id, domain.id).await {
            Ok(Some(verified)) => verified,
            Ok(None) => return Ok(Verification::AlreadyVerified(domain)),
            Err(err) if store::violates(&err, store::domains::VERIFIED_ELSEWHERE) => {
                return Err(DomainError::VerifiedElsewhere(name.clone()));
            }
            Err(err) => return Err(err.into()),
        };
        let managed = store::users::manage_domain(&mut tx, change.acting.org_id, &verified.name).await?;
        record(
            &mut tx,
            change,
            Action::DomainVerified,
            &verified,
            Some(("accounts_managed", managed)),
        )
        .await?;
        tx.commit().await?;
        Ok(Verification::Verified(verified))
    })
    .await
}

/// Removes the org's claim of `name`; when it was verified, the domain's accounts are managed
/// by no org from then on.
#[tracing::instrument(skip_all, fields(org_id = %change.acting.org_id), err(level = "debug"))]
pub async fn remove(pool: &PgPool, change: &Change<'_>, name: &DomainName) -> Result<Domain, DomainError> {
    crate::service::standing::retrying_deadlocks(deadlocked, || async move {
        let mut tx = pool.begin().await?;
        let domain = store::domains::find_by_name(&mut tx, change.acting.org_id, name)
            .await?
            .ok_or_else(|| DomainError::NotFound(name.clone()))?;
        if !store::domains::remove(&mut tx, change.acting.org_id, domain.id).await? {
            return Err(DomainError::NotFound(name.clone()));
        }
        let released = store::users::release_domain(&mut tx, change.acting.org_id, &domain.name).await?;
        record(
            &mut tx,
            change,
            Action::DomainRemoved,
            &domain,
            Some(("accounts_released", released)),
        )
        .await?;
        tx.commit().await?;
        Ok(domain)
    })
    .await
}

/// True when PostgreSQL ended the change to break a deadlock: taking over or releasing a
/// domain's accounts locks their rows, which a change to one of those people may hold. It can
/// run again.
fn deadlocked(err: &DomainError) -> bool {
    matches!(err, DomainError::Database(db) if crate::service::standing::is_deadlock(db))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_deadlock_runs_a_domain_change_again() {
        assert!(deadlocked(&DomainError::Database(
            crate::service::standing::deadlock_error()
        )));
        assert!(!deadlocked(&DomainError::Database(sqlx::Error::RowNotFound)));
        let name = DomainName::parse("example.com").expect("a name");
        assert!(!deadlocked(&DomainError::NotFound(name)));
    }
}
