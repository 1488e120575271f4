//! The admin API: how a presented key is admitted, then each family of endpoints, the wire
//! contract and an unmodified third-party client.

mod atlassian_client;
mod classification_levels;
mod directory;
mod domains;
mod endpoints;
mod events;
mod key_admission;
mod key_rate_limits;
mod key_verification;
mod policies;
mod user_management;
mod users;
