//! The services: every rule of the product that decides what may change, in one place, shared by
//! the console, the admin API and the CLI. A door parses its request into domain types, calls one
//! service function and translates the answer back; it never writes through `store` itself.
//!
//! - `keys`: creating and revoking API keys.
//! - `standing`: who may act on an org right now (an active admin, a valid key), under a lock.
//! - `people`: members, invitations, set-password links, suspension and offboarding.
//! - `policies`: the org's key lifetime and IP allowlist policies.
//! - `org_domains`: the org's domains, their verification and the accounts they manage.
//! - `classification`: the org's data classification levels.

pub mod classification;
pub mod keys;
pub mod org_domains;
pub mod people;
pub mod policies;
pub mod standing;
