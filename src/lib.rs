//! keyward: a self-hosted admin console for organization API keys, and the admin REST API
//! those keys unlock. The layout follows the architecture in DESIGN.md: pure `domain` types,
//! all SQL in `store`, credentials in `auth`, HTML pages in `console`.

pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod console;
pub mod database;
pub mod domain;
pub mod metrics;
pub mod operations;
pub mod pg_embedded;
pub mod random;
pub mod service;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
