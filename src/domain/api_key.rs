//! The rules of an admin API key that do not depend on storage: its name, its lifetime and
//! its status at a given time.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

use super::names::NameError;

/// A key's name: trimmed, 1 to 100 characters, so people can tell their keys apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyName(String);

impl KeyName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(input: &str) -> Result<KeyName, NameError> {
        let name = input.trim();
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(NameError::TooLong(Self::MAX_CHARS));
        }
        if name.chars().any(char::is_control) {
            return Err(NameError::ControlCharacters);
        }
        Ok(KeyName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// When a key stops working, as it was asked for. The database turns it into `expires_at`
/// against its own clock, at the statement that inserts the key, and its CHECK keeps that after
/// the key's creation and at most a year later (`api_keys_expiry_window`): no application clock
/// can stretch a key past a year. Parsing refuses what is plainly out of range early, with a
/// message for the person who asked; the CHECK is the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// This many days after the key's creation.
    InDays(u16),
    /// At this time; whether it is in the window is the database's to say.
    At(DateTime<Utc>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpiryError {
    #[error("The expiry must be in the future.")]
    NotInFuture,
    #[error("A key can live at most {} days.", Expiry::MAX_DAYS)]
    TooFar,
    #[error("Give a date (2027-01-31) or a time with its offset (2027-01-31T09:00:00Z).")]
    Unreadable,
    #[error("The expiry must be in the future and at most {} days away.", Expiry::MAX_DAYS)]
    OutOfWindow,
}

impl Expiry {
    pub const MAX_DAYS: u16 = 365;
    pub const DEFAULT_DAYS: u16 = 30;

    /// A key that lives `days` days (1 to 365) from its creation.
    pub fn in_days(days: i64) -> Result<Expiry, ExpiryError> {
        if days < 1 {
            return Err(ExpiryError::NotInFuture);
        }
        match u16::try_from(days) {
            Ok(days) if days <= Self::MAX_DAYS => Ok(Expiry::InDays(days)),
            _ => Err(ExpiryError::TooFar),
        }
    }

    /// A key that stops working at a given time: an RFC 3339 time, or a date, which means the
    /// start of that day in UTC (so a date a year ahead is still within the year).
    pub fn parse_at(input: &str) -> Result<Expiry, ExpiryError> {
        let input = input.trim();
        if let Ok(time) = DateTime::parse_from_rfc3339(input) {
            return Ok(Expiry::At(time.with_timezone(&Utc)));
        }
        let date = NaiveDate::parse_from_str(input, "%Y-%m-%d").map_err(|_| ExpiryError::Unreadable)?;
        Ok(Expiry::At(date.and_time(NaiveTime::MIN).and_utc()))
    }
}

/// Whether a key works at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStatus {
    Active,
    Expired,
    Revoked,
}

impl KeyStatus {
    pub fn at(now: DateTime<Utc>, expires_at: DateTime<Utc>, revoked_at: Option<DateTime<Utc>>) -> KeyStatus {
        if revoked_at.is_some() {
            KeyStatus::Revoked
        } else if now >= expires_at {
            KeyStatus::Expired
        } else {
            KeyStatus::Active
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "active",
            KeyStatus::Expired => "expired",
            KeyStatus::Revoked => "revoked",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_at_most_100_characters() {
        assert_eq!(KeyName::parse("  deploy bot ").map(|n| n.0), Ok("deploy bot".into()));
        assert!(KeyName::parse(&"鍵".repeat(100)).is_ok());
        assert_eq!(KeyName::parse(&"鍵".repeat(101)), Err(NameError::TooLong(100)));
        assert_eq!(KeyName::parse("   "), Err(NameError::Empty));
    }

    #[test]
    fn expiry_in_days_is_one_to_365() {
        assert_eq!(Expiry::in_days(1), Ok(Expiry::InDays(1)));
        assert_eq!(Expiry::in_days(365), Ok(Expiry::InDays(365)));
        assert_eq!(Expiry::in_days(366), Err(ExpiryError::TooFar));
        assert_eq!(Expiry::in_days(400), Err(ExpiryError::TooFar));
        assert_eq!(Expiry::in_days(i64::MAX), Err(ExpiryError::TooFar));
        assert_eq!(Expiry::in_days(0), Err(ExpiryError::NotInFuture));
        assert_eq!(Expiry::in_days(-30), Err(ExpiryError::NotInFuture));
    }

    #[test]
    fn an_expiry_time_is_a_date_or_an_rfc3339_time() {
        let midnight = DateTime::parse_from_rfc3339("2027-01-31T00:00:00Z").expect("time");
        assert_eq!(Expiry::parse_at("2027-01-31"), Ok(Expiry::At(midnight.to_utc())));
        assert_eq!(
            Expiry::parse_at(" 2027-01-31T09:00:00+09:00 "),
            Ok(Expiry::At(midnight.to_utc())),
            "an offset is honoured"
        );
        for unreadable in ["", "tomorrow", "2027-02-30", "31/01/2027", "2027-01-31T09:00:00"] {
            assert_eq!(
                Expiry::parse_at(unreadable),
                Err(ExpiryError::Unreadable),
                "{unreadable}"
            );
        }
    }

    #[test]
    fn revocation_outranks_expiry() {
        use chrono::Duration;
        let now = Utc::now();
        assert_eq!(KeyStatus::at(now, now + Duration::days(1), None), KeyStatus::Active);
        assert_eq!(KeyStatus::at(now, now, None), KeyStatus::Expired);
        assert_eq!(
            KeyStatus::at(now, now - Duration::days(1), Some(now)),
            KeyStatus::Revoked
        );
    }
}
