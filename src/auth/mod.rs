//! Who is asking: password hashing, argon2 on bounded blocking pools, and CSRF protection.

pub mod api_key;
pub mod argon2id;
pub mod client_ip;
pub mod csrf;
