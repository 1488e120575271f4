//! argon2id with OWASP parameters (m=19456 KiB, t=2, p=1), run on bounded blocking pools so
//! slow hashing never occupies the async workers and one flood cannot starve another budget.

use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

/// OWASP Password Storage Cheat Sheet parameters. They are recorded in every PHC string, so
/// raising them later keeps old hashes verifiable.
pub fn hasher() -> Argon2<'static> {
    #[allow(clippy::expect_used)] // constant, valid parameters
    let params = Params::new(19_456, 2, 1, None).expect("OWASP argon2id parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes `secret` into a PHC string with a fresh random salt. Blocking: call it through a pool.
pub fn hash(secret: &[u8]) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Ok(hasher().hash_password(secret, &salt)?.to_string())
}

/// True when `secret` matches the PHC string. A malformed stored hash verifies nothing.
/// Blocking: call it through a pool.
pub fn verify(secret: &[u8], phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => hasher().verify_password(secret, &parsed).is_ok(),
        Err(_) => false,
    }
}

/// A hash with the same cost as a real one, verified when the account does not exist so that
/// timing does not tell which emails have accounts.
pub fn dummy_hash() -> &'static str {
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$yJh3Fzb3lQ2xQFzVJ0WJkqDx7cyqjD3PfP8s8r0zBhs"
}

/// A bounded budget of concurrent argon2 computations on the blocking thread pool.
#[derive(Clone)]
pub struct Argon2Pool {
    permits: Arc<Semaphore>,
}

#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    #[error("argon2 pool is saturated")]
    Saturated,
    #[error("argon2 task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl Argon2Pool {
    pub fn new(concurrency: usize) -> Argon2Pool {
        Argon2Pool {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
        }
    }

    /// Runs `work` when a permit is free, waiting for one (console sign-in and setup: people
    /// would rather wait a moment than be refused).
    pub async fn run<T, F>(&self, work: F) -> Result<T, PoolError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        #[allow(clippy::expect_used)] // the semaphore is never closed
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .expect("argon2 semaphore is never closed");
        let result = tokio::task::spawn_blocking(move || {
            let out = work();
            drop(permit);
            out
        })
        .await?;
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let phc = hash(b"correct horse battery").expect("hash");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify(b"correct horse battery", &phc));
        assert!(!verify(b"correct horse batterY", &phc));
        assert!(!verify(b"anything", "not a phc string"));
    }

    #[test]
    fn the_dummy_hash_parses_and_costs_as_much_as_a_real_one() {
        let parsed = PasswordHash::new(dummy_hash()).expect("valid PHC");
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        assert!(!verify(b"anything", dummy_hash()));
    }
}
