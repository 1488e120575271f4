//! An email address as keyward accepts it: the sign-in name of a person.

use std::fmt;

/// A syntactically plausible email address, trimmed. Uniqueness ignores case (the database
/// enforces it on `lower(email)`), but the address is kept as the person typed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("Enter an email address.")]
    Empty,
    #[error("Enter an email address like name@example.com.")]
    Invalid,
}

impl Email {
    pub fn parse(input: &str) -> Result<Email, EmailError> {
        let email = input.trim();
        if email.is_empty() {
            return Err(EmailError::Empty);
        }
        if email.chars().count() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(EmailError::Invalid);
        }
        let Some((local, domain)) = email.rsplit_once('@') else {
            return Err(EmailError::Invalid);
        };
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && !domain.contains('@');
        if local.is_empty() || local.contains('@') || local.chars().count() > 64 || !domain_ok {
            return Err(EmailError::Invalid);
        }
        Ok(Email(email.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses_and_trims_them() {
        assert_eq!(
            Email::parse("  ada@example.com ").map(|e| e.0),
            Ok("ada@example.com".into())
        );
        assert!(Email::parse("Ada.Lovelace+keys@mail.example.co.jp").is_ok());
    }

    #[test]
    fn rejects_what_cannot_be_an_address() {
        assert_eq!(Email::parse("   "), Err(EmailError::Empty));
        for bad in [
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "ada@.example.com",
            "ada@example..com",
            "ada lovelace@example.com",
            "ada@exa@mple.com",
        ] {
            assert_eq!(Email::parse(bad), Err(EmailError::Invalid), "{bad}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse(&long), Err(EmailError::Invalid));
    }
}
