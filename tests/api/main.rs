//! keyward's integration tests: one binary, one module per capability.

mod contract;
mod helpers;
mod proxy;
mod revocation;
mod secrets;

mod api_keys;
mod bad_input;
mod classification_levels;
mod cli;
mod client;
mod console;
mod console_account;
mod console_audit_log;
mod console_keys;
mod console_members;
mod console_policies;
mod console_sign_in;
mod directory;
mod domains;
mod emails;
mod endpoints;
mod events;
mod invitations;
mod manage;
mod policies;
mod rate_limits;
mod roles;
mod schema;
mod server;
mod setup;
mod standing;
mod users;
mod verification;
