//! CSRF protection. Forms carry a token bound to something the attacker cannot read: before
//! sign-in, a random pre-session cookie; a token is an HMAC of it under a key shared by every
//! instance through PostgreSQL, so any instance verifies it. State-changing requests must also
//! come from our own origin (Origin and Sec-Fetch-Site).

use actix_web::HttpRequest;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The key that signs CSRF tokens (a row of `server_secrets`).
#[derive(Clone)]
pub struct CsrfKey(Vec<u8>);

impl CsrfKey {
    pub const SECRET_NAME: &'static str = "csrf";

    pub fn new(key: Vec<u8>) -> CsrfKey {
        CsrfKey(key)
    }

    fn mac(&self, purpose: &str, binding: &str) -> HmacSha256 {
        // Cannot fail: HMAC takes keys of any length.
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC accepts any key length");
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(binding.as_bytes());
        mac
    }

    /// The token a form carries for this binding (the pre-session cookie's value).
    pub fn token(&self, purpose: &str, binding: &str) -> String {
        hex::encode(self.mac(purpose, binding).finalize().into_bytes())
    }

    /// Constant-time check of a submitted token.
    pub fn verify(&self, purpose: &str, binding: &str, token: &str) -> bool {
        match hex::decode(token) {
            Ok(bytes) => self.mac(purpose, binding).verify_slice(&bytes).is_ok(),
            Err(_) => false,
        }
    }
}

/// True when the browser says the request came from another site. `Sec-Fetch-Site`, which a
/// page cannot set, decides when present: the console's `Referrer-Policy: no-referrer` makes
/// Chromium send `Origin: null` even on a same-origin form post, so Origin is only consulted
/// for browsers that lack Fetch Metadata, and there `null` counts as another site. Requests
/// without either header (scripts) fall back on the token alone.
pub fn is_cross_origin(req: &HttpRequest, public_base: &str) -> bool {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site") {
        return !matches!(site, "same-origin" | "none");
    }
    if let Some(origin) = header("origin") {
        let own_host = header("host").map(|host| {
            let scheme = req.connection_info().scheme().to_owned();
            format!("{scheme}://{host}")
        });
        let public = public_base.trim_end_matches('/');
        return origin != public && Some(origin.to_owned()) != own_host;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_only_for_its_binding_and_purpose() {
        let key = CsrfKey::new(vec![7; 32]);
        let token = key.token("setup", "cookie-a");
        assert!(key.verify("setup", "cookie-a", &token));
        assert!(!key.verify("setup", "cookie-b", &token));
        assert!(!key.verify("login", "cookie-a", &token));
        assert!(!key.verify("setup", "cookie-a", "not hex"));
        assert!(!CsrfKey::new(vec![8; 32]).verify("setup", "cookie-a", &token));
    }

    fn request(headers: &[(&str, &str)]) -> HttpRequest {
        let mut req = actix_web::test::TestRequest::post().insert_header(("host", "keyward.test"));
        for &(name, value) in headers {
            req = req.insert_header((name, value));
        }
        req.to_http_request()
    }

    #[test]
    fn fetch_metadata_decides_and_origin_is_the_fallback() {
        let public = "https://keys.example";
        let cross = |headers: &[(&str, &str)]| is_cross_origin(&request(headers), public);
        // Fetch Metadata, when the browser sends it, is the answer.
        assert!(!cross(&[("sec-fetch-site", "same-origin"), ("origin", "null")]));
        assert!(!cross(&[("sec-fetch-site", "none")]));
        assert!(cross(&[("sec-fetch-site", "same-site"), ("origin", public)]));
        assert!(cross(&[("sec-fetch-site", "cross-site")]));
        // Without it, Origin must be this site, by its public URL or its Host.
        assert!(!cross(&[("origin", public)]));
        assert!(!cross(&[("origin", "http://keyward.test")]));
        assert!(cross(&[("origin", "https://evil.example")]));
        assert!(cross(&[("origin", "null")]));
        // A script that sends neither relies on the token alone.
        assert!(!cross(&[]));
    }
}
