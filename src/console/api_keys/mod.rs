//! Settings > API keys: the keys of one org, and creating, finding and revoking them.

pub mod create;
