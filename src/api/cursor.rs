//! The keyset cursors of the API's lists: the (time, id) of a page's last item, hex encoded, so
//! clients treat them as opaque. One format for every list (users, keys).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::error::ApiError;

/// Where a page ended: the ordering time and the id that breaks its ties.
pub type Keyset = (DateTime<Utc>, Uuid);

pub fn encode(at: DateTime<Utc>, id: Uuid) -> String {
    hex::encode(format!("{}|{id}", at.timestamp_micros()))
}

/// The keyset a cursor names, when it names one the database can hold (a time before
/// PostgreSQL's first day is as foreign as garbage).
pub fn decode(cursor: &str) -> Option<Keyset> {
    let text = String::from_utf8(hex::decode(cursor).ok()?).ok()?;
    let (micros, id) = text.split_once('|')?;
    Some((
        crate::store::timestamps::from_micros(micros.parse().ok()?)?,
        id.parse().ok()?,
    ))
}

/// The cursor a client sent back: none (or empty) for the first page, a 400 for one this API
/// did not give out.
pub fn parse(cursor: Option<&str>) -> Result<Option<Keyset>, ApiError> {
    match cursor.filter(|c| !c.is_empty()) {
        Some(cursor) => decode(cursor).map(Some).ok_or_else(|| {
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
    fn cursors_round_trip_and_garbage_is_refused() {
        let at = DateTime::<Utc>::from_timestamp_micros(1_790_000_000_123_456).expect("time");
        let id = Uuid::new_v4();
        let text = hex::encode(format!("{}|{}", at.timestamp_micros(), id));
        assert_eq!(decode(&text), Some((at, id)));
        assert_eq!(encode(at, id), text);
        let before_postgresql = hex::encode(format!("-300000000000000000|{id}"));
        for garbage in [
            "",
            "zz",
            "00",
            &hex::encode("12|not-a-uuid"),
            &hex::encode("x|y"),
            &before_postgresql,
        ] {
            assert_eq!(decode(garbage), None, "{garbage}");
        }
        assert!(parse(Some("zz")).is_err());
        assert_eq!(parse(Some("")).ok(), Some(None));
    }
}
