//! What holds whichever door a request comes through.

mod bad_input;
mod emails;
mod revocation;
mod roles;
mod schema;
mod secrets;
mod server;
mod standing;
