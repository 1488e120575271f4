//! The rules of an admin API key that do not depend on storage: its name, its lifetime and
//! its status at a given time.

use chrono::{DateTime, Duration, Utc};

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

/// When a key stops working: after its creation, and at most a year later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry(DateTime<Utc>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpiryError {
    #[error("The expiry must be in the future.")]
    NotInFuture,
    #[error("A key can live at most {} days.", Expiry::MAX_DAYS)]
    TooFar,
}

impl Expiry {
    pub const MAX_DAYS: i64 = 365;
    pub const DEFAULT_DAYS: i64 = 30;

    /// `expires_at` for a key created at `created_at`.
    pub fn at(created_at: DateTime<Utc>, expires_at: DateTime<Utc>) -> Result<Expiry, ExpiryError> {
        if expires_at <= created_at {
            return Err(ExpiryError::NotInFuture);
        }
        if expires_at > created_at + Duration::days(Self::MAX_DAYS) {
            return Err(ExpiryError::TooFar);
        }
        Ok(Expiry(expires_at))
    }

    /// A key created at `created_at` that lives `days` days.
    pub fn in_days(created_at: DateTime<Utc>, days: i64) -> Result<Expiry, ExpiryError> {
        if days < 1 {
            return Err(ExpiryError::NotInFuture);
        }
        if days > Self::MAX_DAYS {
            return Err(ExpiryError::TooFar);
        }
        Expiry::at(created_at, created_at + Duration::days(days))
    }

    pub fn time(self) -> DateTime<Utc> {
        self.0
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
    fn expiry_is_after_creation_and_within_a_year() {
        let now = Utc::now();
        assert!(Expiry::in_days(now, 1).is_ok());
        assert!(Expiry::in_days(now, 365).is_ok());
        assert_eq!(Expiry::in_days(now, 366), Err(ExpiryError::TooFar));
        assert_eq!(Expiry::in_days(now, 0), Err(ExpiryError::NotInFuture));
        assert_eq!(
            Expiry::at(now, now - Duration::seconds(1)),
            Err(ExpiryError::NotInFuture)
        );
        assert_eq!(
            Expiry::at(now, now + Duration::days(365) + Duration::seconds(1)),
            Err(ExpiryError::TooFar)
        );
    }

    #[test]
    fn revocation_outranks_expiry() {
        let now = Utc::now();
        assert_eq!(KeyStatus::at(now, now + Duration::days(1), None), KeyStatus::Active);
        assert_eq!(KeyStatus::at(now, now, None), KeyStatus::Expired);
        assert_eq!(
            KeyStatus::at(now, now - Duration::days(1), Some(now)),
            KeyStatus::Revoked
        );
    }
}
