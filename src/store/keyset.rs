//! The keyset the store's lists page by, the (time, id) of a page's last item, and its cursor:
//! the keyset hex encoded, so clients treat it as opaque. One format for every list of both
//! doors (users, keys, policies, events, domains).

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Where a page ended: the ordering time and the id that breaks its ties.
pub type Keyset = (DateTime<Utc>, Uuid);

/// The cursor of the page after the one that ended at `(at, id)`.
pub fn encode(at: DateTime<Utc>, id: Uuid) -> String {
    hex::encode(format!("{}|{id}", at.timestamp_micros()))
}

/// The keyset a cursor names, when it names one the database can hold (a time before
/// PostgreSQL's first day is as foreign as garbage).
pub fn decode(cursor: &str) -> Option<Keyset> {
    let text = String::from_utf8(hex::decode(cursor).ok()?).ok()?;
    let (micros, id) = text.split_once('|')?;
    Some((super::timestamps::from_micros(micros.parse().ok()?)?, id.parse().ok()?))
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
    }
}
