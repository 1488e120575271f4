//! TEMPORARY while the Japanese texts are written.
use crate::domain::Scope;
pub fn scope_description_ja(scope: Scope) -> &'static str {
    scope.description()
}
pub fn scope_family_ja(_family: &str) -> Option<&'static str> {
    None
}
pub fn endpoint_summary_ja(_summary: &str) -> Option<&'static str> {
    None
}
