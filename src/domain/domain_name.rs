//! A DNS name an organization claims (`example.com`): parsed once at the boundary into the
//! lower-case ASCII form the `domains` table holds. Internationalized names are taken in their
//! ASCII (`xn--`) form only.

use std::fmt;

/// Why a domain name was refused; the message is one line for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainNameError {
    #[error("enter a domain name, such as example.com")]
    Empty,
    #[error("a domain name has at most {max} characters; this one has {0}", max = DomainName::MAX_CHARS)]
    TooLong(usize),
    #[error("write an internationalized name in its ASCII form (xn--...)")]
    NotAscii,
    #[error("a domain name needs at least two labels, such as example.com")]
    OneLabel,
    #[error("a domain name has no empty label (two dots in a row, or a leading dot)")]
    EmptyLabel,
    #[error("the label {0:?} is longer than 63 characters")]
    LabelTooLong(String),
    #[error("the label {0:?} may hold only letters, digits and hyphens")]
    BadCharacter(String),
    #[error("the label {0:?} may not begin or end with a hyphen")]
    EdgeHyphen(String),
    #[error("the last label is all digits: that is an address, not a domain name")]
    NumericTld,
}

/// A domain name: lower-case ASCII labels of 1 to 63 letters, digits and inner hyphens, at
/// least two of them, at most 253 characters (RFC 1035, as written without the final dot).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DomainName(String);

impl DomainName {
    pub const MAX_CHARS: usize = 253;

    /// Reads a name as people type it: surrounding blanks and one final dot are dropped, and
    /// upper case becomes lower case (DNS names are case-insensitive).
    pub fn parse(input: &str) -> Result<DomainName, DomainNameError> {
        let trimmed = input.trim();
        let name = trimmed.strip_suffix('.').unwrap_or(trimmed);
        if name.is_empty() {
            return Err(DomainNameError::Empty);
        }
        if !name.is_ascii() {
            return Err(DomainNameError::NotAscii);
        }
        if name.len() > Self::MAX_CHARS {
            return Err(DomainNameError::TooLong(name.len()));
        }
        let name = name.to_ascii_lowercase();
        let labels: Vec<&str> = name.split('.').collect();
        for label in &labels {
            if label.is_empty() {
                return Err(DomainNameError::EmptyLabel);
            }
            if label.len() > 63 {
                return Err(DomainNameError::LabelTooLong((*label).to_owned()));
            }
            if !label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                return Err(DomainNameError::BadCharacter((*label).to_owned()));
            }
            if label.starts_with('-') || label.ends_with('-') {
                return Err(DomainNameError::EdgeHyphen((*label).to_owned()));
            }
        }
        if labels.len() < 2 {
            return Err(DomainNameError::OneLabel);
        }
        if labels.last().is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit())) {
            return Err(DomainNameError::NumericTld);
        }
        Ok(DomainName(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a claim is proven: a DNS TXT record, or a file served over HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimType {
    Dns,
    Http,
}

impl ClaimType {
    pub fn as_str(self) -> &'static str {
        match self {
            ClaimType::Dns => "dns",
            ClaimType::Http => "http",
        }
    }

    pub fn parse(name: &str) -> Option<ClaimType> {
        match name {
            "dns" => Some(ClaimType::Dns),
            "http" => Some(ClaimType::Http),
            _ => None,
        }
    }
}

/// Whether the claim was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainStatus {
    Unverified,
    Verified,
}

impl DomainStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DomainStatus::Unverified => "unverified",
            DomainStatus::Verified => "verified",
        }
    }

    pub fn parse(name: &str) -> Option<DomainStatus> {
        match name {
            "unverified" => Some(DomainStatus::Unverified),
            "verified" => Some(DomainStatus::Verified),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_lower_cased_and_lose_a_final_dot() {
        let name = DomainName::parse("  Mail.Example.COM. ").expect("valid");
        assert_eq!(name.as_str(), "mail.example.com");
        assert!(DomainName::parse("xn--bcher-kva.example").is_ok());
        assert!(DomainName::parse("a-b.c0.io").is_ok());
    }

    #[test]
    fn garbage_is_refused_with_its_reason() {
        use DomainNameError as E;
        assert_eq!(DomainName::parse(" "), Err(E::Empty));
        assert_eq!(DomainName::parse("."), Err(E::Empty));
        assert_eq!(DomainName::parse("localhost"), Err(E::OneLabel));
        assert_eq!(DomainName::parse("a..b"), Err(E::EmptyLabel));
        assert_eq!(DomainName::parse(".example.com"), Err(E::EmptyLabel));
        assert_eq!(DomainName::parse("bücher.example"), Err(E::NotAscii));
        assert_eq!(DomainName::parse("a_b.example"), Err(E::BadCharacter("a_b".into())));
        assert_eq!(
            DomainName::parse("https://example.com"),
            Err(E::BadCharacter("https://example".into()))
        );
        assert_eq!(DomainName::parse("-a.example"), Err(E::EdgeHyphen("-a".into())));
        assert_eq!(DomainName::parse("10.0.0.1"), Err(E::NumericTld));
        let long_label = format!("{}.example", "a".repeat(64));
        assert!(matches!(DomainName::parse(&long_label), Err(E::LabelTooLong(_))));
    }

    #[test]
    fn at_most_253_characters() {
        let label = "a".repeat(63);
        let at_limit = format!("{label}.{label}.{label}.{}", "b".repeat(61));
        assert_eq!(at_limit.len(), 253);
        assert!(DomainName::parse(&at_limit).is_ok());
        let over = format!("{label}.{label}.{label}.{}", "b".repeat(62));
        assert_eq!(DomainName::parse(&over), Err(DomainNameError::TooLong(254)));
    }
}
