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

/// What is logged when `RUST_LOG` is unset or cannot be read.
const DEFAULT_FILTER: &str = "info,sqlx=warn";

/// Installs the global subscriber: human-readable lines on stderr (stdout is kept for the
/// output of CLI commands), filtered by `RUST_LOG` (default `info`).
///
/// `RUST_LOG` holds `target=level` directives (`info`, `keyward=debug,sqlx=warn`). The filter
/// is static, so entering the request span on every poll of a request costs no lookup.
pub fn init() {
    let (filter, refused) = match std::env::var("RUST_LOG") {
        Ok(text) => match text.parse::<Targets>() {
            Ok(filter) => (filter, None),
            Err(err) => (
                default_filter(),
                Some(format!(
                    "RUST_LOG={text:?} is not a list of target=level directives ({err}); logging at {DEFAULT_FILTER}"
                )),
            ),
        },
        Err(_) => (default_filter(), None),
    };
    let format = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false);
    let _ = tracing_subscriber::registry().with(format).with(filter).try_init();
    if let Some(message) = refused {
        tracing::warn!("{message}");
    }
}

fn default_filter() -> Targets {
    DEFAULT_FILTER.parse().expect("the default filter parses")
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
