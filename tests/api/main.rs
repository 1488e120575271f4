//! keyward's integration tests: one binary, in folders by the door a request comes through.
//!
//! - `console/`: the web console a person signs in to (sign-in, setup, keys, members, policies,
//!   invitations, the audit log, their account).
//! - `admin_api/`: the admin API a key calls (the key's admission, then each family of
//!   endpoints, the contract, a third-party client).
//! - `cli/`: the `keyward` binary as an operator runs it.
//! - `system/`: what holds whichever door is used (the schema, the server shell, secrets, a key's
//!   standing, revocation across instances, the serving role, email rules, bad input).
//! - `harness/`: what every test stands on (a fresh instance and database, a signed-in admin,
//!   HTML read through a parser, snapshots).

mod harness;

mod admin_api;
mod cli;
mod console;
mod system;
