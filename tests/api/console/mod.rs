//! The web console, door by door of what a person does in it.

mod account;
mod audit_log;
mod invitations;
mod keys;
mod members;
mod policies;
mod setup;
mod sign_in;
