//! The pre-session cookie: a random value given to a browser before it signs in, so the setup
//! and sign-in forms can carry a CSRF token bound to it (against login CSRF).

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite};

use crate::state::AppState;

pub struct Presession {
    pub value: String,
    /// Set when the browser had no cookie yet and must be given one with this response.
    pub new_cookie: Option<Cookie<'static>>,
}

/// `__Host-` prefixed over HTTPS, so no subdomain can plant or overwrite it.
pub fn cookie_name(state: &AppState) -> &'static str {
    if state.https {
        "__Host-kw_presession"
    } else {
        "kw_presession"
    }
}

/// The browser's pre-session value, or a fresh one with the cookie to set.
pub fn get_or_create(req: &HttpRequest, state: &AppState) -> Presession {
    if let Some(value) = existing(req, state) {
        return Presession {
            value,
            new_cookie: None,
        };
    }
    let value = crate::random::token();
    let cookie = Cookie::build(cookie_name(state), value.clone())
        .path("/")
        .http_only(true)
        .secure(state.https)
        .same_site(SameSite::Lax)
        .finish();
    Presession {
        value,
        new_cookie: Some(cookie),
    }
}

/// The value the browser sent, if it looks like one of ours.
pub fn existing(req: &HttpRequest, state: &AppState) -> Option<String> {
    req.cookie(cookie_name(state))
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}
