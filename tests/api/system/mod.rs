//! What holds whichever door a request comes through.

mod bad_input;
mod emails;
pub mod revocation;
mod roles;
mod schema;
mod secrets;
mod server;
mod standing;
