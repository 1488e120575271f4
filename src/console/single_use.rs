//! Single-use forms: a review page's token that the POST after it spends in the transaction of
//! what it asks for, so a reload or a back-and-submit does nothing twice. The token is a random
//! nonce and its issue time, signed for this session, this org and this purpose; the SHA-256 of
//! the nonce is what `used_form_tokens` records. A console concern: no service knows of it.

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};
use sqlx::PgConnection;

use crate::console::session::OrgAdmin;
use crate::state::AppState;
use crate::store;

/// How long a review page's form token can still be spent.
const LIFETIME: Duration = Duration::hours(1);

/// A genuine, fresh form token of this session, not yet known to be unspent.
pub struct FormToken {
    hash: Vec<u8>,
}

impl FormToken {
    fn binding(admin: &OrgAdmin, nonce: &str, issued: i64) -> String {
        format!(
            "{}:{}:{nonce}:{issued}",
            hex::encode(&admin.session.user.csrf_secret),
            admin.org_id
        )
    }

    /// A new token for a form of `purpose`.
    pub fn issue(state: &AppState, admin: &OrgAdmin, purpose: &str, now: DateTime<Utc>) -> String {
        let nonce = crate::random::token();
        let issued = now.timestamp();
        let mac = state.csrf.token(purpose, &Self::binding(admin, &nonce, issued));
        format!("{nonce}.{issued}.{mac}")
    }

    /// The token when it is this session's, for this org and purpose, and still fresh.
    pub fn verify(
        state: &AppState,
        admin: &OrgAdmin,
        purpose: &str,
        token: &str,
        now: DateTime<Utc>,
    ) -> Option<FormToken> {
        let mut parts = token.splitn(3, '.');
        let (nonce, issued, mac) = (parts.next()?, parts.next()?, parts.next()?);
        let issued: i64 = issued.parse().ok()?;
        let fresh = issued <= now.timestamp() && now.timestamp() - issued <= LIFETIME.num_seconds();
        let genuine = state.csrf.verify(purpose, &Self::binding(admin, nonce, issued), mac);
        (fresh && genuine).then(|| FormToken {
            hash: Sha256::digest(nonce.as_bytes()).to_vec(),
        })
    }

    /// Records the token as used in the caller's transaction: `false` when it was used before,
    /// and then the caller does nothing.
    pub async fn spend(&self, tx: &mut PgConnection) -> Result<bool, sqlx::Error> {
        store::form_tokens::use_once(tx, &self.hash).await
    }
}
