//! keyward's integration tests: one binary, one module per capability.

mod contract;
mod helpers;
mod proxy;
mod revocation;
mod secrets;

mod api_keys;
mod cli;
mod client;
mod directory;
mod endpoints;
mod manage;
mod rate_limits;
mod roles;
mod schema;
mod server;
mod setup;
mod users;
mod verification;
