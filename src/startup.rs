//! Builds the application from a bound listener, so tests can bind port 0 and run many
//! instances side by side.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::middleware::{DefaultHeaders, from_fn};
use actix_web::{App, HttpServer, web};
use sqlx::PgPool;

use std::sync::Arc;

use crate::auth::api_key::{KeyVerifier, VerifierSettings};
use crate::auth::argon2id::Argon2Pool;
use crate::auth::csrf::CsrfKey;
use crate::config::ServeArgs;
use crate::console::setup;
use crate::metrics::Metrics;
use crate::state::AppState;
use crate::{api, console, metrics, store, telemetry};

/// The admin API's operations as people read them, from the API's endpoint table: startup,
/// which assembles the doors, hands them to the console (in `AppState`) and to the CLI's
/// `keyward scopes`, so neither imports the API.
pub fn operations() -> crate::operations::Operations {
    api::endpoints::operations()
}

pub struct Application {
    port: u16,
    metrics_port: Option<u16>,
    server: Server,
    metrics_server: Option<Server>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot read or create the shared CSRF key: {0}")]
    Secrets(#[source] sqlx::Error),
    #[error("cannot prepare first-run setup: {0}")]
    Setup(#[source] sqlx::Error),
    #[error("cannot listen: {0}")]
    Listen(#[from] std::io::Error),
}

impl Application {
    /// Builds the server on `listener`. The database must be migrated already.
    pub async fn build(listener: TcpListener, pool: PgPool, serve: &ServeArgs) -> Result<Application, StartupError> {
        let port = listener.local_addr()?.port();
        let mut serve = serve.clone();
        if serve.public_url.is_none() {
            serve.listen.set_port(port);
        }
        let public_base = serve.public_base();
        let https = serve.is_https();

        let csrf_key = store::secrets::get_or_create(&pool, CsrfKey::SECRET_NAME, &crate::random::bytes::<32>())
            .await
            .map_err(StartupError::Secrets)?;
        setup::announce_if_needed(&pool, &public_base)
            .await
            .map_err(StartupError::Setup)?;

        let metrics = Arc::new(Metrics::default());
        let defaults = VerifierSettings::default();
        let settings = VerifierSettings {
            fills_per_second: serve.key_verifications_per_second.unwrap_or(defaults.fills_per_second),
            fill_burst: serve.key_verification_burst.unwrap_or(defaults.fill_burst),
            api_rate_limit: std::num::NonZeroU32::new(serve.api_rate_limit).unwrap_or(defaults.api_rate_limit),
            ..defaults
        };
        let verifier = KeyVerifier::start(pool.clone(), metrics.clone(), settings);
        let (metrics_server, metrics_port) = match serve.metrics_listen {
            Some(address) => {
                let listener = TcpListener::bind(address)?;
                let port = listener.local_addr()?.port();
                let cache = verifier.clone();
                let server = metrics::serve(listener, metrics.clone(), Arc::new(move || cache.cached_proofs()))?;
                (Some(server), Some(port))
            }
            None => (None, None),
        };
        let openapi = bytes::Bytes::from(crate::api::openapi::document(&public_base).to_string());
        let state = AppState {
            pool,
            csrf: CsrfKey::new(csrf_key),
            public_base,
            https,
            people_argon2: Argon2Pool::new(2),
            verifier,
            metrics,
            trusted_proxies: serve.trusted_proxies.clone(),
            openapi,
            operations: operations(),
        };
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(state.clone()))
                // The console's error pages are rendered again inside its own scope
                // (console::routes); the security headers wrap outside, so they carry them too.
                .wrap(security_headers(state.https))
                .wrap(from_fn(telemetry::request_span))
                .configure(api::routes)
                .configure(console::routes)
        })
        .listen(listener)?
        .shutdown_timeout(10)
        .run();
        Ok(Application {
            port,
            metrics_port,
            server,
            metrics_server,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the metrics endpoint, when `--metrics-listen` was given.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_port
    }

    /// Serves until SIGINT or SIGTERM, then finishes in-flight requests.
    pub async fn run_until_stopped(self) -> Result<(), std::io::Error> {
        if let Some(metrics_server) = self.metrics_server {
            let handle = metrics_server.handle();
            tokio::spawn(metrics_server);
            let result = self.server.await;
            handle.stop(false).await;
            return result;
        }
        self.server.await
    }
}

/// Headers every response carries: a strict CSP with no inline scripts or styles, no sniffing,
/// no referrer (pages may have a token in their URL), no framing, and HSTS over HTTPS.
fn security_headers(https: bool) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add((
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        ))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "no-referrer"))
        .add(("X-Frame-Options", "DENY"));
    if https {
        headers.add(("Strict-Transport-Security", "max-age=63072000; includeSubDomains"))
    } else {
        headers
    }
}
