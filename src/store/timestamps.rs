//! The times PostgreSQL's `timestamptz` can hold, from 4713 BC (Julian day 0) onwards: a time
//! that comes from outside, such as a page's cursor, is refused here rather than by the
//! database with a server error. (chrono's own range ends in 262142 AD, before PostgreSQL's in
//! 294276 AD, so only the start needs a bound of its own.)

use chrono::{DateTime, Utc};

/// The first microsecond PostgreSQL can hold, counted from the Unix epoch: midnight at the
/// start of Julian day 0, 2,440,588 days before 1970.
pub const FIRST_MICROS: i64 = -2_440_588 * 86_400 * 1_000_000;

/// The time `micros` microseconds after the Unix epoch, when PostgreSQL can hold it.
pub fn from_micros(micros: i64) -> Option<DateTime<Utc>> {
    if micros < FIRST_MICROS {
        return None;
    }
    DateTime::from_timestamp_micros(micros)
}

/// Whether PostgreSQL can hold `at`.
pub fn holds(at: DateTime<Utc>) -> bool {
    at.timestamp_micros() >= FIRST_MICROS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_starts_at_julian_day_zero_and_ends_where_chrono_does() {
        let first = from_micros(FIRST_MICROS).expect("the first day");
        assert_eq!(first.to_rfc3339(), "-4713-11-24T00:00:00+00:00");
        assert_eq!(from_micros(FIRST_MICROS - 1), None);
        assert_eq!(from_micros(-300_000_000_000_000_000), None);
        assert!(from_micros(0).is_some());
        assert!(from_micros(8_210_266_876_799_999_999).is_some(), "262142 AD");
        assert_eq!(from_micros(i64::MAX), None);
        assert!(holds(DateTime::<Utc>::MAX_UTC));
        assert!(!holds(DateTime::<Utc>::MIN_UTC));
    }
}
