//! The API's cursors: the store's keyset codec, with a 400 for a cursor this API did not give
//! out.

use crate::store::keyset::Keyset;
pub use crate::store::keyset::encode;

use super::error::ApiError;

/// The cursor a client sent back: none (or empty) for the first page, a 400 for one this API
/// did not give out.
pub fn parse(cursor: Option<&str>) -> Result<Option<Keyset>, ApiError> {
    match cursor.filter(|c| !c.is_empty()) {
        Some(cursor) => crate::store::keyset::decode(cursor).map(Some).ok_or_else(|| {
            ApiError::bad_request(
                "ADMIN-400-1",
                "Invalid cursor",
                "The cursor is not one this API returned.",
            )
        }),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_this_api_did_not_give_out_is_a_400_and_an_empty_one_is_the_first_page() {
        assert!(parse(Some("zz")).is_err());
        assert_eq!(parse(Some("")).ok(), Some(None));
    }
}
