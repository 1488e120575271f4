//! The domain's refusals as the console shows them beside a field, in the viewer's language
//! (the domain types' own messages are English, for the API and the CLI).

use super::catalog::{Messages, fill};
use crate::domain::email::EmailError;
use crate::domain::names::NameError;
use crate::domain::password::{NewPassword, PasswordError};

pub fn name(t: &Messages, err: &NameError) -> String {
    match err {
        NameError::Empty => t.name_required.to_owned(),
        NameError::TooLong(max) => fill(t.name_too_long, &[("n", &max.to_string())]),
        NameError::ControlCharacters => t.name_control.to_owned(),
    }
}

pub fn email(t: &Messages, err: &EmailError) -> String {
    match err {
        EmailError::Empty => t.email_required.to_owned(),
        EmailError::Invalid => t.email_invalid.to_owned(),
    }
}

pub fn password(t: &Messages, err: &PasswordError) -> String {
    match err {
        PasswordError::TooShort => fill(t.password_too_short, &[("n", &NewPassword::MIN_CHARS.to_string())]),
        PasswordError::TooLong => fill(t.password_too_long, &[("n", &NewPassword::MAX_CHARS.to_string())]),
        PasswordError::Mismatch => t.password_mismatch.to_owned(),
    }
}
