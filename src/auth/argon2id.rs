//! argon2id with OWASP parameters (m=19456 KiB, t=2, p=1), run on bounded blocking pools so
//! slow hashing never occupies the async workers and one flood cannot starve another budget.

use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

/// OWASP Password Storage Cheat Sheet parameters. They are recorded in every PHC string, so
/// raising them later keeps old hashes verifiable.
pub fn hasher() -> Argon2<'static> {
    // Cannot fail: constant, valid parameters.
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

/// Like `verify`, but computes in `memory` (resized as the hash's parameters need) instead of
/// allocating 19 MiB afresh: on a long-lived thread a fresh allocation costs its page faults
/// every time, about half as much again as the hashing itself.
pub fn verify_with_memory(secret: &[u8], phc: &str, memory: &mut Vec<Block>) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(expected), Some(salt)) = (parsed.hash, parsed.salt) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::V0x13,
        Some(Ok(version)) => version,
        Some(Err(_)) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    memory.resize(params.block_count(), Block::default());
    let mut computed = vec![0u8; expected.len()];
    let hashed = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        secret,
        salt,
        &mut computed,
        &mut memory[..],
    );
    hashed.is_ok() && bool::from(computed.ct_eq(expected.as_bytes()))
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
        // Cannot fail: the semaphore is never closed.
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
    fn verifying_in_reused_memory_agrees_with_plain_verification() {
        let phc = hash(b"correct horse battery").expect("hash");
        let mut memory = Vec::new();
        for _ in 0..2 {
            assert!(verify_with_memory(b"correct horse battery", &phc, &mut memory));
            assert!(!verify_with_memory(b"correct horse batterY", &phc, &mut memory));
        }
        assert_eq!(memory.len(), 19_456, "one block per KiB of the hash's memory cost");
        assert!(!verify_with_memory(b"anything", "not a phc string", &mut memory));
        let weaker = "$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
        assert!(!verify_with_memory(b"anything", weaker, &mut memory));
    }
}
