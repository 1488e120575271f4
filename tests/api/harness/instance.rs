//! A keyward instance of a test's own: its database, its port, the options it may differ by, and
//! the plain requests a test makes to it.

use std::net::TcpListener;

use keyward::config::ServeArgs;
use keyward::startup::Application;
use sqlx::PgPool;

use super::database::{database_server, fresh_database_in};
use super::logs::{init_logs, logs};

pub struct TestApp {
    pub address: String,
    pub metrics_address: String,
    /// The owner's pool (the tables' owner): for arranging and inspecting by SQL.
    pub pool: PgPool,
    /// The pool the app serves with: the serving login, which owns nothing.
    pub app_pool: PgPool,
    pub db_name: String,
    pub client: reqwest::Client,
    /// The OpenAPI document this instance serves, fetched on first use: every answer `api`
    /// and `call` get is checked against it.
    pub(super) document: tokio::sync::OnceCell<serde_json::Value>,
}

/// How a test instance differs from the default one.
#[derive(Default)]
pub struct Options {
    /// The instance's own database connections go to this address (a proxy the test controls)
    /// instead of straight to the database server.
    pub database_via: Option<std::net::SocketAddr>,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `--key-verifications-per-second` and `--key-verification-burst`.
    pub key_verification_budget: Option<(u32, u32)>,
    /// `--api-rate-limit`: requests a minute per key; keyward's default when None.
    pub api_rate_limit: Option<u32>,
    /// `--public-url`; an https one turns on `__Host-` secure cookies.
    pub public_url: Option<url::Url>,
    /// The test database's locale (`fresh_database_in`); the server's default when None.
    pub database_locale: Option<&'static str>,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(Options::default()).await
    }

    pub async fn spawn_with(options: Options) -> TestApp {
        init_logs();
        let (db_name, pool) = fresh_database_in(options.database_locale).await;
        let app_options = match options.database_via {
            Some(proxy) => database_server().serving_options_via(proxy, &db_name),
            None => database_server().serving_options(&db_name),
        };
        let app_pool = keyward::store::connect(app_options)
            .await
            .expect("connect as the serving login");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind port 0");
        let port = listener.local_addr().expect("address").port();
        let serve = ServeArgs {
            listen: format!("127.0.0.1:{port}").parse().expect("addr"),
            public_url: options.public_url,
            metrics_listen: Some("127.0.0.1:0".parse().expect("addr")),
            trusted_proxies: options.trusted_proxies,
            key_verifications_per_second: options.key_verification_budget.map(|(rate, _)| rate),
            key_verification_burst: options.key_verification_budget.map(|(_, burst)| burst),
            api_rate_limit: options
                .api_rate_limit
                .unwrap_or(keyward::auth::api_key::key_rate::DEFAULT_PER_MINUTE),
        };
        let app = Application::build(listener, app_pool.clone(), &serve)
            .await
            .expect("application builds");
        let metrics_port = app.metrics_port().expect("metrics listener");
        tokio::spawn(app.run_until_stopped());
        TestApp {
            address: format!("http://127.0.0.1:{port}"),
            metrics_address: format!("http://127.0.0.1:{metrics_port}"),
            pool,
            app_pool,
            db_name,
            client: browser(),
            document: tokio::sync::OnceCell::new(),
        }
    }

    /// A metric's current value, read from the metrics endpoint as an operator would.
    /// `series` is the full series name, labels included, e.g. `keyward_api_auth_total{outcome="ok"}`.
    pub async fn metric(&self, series: &str) -> f64 {
        metric_at(&self.metrics_address, series).await
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("request")
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.address))
            .form(form)
            .send()
            .await
            .expect("request")
    }

    /// The one-time setup token from the link this instance logged at start-up.
    pub fn setup_token(&self) -> String {
        let marker = format!("{}/setup?token=", self.address);
        let logs = logs();
        let start = logs.rfind(&marker).expect("the setup link was logged") + marker.len();
        logs[start..].chars().take_while(char::is_ascii_hexdigit).collect()
    }
}

impl TestApp {
    /// A new organization in this instance's database.
    pub async fn org(&self, name: &str) -> uuid::Uuid {
        let mut conn = self.pool.acquire().await.expect("connection");
        let name = keyward::domain::OrgName::parse(name).expect("org name");
        keyward::store::orgs::create(&mut conn, &name).await.expect("org").id
    }
}

/// A browser-like client: keeps cookies, does not follow redirects.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// A metric's value from a metrics endpoint (0 when the series is absent).
pub async fn metric_at(metrics_address: &str, series: &str) -> f64 {
    let text = reqwest::get(format!("{metrics_address}/metrics"))
        .await
        .expect("metrics endpoint")
        .text()
        .await
        .expect("metrics body");
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| line.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
        .map(|value| value.trim().parse().expect("numeric metric"))
        .unwrap_or(0.0)
}
