//! What every test stands on. Each test gets its own freshly migrated database and its own
//! keyward instance on port 0; the database server is `DATABASE_URL` when set, otherwise one
//! private cluster per test run in a temporary directory, stopped from outside when the run ends.
//!
//! The modules say what each part is for; the names tests use most are re-exported here, so a
//! test imports `crate::harness::{TestApp, SignedInAdmin, Page}`.

pub mod admin_api;
pub mod arranged;
pub mod binary;
pub mod console;
pub mod contract;
pub mod database;
pub mod db_proxy;
pub mod english;
pub mod html;
pub mod http;
pub mod instance;
pub mod invitations;
pub mod keys;
pub mod logs;
pub mod rows;
pub mod signed_in;
pub mod snapshots;

pub use admin_api::{Answer, error_body, json_of, key_status_at, key_status_from};
pub use binary::{Server, add_ada_to_acme, domains, keyward, run_with_stdin};
pub use database::{TEST_SERVING_ROLE, database_before_migration, database_server, fresh_database};
pub use html::{Page, hidden_input};
pub use http::{behind_proxy, location};
pub use instance::{Options, TestApp, browser, metric_at};
pub use keys::TestKey;
pub use logs::{init_logs, logs};
pub use signed_in::SignedInAdmin;
pub use snapshots::Redactions;
