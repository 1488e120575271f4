//! Names people give things: an organization's name and a person's display name.

use std::fmt;

/// Why a name was refused; the message is shown beside the form field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("Enter a name.")]
    Empty,
    #[error("Use at most {0} characters.")]
    TooLong(usize),
    #[error("Remove control characters from the name.")]
    ControlCharacters,
}

fn parse_name(input: &str, max: usize) -> Result<String, NameError> {
    let name = input.trim();
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.chars().count() > max {
        return Err(NameError::TooLong(max));
    }
    if name.chars().any(char::is_control) {
        return Err(NameError::ControlCharacters);
    }
    Ok(name.to_owned())
}

macro_rules! name_type {
    ($(#[$doc:meta])* $ty:ident, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $ty(String);

        impl $ty {
            pub const MAX_CHARS: usize = $max;

            pub fn parse(input: &str) -> Result<$ty, NameError> {
                parse_name(input, Self::MAX_CHARS).map($ty)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

name_type!(
    /// An organization's name: trimmed, 1 to 100 characters.
    OrgName,
    100
);
name_type!(
    /// A person's name as the console shows it: trimmed, 1 to 100 characters.
    DisplayName,
    100
);
name_type!(
    /// An org policy's name: trimmed, 1 to 100 characters.
    PolicyName,
    100
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_counts_characters_not_bytes() {
        assert_eq!(OrgName::parse("  Acme  ").map(|n| n.0), Ok("Acme".into()));
        assert!(OrgName::parse(&"組".repeat(100)).is_ok());
        assert_eq!(OrgName::parse(&"組".repeat(101)), Err(NameError::TooLong(100)));
    }

    #[test]
    fn refuses_empty_and_control_characters() {
        assert_eq!(DisplayName::parse(" \t "), Err(NameError::Empty));
        assert_eq!(DisplayName::parse("Ada\u{7}"), Err(NameError::ControlCharacters));
    }
}
