//! A password someone is choosing: long enough, confirmed, and never printed.

use secrecy::{ExposeSecret, SecretString};

/// A new password that passed the rules: at least 12 characters (NIST SP 800-63B with no
/// other composition rules), at most 1024 so nobody can make argon2 chew megabytes.
#[derive(Debug)]
pub struct NewPassword(SecretString);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("Use at least {} characters.", NewPassword::MIN_CHARS)]
    TooShort,
    #[error("Use at most {} characters.", NewPassword::MAX_CHARS)]
    TooLong,
    #[error("The two passwords do not match.")]
    Mismatch,
}

impl NewPassword {
    pub const MIN_CHARS: usize = 12;
    pub const MAX_CHARS: usize = 1024;

    pub fn parse(password: &str) -> Result<NewPassword, PasswordError> {
        let chars = password.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(PasswordError::TooShort);
        }
        if chars > Self::MAX_CHARS {
            return Err(PasswordError::TooLong);
        }
        Ok(NewPassword(SecretString::from(password)))
    }

    /// Checks the confirmation field against the password already parsed.
    pub fn confirm(&self, confirmation: &str) -> Result<(), PasswordError> {
        if self.0.expose_secret() == confirmation {
            Ok(())
        } else {
            Err(PasswordError::Mismatch)
        }
    }

    pub fn secret(&self) -> &SecretString {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twelve_characters_is_the_minimum() {
        assert_eq!(NewPassword::parse("elevenchars").err(), Some(PasswordError::TooShort));
        assert!(NewPassword::parse("twelve chars").is_ok());
        assert!(NewPassword::parse("パスワードは十二文字以上").is_ok());
        assert_eq!(
            NewPassword::parse(&"x".repeat(1025)).err(),
            Some(PasswordError::TooLong)
        );
    }

    #[test]
    fn confirmation_must_match_exactly() {
        let password = NewPassword::parse("correct horse battery").expect("valid");
        assert_eq!(password.confirm("correct horse battery"), Ok(()));
        assert_eq!(password.confirm("correct horse battery "), Err(PasswordError::Mismatch));
    }

    #[test]
    fn debug_never_prints_the_password() {
        let password = NewPassword::parse("correct horse battery").expect("valid");
        assert!(!format!("{password:?}").contains("horse"));
    }
}
