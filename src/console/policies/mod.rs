//! Settings > Policies: the org's IP allowlists and API key lifetime policies, viewed, created,
//! edited, enabled, disabled and deleted under the same rules as the admin API, through the same
//! `policies::Change` (so each change reaches every instance at once, with its audit event). The
//! allowlist never applies to the console, so an admin can always undo a list that shuts out
//! every caller.

pub mod actions;
pub mod form;
pub mod list;
mod view;
