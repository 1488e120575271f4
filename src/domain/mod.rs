//! Pure domain types with their rules: parsed once at the boundary, trusted everywhere after.
//! No I/O lives here.

pub mod actor;
pub mod api_key;
pub mod audit;
pub mod classification;
pub mod domain_name;
pub mod email;
pub mod ids;
pub mod member;
pub mod names;
pub mod org;
pub mod password;
pub mod policy;
pub mod scope;
pub mod text;
pub mod token;
pub mod user_agent;

pub use audit::Action;
pub use domain_name::DomainName;
pub use email::Email;
pub use ids::{KeyId, OrgId, UserId};
pub use names::{DisplayName, OrgName, PolicyName};
pub use password::NewPassword;
pub use scope::{KeyScopes, Scope};
pub use user_agent::UserAgent;
