//! Structured logs. Requests are logged with an id, method, path (never the query string,
//! which may carry a setup token), status and latency. Secrets never reach a log line.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// What is logged when `RUST_LOG` is unset, empty or cannot be read.
const DEFAULT_FILTER: &str = "info,sqlx=warn";

/// Installs the global subscriber: human-readable lines on stderr (stdout is kept for the
/// output of CLI commands), filtered by `RUST_LOG` (default `info`).
///
/// The filter is static, so entering the request span on every poll of a request costs no
/// lookup.
pub fn init() {
    let (filter, refused) = log_filter(std::env::var("RUST_LOG").ok().as_deref());
    let format = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false);
    let _ = tracing_subscriber::registry().with(format).with(filter).try_init();
    if let Some(reason) = refused {
        tracing::warn!("{reason}");
    }
}

/// The filter `RUST_LOG` asks for: `target=level` directives (`info`, `keyward=debug,sqlx=warn`).
/// Unset or empty, the default; unreadable, the default and the reason to log.
fn log_filter(rust_log: Option<&str>) -> (Targets, Option<String>) {
    let default = || DEFAULT_FILTER.parse().expect("the default filter parses");
    let Some(text) = rust_log.map(str::trim).filter(|text| !text.is_empty()) else {
        return (default(), None);
    };
    match text.parse() {
        Ok(filter) => (filter, None),
        Err(err) => (
            default(),
            Some(format!(
                "RUST_LOG={text:?} is not a list of target=level directives ({err}); logging at {DEFAULT_FILTER}"
            )),
        ),
    }
}

/// A new id, unique across instances and restarts: a random per-process prefix and a counter,
/// so no request pays a system call for randomness.
pub fn next_id() -> String {
    static PREFIX: OnceLock<String> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let prefix = PREFIX.get_or_init(|| hex::encode(crate::random::bytes::<8>()));
    format!("{prefix}{:016x}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// The id of the request being served, for error pages and correlation.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Wraps every request in a span carrying its id and logs one line when it ends.
pub async fn request_span(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let request_id = next_id();
    let span = tracing::info_span!(
        "request",
        id = %request_id,
        method = %req.method(),
        path = %req.path(),
    );
    actix_web::HttpMessage::extensions_mut(&req).insert(RequestId(request_id.clone()));
    let started = Instant::now();
    async move {
        let result = next.call(req).await;
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        match result {
            Ok(mut res) => {
                tracing::info!(status = res.status().as_u16(), latency_ms, "request finished");
                if let Ok(value) = HeaderValue::from_str(&request_id) {
                    res.headers_mut().insert(HeaderName::from_static("x-request-id"), value);
                }
                Ok(res)
            }
            Err(err) => {
                tracing::warn!(latency_ms, error = %err, "request failed");
                Err(err)
            }
        }
    }
    .instrument(span)
    .await
}

#[cfg(test)]
mod tests {
    use tracing::Level;

    use super::log_filter;

    #[test]
    fn unset_or_empty_rust_log_logs_at_the_default() {
        for rust_log in [None, Some(""), Some("  ")] {
            let (filter, refused) = log_filter(rust_log);
            assert!(filter.would_enable("keyward", &Level::INFO), "{rust_log:?}");
            assert!(!filter.would_enable("keyward", &Level::DEBUG), "{rust_log:?}");
            assert!(!filter.would_enable("sqlx", &Level::INFO), "{rust_log:?}");
            assert_eq!(refused, None);
        }
    }

    #[test]
    fn target_level_directives_are_followed() {
        let (filter, refused) = log_filter(Some("warn,keyward=debug"));
        assert!(filter.would_enable("keyward::api", &Level::DEBUG));
        assert!(!filter.would_enable("actix_web", &Level::INFO));
        assert_eq!(refused, None);
    }

    #[test]
    fn an_unreadable_rust_log_falls_back_to_the_default_and_says_why() {
        let (filter, refused) = log_filter(Some("keyward=loudly"));
        assert!(filter.would_enable("keyward", &Level::INFO));
        assert!(!filter.would_enable("keyward", &Level::DEBUG));
        let reason = refused.expect("a reason");
        assert!(reason.contains("RUST_LOG=\"keyward=loudly\""), "{reason}");
    }
}
