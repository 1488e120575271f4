//! Settings > API keys: the keys of one org, and creating, finding and revoking them.

pub mod create;
pub mod detail;
pub mod find;
pub mod list;
pub mod revoke;
pub mod view;
