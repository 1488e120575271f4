//! The `X-RateLimit-*` headers of a key's request rate (`auth::api_key::key_rate`, checked as the
//! last step of admission): every answer to an admitted key (a handler's, the router guard's 403
//! and 404, handler errors) and the 429 of a key over its rate carry its budget in
//! `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`.
//!
//! `X-RateLimit-Reset` is what Atlassian's admin APIs document: the time the budget is whole
//! again, in UTC (RFC 3339, to the second, e.g. `2026-12-02T04:40:12Z`).

use actix_web::ResponseError;
use actix_web::body::BoxBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use chrono::{DateTime, SecondsFormat};

use super::error::ApiError;
use crate::auth::api_key::key_rate::{Budget, OverLimit};

pub const LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
pub const REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
pub const RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");

/// The 429 of a key over its limit, in the API's error shape, with its budget.
pub fn refuse(req: ServiceRequest, over: OverLimit) -> ServiceResponse<BoxBody> {
    let error = ApiError::Throttled {
        retry_after_secs: over.retry_after_secs,
    };
    with_budget(req.into_response(error.error_response()), over.budget)
}

/// An answer to a proven key, with the key's budget in its headers.
pub fn with_budget(mut response: ServiceResponse<BoxBody>, budget: Budget) -> ServiceResponse<BoxBody> {
    insert(response.headers_mut(), budget);
    response
}

/// Sets the three `X-RateLimit-*` headers from `budget`.
pub fn insert(headers: &mut HeaderMap, budget: Budget) {
    headers.insert(
        LIMIT,
        LAST_LIMIT.with(|last| last.get_or_render(budget.limit, HeaderValue::from)),
    );
    headers.insert(REMAINING, HeaderValue::from(budget.remaining));
    if let Some(reset) = LAST_RESET.with(|last| last.get_or_render(budget.full_at, render_reset)) {
        headers.insert(RESET, reset);
    }
}

thread_local! {
    /// The limit is the instance's one setting, so every answer names the same one.
    static LAST_LIMIT: Remembered<u32, HeaderValue> = const { Remembered::new() };
    /// Under load nearly every answer of a worker names the same second as the one before.
    static LAST_RESET: Remembered<u64, Option<HeaderValue>> = const { Remembered::new() };
}

/// The last header value a worker thread rendered for one of the headers, with what it says:
/// when the next answer says the same, a clone of the value (a reference count) replaces the
/// rendering (an allocation, and for the reset most of the limiter's cost).
struct Remembered<K, V> {
    last: std::cell::RefCell<Option<(K, V)>>,
}

impl<K: Copy + PartialEq, V: Clone> Remembered<K, V> {
    const fn new() -> Remembered<K, V> {
        Remembered {
            last: std::cell::RefCell::new(None),
        }
    }

    fn get_or_render(&self, key: K, render: impl FnOnce(K) -> V) -> V {
        let mut last = self.last.borrow_mut();
        match last.as_ref() {
            Some((said, value)) if *said == key => value.clone(),
            _ => {
                let value = render(key);
                *last = Some((key, value.clone()));
                value
            }
        }
    }
}

fn render_reset(unix_seconds: u64) -> Option<HeaderValue> {
    let time = DateTime::from_timestamp(i64::try_from(unix_seconds).ok()?, 0)?;
    HeaderValue::try_from(time.to_rfc3339_opts(SecondsFormat::Secs, true)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reset_is_an_rfc_3339_utc_time_to_the_second() {
        let mut headers = HeaderMap::new();
        insert(
            &mut headers,
            Budget {
                limit: 6000,
                remaining: 5999,
                full_at: 1_796_185_212,
            },
        );
        assert_eq!(headers.get(&LIMIT).and_then(|v| v.to_str().ok()), Some("6000"));
        assert_eq!(headers.get(&REMAINING).and_then(|v| v.to_str().ok()), Some("5999"));
        assert_eq!(
            headers.get(&RESET).and_then(|v| v.to_str().ok()),
            Some("2026-12-02T04:20:12Z")
        );
    }

    /// The header `name` of an answer to a key whose limiter said `budget`.
    fn shown(budget: Budget, name: &HeaderName) -> Option<String> {
        let mut headers = HeaderMap::new();
        insert(&mut headers, budget);
        headers.get(name).and_then(|v| v.to_str().ok().map(str::to_owned))
    }

    fn budget(limit: u32, full_at: u64) -> Budget {
        Budget {
            limit,
            remaining: 1,
            full_at,
        }
    }

    #[test]
    fn a_remembered_reset_is_never_another_seconds() {
        let reset = |second| shown(budget(6000, second), &RESET);
        assert_eq!(reset(1_796_185_212).as_deref(), Some("2026-12-02T04:20:12Z"));
        assert_eq!(reset(1_796_185_212).as_deref(), Some("2026-12-02T04:20:12Z"));
        assert_eq!(reset(1_796_185_213).as_deref(), Some("2026-12-02T04:20:13Z"));
        assert_eq!(reset(1_796_185_212).as_deref(), Some("2026-12-02T04:20:12Z"));
    }

    #[test]
    fn a_remembered_limit_is_never_another_limit() {
        let limit = |limit| shown(budget(limit, 1_796_185_212), &LIMIT);
        assert_eq!(limit(6000).as_deref(), Some("6000"));
        assert_eq!(limit(6000).as_deref(), Some("6000"));
        assert_eq!(limit(10).as_deref(), Some("10"));
        assert_eq!(limit(6000).as_deref(), Some("6000"));
    }
}
