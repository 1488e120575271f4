//! The verifier's negative cache: a short memory of public ids the database said are unknown or
//! revoked, so a repeated bad id costs no database read and no fill. A revoked id keeps its
//! key's and org's ids, so its refused uses are still audited. Entries live 30 seconds:
//! revocation is permanent and keys are never deleted, so what this remembers cannot become
//! wrong; the limit only bounds memory.

use std::time::Duration;

use moka::sync::Cache;
use uuid::Uuid;

const REMEMBERED_FOR: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusedId {
    /// Nobody issued a key with this public id.
    Unknown,
    Revoked {
        key_id: Uuid,
        org_id: Uuid,
    },
}

pub struct NegativeCache {
    ids: Cache<String, RefusedId>,
}

impl NegativeCache {
    pub fn new(capacity: u64) -> NegativeCache {
        NegativeCache {
            ids: Cache::builder()
                .max_capacity(capacity)
                .time_to_live(REMEMBERED_FOR)
                .build(),
        }
    }

    pub fn get(&self, public_id: &str) -> Option<RefusedId> {
        self.ids.get(public_id)
    }

    pub fn remember(&self, public_id: &str, refused: RefusedId) {
        self.ids.insert(public_id.to_owned(), refused);
    }
}
