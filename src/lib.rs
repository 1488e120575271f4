//! keyward: a self-hosted admin console for organization API keys, and the admin REST API
//! those keys unlock. The layout follows the architecture in DESIGN.md: pure `domain` types,
//! all SQL in `store`, credentials in `auth`, HTML pages in `console`.

pub mod api;
pub mod auth;
pub mod classification;
pub mod cli;
pub mod config;
pub mod console;
pub mod database;
pub mod domain;
pub mod domains;
pub mod keys;
pub mod metrics;
pub mod people;
pub mod pg_embedded;
pub mod policies;
pub mod random;
pub mod standing;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
