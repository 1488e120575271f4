//! An email address as keyward accepts it: the sign-in name of a person, and the one rule that
//! says when two spellings are the same address.

use std::fmt;

/// A syntactically plausible email address, trimmed. It is kept as the person typed it; two
/// addresses are the same account when their `normalized` forms are equal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

/// keyward's one email rule: trim white space and fold ASCII letters to lower case, nothing
/// else. Every lookup, uniqueness check, invitation match and sign-in throttle compares this.
///
/// Only ASCII is folded because PostgreSQL must compute exactly the same thing, whatever the
/// database's locale: `users.email_normalized` is generated as
/// `translate(btrim(email, <White_Space>), 'A..Z', 'a..z')` (migration 20261207000002), while
/// SQL `lower()` folds `İ` to `i` under C.UTF-8 and leaves it alone under C. Domains are ASCII
/// on the wire (IDNA), and a non-ASCII local part is compared as typed, as mail servers
/// deliver it. `str::trim` removes the Unicode White_Space characters the migration lists.
pub fn normalize(text: &str) -> String {
    text.trim().to_ascii_lowercase()
}

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

    /// The form under which the address is unique and looked up (see `normalize`).
    pub fn normalized(&self) -> String {
        normalize(&self.0)
    }

    /// The normalised address's domain, what follows its last `@`: the name an org verifies
    /// to manage the account (SQL finds it as `substring(email_normalized FROM '@([^@]*)$')`).
    pub fn domain(&self) -> String {
        let normalized = self.normalized();
        normalized
            .rsplit_once('@')
            .map(|(_, domain)| domain.to_owned())
            .unwrap_or_default()
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
    fn the_domain_is_what_follows_the_last_at_under_the_email_rule() {
        let email = Email::parse(" Ada@Mail.Example.COM ").expect("valid");
        assert_eq!(email.domain(), "mail.example.com");
        assert_eq!(Email::parse("ada@example.org").expect("valid").domain(), "example.org");
    }

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

    #[test]
    fn the_normalized_form_folds_ascii_case_only() {
        let ada = Email::parse(" Ada.Lovelace@Example.COM").expect("email");
        assert_eq!(ada.as_str(), "Ada.Lovelace@Example.COM", "kept as typed");
        assert_eq!(ada.normalized(), "ada.lovelace@example.com");
        // Not `lin@example.test`: the dotted capital I is another letter, whatever a
        // database's locale would make of it.
        assert_eq!(normalize("lİn@example.test"), "lİn@example.test");
        assert_eq!(
            normalize("\u{212A}im@example.test"),
            "\u{212A}im@example.test",
            "Kelvin sign"
        );
        assert_eq!(normalize("Straße@Example.DE"), "straße@example.de");
        assert_eq!(normalize("\u{3000}\tBOB@example.test\u{85}"), "bob@example.test");
        assert_eq!(
            normalize("\u{200B}bob@example.test"),
            "\u{200B}bob@example.test",
            "not white space"
        );
    }
}
