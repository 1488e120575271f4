//! The test harness: every test gets its own freshly migrated database and its own keyward
//! instance on port 0. The database server is `DATABASE_URL` when set, otherwise one private
//! cluster per test run in a temporary directory, stopped from outside when the run ends.

pub mod console;
pub mod contract;
pub mod db_proxy;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use keyward::config::ServeArgs;
use keyward::pg_embedded::PrivateCluster;
use keyward::startup::Application;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};

/// Every log line any instance in this test binary wrote, at TRACE for keyward and sqlx, so
/// tests can check what reaches a log and read the setup link like an operator would.
static LOGS: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct LogSink;

impl Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut logs) = LOGS.lock() {
            logs.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn init_logs() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let filter: tracing_subscriber::filter::Targets = "keyward=trace,sqlx=trace,actix_web=trace,info"
            .parse()
            .expect("a filter");
        let format = tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(|| LogSink);
        let _ = tracing_subscriber::registry().with(format).with(filter).try_init();
    });
}

/// All captured log output so far.
pub fn logs() -> String {
    LOGS.lock()
        .map(|l| String::from_utf8_lossy(&l).into_owned())
        .unwrap_or_default()
}

/// Where test databases are created.
pub enum DatabaseServer {
    Url(PgConnectOptions),
    Private(PrivateCluster),
}

impl DatabaseServer {
    pub fn options(&self, database: &str) -> PgConnectOptions {
        match self {
            DatabaseServer::Url(options) => options.clone().database(database),
            DatabaseServer::Private(cluster) => cluster.connect_options(database),
        }
    }

    /// The database server's own address, for a proxy to forward to.
    pub fn upstream(&self) -> crate::harness::db_proxy::Upstream {
        match self {
            DatabaseServer::Url(options) => {
                let port = options.get_port();
                let host = options.get_host();
                let host = if host == "localhost" { "127.0.0.1" } else { host };
                crate::harness::db_proxy::Upstream::Tcp(format!("{host}:{port}").parse().expect("a numeric DATABASE_URL host"))
            }
            DatabaseServer::Private(cluster) => {
                crate::harness::db_proxy::Upstream::Unix(cluster.socket_dir().join(".s.PGSQL.5432"))
            }
        }
    }

    /// Options for `database` as the serving login: a member of `keyward_app` that owns
    /// nothing, as production serves (see `fresh_database`).
    pub fn serving_options(&self, database: &str) -> PgConnectOptions {
        self.options(database)
            .username(TEST_SERVING_ROLE)
            .password(TEST_SERVING_ROLE)
    }

    /// Serving options for `database` reached over TCP at `via` (a proxy).
    pub fn serving_options_via(&self, via: std::net::SocketAddr, database: &str) -> PgConnectOptions {
        // No TLS on loopback: the proxy reads the protocol's messages.
        PgConnectOptions::new()
            .host(&via.ip().to_string())
            .port(via.port())
            .username(TEST_SERVING_ROLE)
            .password(TEST_SERVING_ROLE)
            .database(database)
            .ssl_mode(sqlx::postgres::PgSslMode::Disable)
    }

    /// A URL for the database reached through `via`, for running the `keyward` binary.
    pub fn url_via(&self, via: std::net::SocketAddr, database: &str) -> String {
        let direct = self.options(database);
        format!(
            "postgres://{}@{}/{database}?sslmode=disable",
            direct.get_username(),
            via
        )
    }

    /// A URL for the same database, for running the `keyward` binary against it.
    pub fn url(&self, database: &str) -> String {
        self.options(database).to_url_lossy().to_string()
    }
}

pub fn database_server() -> &'static DatabaseServer {
    static SERVER: OnceLock<DatabaseServer> = OnceLock::new();
    SERVER.get_or_init(|| match std::env::var("DATABASE_URL") {
        Ok(url) => DatabaseServer::Url(url.parse().expect("DATABASE_URL is a PostgreSQL URL")),
        Err(_) => {
            // Started on a runtime of its own: each test has its own, and this one outlives them.
            let cluster = std::thread::spawn(|| {
                tokio::runtime::Runtime::new()
                    .expect("runtime")
                    .block_on(PrivateCluster::start_temporary())
            })
            .join()
            .expect("cluster thread")
            .expect("private PostgreSQL cluster for the tests");
            DatabaseServer::Private(cluster)
        }
    })
}

/// The login tests serve through: like production's serving role, a member of `keyward_app`
/// that owns nothing. Its password only matters on a server that asks for one.
pub const TEST_SERVING_ROLE: &str = "keyward_test_app";

/// Creates the serving login once per server. Roles are cluster-wide and tests run in parallel
/// (in several processes too), so a concurrent creator's error is caught, not prevented.
const CREATE_TEST_SERVING_ROLE: &str = r#"
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'keyward_test_app') THEN
        BEGIN
            CREATE ROLE keyward_test_app LOGIN PASSWORD 'keyward_test_app' NOSUPERUSER NOCREATEDB NOCREATEROLE
                IN ROLE keyward_app;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
END
$$"#;

/// A new, empty database, migrated as the server's superuser (the owner of its tables); the
/// pool returned is that owner's, for arranging and inspecting what a test needs. The app
/// itself is served through `TEST_SERVING_ROLE` (`DatabaseServer::serving_options`).
pub async fn fresh_database() -> (String, PgPool) {
    fresh_database_in(None).await
}

/// `fresh_database` with the database's collation and character classes from `locale` (e.g.
/// `C.UTF-8`, whose `lower()` folds more than ASCII), whatever the server's default.
pub async fn fresh_database_in(locale: Option<&str>) -> (String, PgPool) {
    let server = database_server();
    let name = format!("kw_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::connect_with(&server.options("postgres"))
        .await
        .expect("connect to the test server");
    let create = match locale {
        None => format!(r#"CREATE DATABASE "{name}""#),
        Some(locale) => format!(r#"CREATE DATABASE "{name}" TEMPLATE template0 LOCALE '{locale}'"#),
    };
    sqlx::query(sqlx::AssertSqlSafe(create))
        .execute(&mut admin)
        .await
        .expect("create test database");
    let pool = PgPool::connect_with(server.options(&name))
        .await
        .expect("connect to test database");
    keyward::store::migrate(&pool)
        .await
        .expect("migrations apply to an empty database");
    sqlx::raw_sql(CREATE_TEST_SERVING_ROLE)
        .execute(&pool)
        .await
        .expect("the serving login exists");
    (name, pool)
}

/// A new database migrated up to, not including, the migration `version`: for testing what that
/// migration does to rows the earlier schema held. One connection, as `keyward migrate`
/// migrates: sqlx keeps its migration lock (a session advisory lock) on the connection when a
/// migration fails, and a second connection of the same pool would wait for it until that one
/// closed.
pub async fn database_before_migration(version: i64) -> (PgPool, sqlx::postgres::PgConnectOptions) {
    let server = database_server();
    let name = format!("kw_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::connect_with(&server.options("postgres"))
        .await
        .expect("connect to the test server");
    sqlx::query(sqlx::AssertSqlSafe(format!(r#"CREATE DATABASE "{name}""#)))
        .execute(&mut admin)
        .await
        .expect("create test database");
    let options = server.options(&name);
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options.clone())
        .await
        .expect("connect");
    let before = keyward::store::MIGRATOR
        .iter()
        .map(|m| m.version)
        .filter(|v| *v < version)
        .max()
        .expect("earlier migrations");
    keyward::store::MIGRATOR
        .run_to(before, &pool)
        .await
        .expect("earlier migrations apply");
    (pool, options)
}

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
    document: tokio::sync::OnceCell<serde_json::Value>,
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
                .unwrap_or(keyward::auth::api_key::rate::DEFAULT_PER_MINUTE),
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

    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
            .fetch_one(&self.pool)
            .await
            .expect("count")
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

/// The value of a hidden input in an HTML page.
pub fn hidden_input(html: &str, name: &str) -> String {
    let marker = format!(r#"name="{name}" value=""#);
    let start = html.find(&marker).unwrap_or_else(|| panic!("no input {name} in page")) + marker.len();
    html[start..].chars().take_while(|&c| c != '"').collect()
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

/// A key made for a test: its id and the bearer value.
pub struct TestKey {
    pub id: uuid::Uuid,
    pub token: String,
}

impl TestKey {
    pub fn public_id(&self) -> &str {
        self.token
            .trim_start_matches("kw_")
            .split('_')
            .next()
            .expect("public id")
    }
}

impl TestApp {
    /// A new organization in this instance's database.
    pub async fn org(&self, name: &str) -> uuid::Uuid {
        let mut conn = self.pool.acquire().await.expect("connection");
        let name = keyward::domain::OrgName::parse(name).expect("org name");
        keyward::store::orgs::create(&mut conn, &name).await.expect("org").id
    }

    /// A key of `org`: `scopes` None for an unscoped key; it stops working `expires_in` after
    /// now. The database stamps its creation, so a key cannot be made already expired: make
    /// it short-lived and wait.
    pub async fn key_with(
        &self,
        org: uuid::Uuid,
        scopes: Option<&[keyward::domain::Scope]>,
        expires_in: chrono::Duration,
    ) -> TestKey {
        use keyward::domain::KeyScopes;
        use keyward::domain::api_key::{AskedExpiry, KeyName};
        let request = keyward::service::keys::KeyRequest {
            org_id: org.into(),
            name: KeyName::parse("test key").expect("name"),
            scopes: scopes.map_or(KeyScopes::Unscoped, |s| KeyScopes::Scoped(s.to_vec())),
            expiry: AskedExpiry::At(chrono::Utc::now() + expires_in),
            created_by: keyward::domain::actor::Actor::System,
            responsible_user_id: None,
            origin: Default::default(),
        };
        let argon2 = keyward::auth::argon2id::Argon2Pool::new(2);
        let created = keyward::service::keys::create(&self.pool, &argon2, &request)
            .await
            .expect("key");
        TestKey {
            id: created.id.uuid(),
            token: created.token.expose_token(),
        }
    }

    /// An active key of `org` living 30 days.
    pub async fn key(&self, org: uuid::Uuid, scopes: Option<&[keyward::domain::Scope]>) -> TestKey {
        self.key_with(org, scopes, chrono::Duration::days(30)).await
    }

    /// `method path` with the key as bearer token.
    pub async fn api(&self, method: reqwest::Method, path: &str, token: &str) -> Answer {
        self.call(method, path, token, None).await
    }

    /// `method path` with the key as bearer token and, when given, a JSON body. The answer is
    /// checked against the served OpenAPI document and the wire format's shapes before the
    /// test sees it (a mismatch fails the test).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<&serde_json::Value>,
    ) -> Answer {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.address))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let res = request.send().await.expect("request");
        let answer = Answer {
            status: res.status(),
            headers: res.headers().clone(),
            body: res.bytes().await.expect("body").to_vec(),
        };
        self.check_contract(method.as_str(), path, &answer).await;
        answer
    }

    /// The OpenAPI document, as any client would fetch it: without a key.
    pub async fn document(&self) -> &serde_json::Value {
        self.document
            .get_or_init(|| async {
                let res = self.get("/admin/v1/openapi.json").await;
                assert_eq!(res.status(), 200, "the OpenAPI document is served without a key");
                res.json().await.expect("the document is JSON")
            })
            .await
    }

    async fn check_contract(&self, method: &str, path: &str, answer: &Answer) {
        let document = self.document().await;
        let status = answer.status.as_u16();
        let context = || format!("{method} {path} -> {status}: {}", String::from_utf8_lossy(&answer.body));
        if let Some(operation) = crate::harness::contract::operation(document, method, path)
            && let Err(problem) = crate::harness::contract::check_answer(document, operation, status, &answer.body)
        {
            panic!("the answer breaks the OpenAPI document: {problem}\n{}", context());
        }
        let shapes = crate::harness::contract::wire_shapes();
        let shape = match status {
            200..=299 => crate::harness::contract::wire_shape(method, path, status),
            401 => Some(&shapes["errors"]["401"]),
            403 if path.starts_with("/users/") && answer.body.starts_with(b"{\"key\"") => {
                Some(&shapes["errors"]["user_management_403"])
            }
            400..=599 if !answer.body.is_empty() => Some(&shapes["errors"]["application"]),
            _ => None,
        };
        if let Some(shape) = shape {
            let value: serde_json::Value = serde_json::from_slice(&answer.body)
                .unwrap_or_else(|e| panic!("the answer is not JSON ({e})\n{}", context()));
            if let Err(problem) = crate::harness::contract::validate(shapes, shape, &value, "$") {
                panic!("the answer breaks the wire format's shape: {problem}\n{}", context());
            }
        }
    }
}

/// An admin API answer, read whole (so its body could be checked against the contract).
pub struct Answer {
    status: reqwest::StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    pub fn status(&self) -> reqwest::StatusCode {
        self.status
    }

    pub fn headers(&self) -> &reqwest::header::HeaderMap {
        &self.headers
    }

    pub async fn json<T: serde::de::DeserializeOwned>(self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }

    pub async fn text(self) -> Result<String, std::string::FromUtf8Error> {
        String::from_utf8(self.body)
    }
}

/// The `keyward` binary, with no database URL and plain logs.
pub fn keyward() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_keyward"));
    command
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1");
    command
}

pub fn run_with_stdin(mut command: Command, stdin: &str) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn keyward");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("keyward finishes")
}

/// A running `keyward serve` whose stderr is read line by line.
pub struct Server {
    child: Child,
    lines: mpsc::Receiver<String>,
    pub seen: Vec<String>,
}

impl Server {
    /// Starts `keyward` with these arguments (plus `--listen 127.0.0.1:0`) and environment.
    pub fn start(args: Vec<String>, env: &[(&str, &str)]) -> Server {
        let mut child = keyward()
            .args(args)
            .args(["--listen", "127.0.0.1:0"])
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn keyward");
        let stderr = child.stderr.take().expect("stderr");
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Server {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits up to two minutes for a log line containing `needle`.
    pub fn wait_for(&mut self, needle: &str) -> String {
        if let Some(line) = self.seen.iter().find(|l| l.contains(needle)) {
            return line.clone();
        }
        let deadline = Instant::now() + Duration::from_secs(120);
        while let Ok(line) = self
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            self.seen.push(line.clone());
            if line.contains(needle) {
                return line;
            }
        }
        panic!("keyward never logged {needle:?}; it logged:\n{}", self.seen.join("\n"));
    }

    pub fn address(&mut self) -> String {
        self.url_after("listening on ")
    }

    /// The metrics endpoint's base URL, when started with `--metrics-listen`.
    pub fn metrics_address(&mut self) -> String {
        self.url_after("metrics on ").trim_end_matches("/metrics").to_owned()
    }

    fn url_after(&mut self, marker: &str) -> String {
        let line = self.wait_for(&format!("{marker}http://"));
        let start = line.find(marker).expect("marker") + marker.len();
        line[start..].split_whitespace().next().expect("url").to_owned()
    }

    /// SIGTERM, as a service manager or Ctrl-C would, then wait for a clean exit.
    pub fn stop(mut self) {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .expect("kill")
                .success()
        );
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                assert!(status.success(), "keyward exits cleanly on SIGTERM: {status}");
                return;
            }
            assert!(Instant::now() < deadline, "keyward did not stop within 60 s");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// People: accounts, memberships and sessions arranged directly through the owner's pool.
impl TestApp {
    /// An account named after its email; `managed_by` is the org allowed to change it.
    pub async fn user(&self, email: &str, managed_by: Option<uuid::Uuid>) -> uuid::Uuid {
        let id = uuid::Uuid::new_v4();
        sqlx::query("INSERT INTO users (id, email, display_name, managed_by_org) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(email)
            .bind(email.split('@').next().unwrap_or(email))
            .bind(managed_by)
            .execute(&self.pool)
            .await
            .expect("user");
        id
    }

    /// Makes `user` a member of `org` in `role` ("admin" or "member"), joined at `joined_at`
    /// (now when None).
    pub async fn member_at(
        &self,
        org: uuid::Uuid,
        user: uuid::Uuid,
        role: &str,
        joined_at: Option<chrono::DateTime<chrono::Utc>>,
    ) {
        sqlx::query(
            "INSERT INTO memberships (org_id, user_id, role, created_at)
             VALUES ($1, $2, $3::membership_role, COALESCE($4, now()))",
        )
        .bind(org)
        .bind(user)
        .bind(role)
        .bind(joined_at)
        .execute(&self.pool)
        .await
        .expect("membership");
    }

    pub async fn member(&self, org: uuid::Uuid, user: uuid::Uuid, role: &str) {
        self.member_at(org, user, role, None).await;
    }

    /// A console session of `user`.
    pub async fn session(&self, user: uuid::Uuid) {
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, csrf_secret, expires_at)
             VALUES (sha256(gen_random_uuid()::text::bytea), $1, '\\x00', now() + interval '1 hour')",
        )
        .bind(user)
        .execute(&self.pool)
        .await
        .expect("session");
    }

    /// A key of `org` that `user` answers for (as if they had created it in the console).
    pub async fn key_for(&self, org: uuid::Uuid, user: uuid::Uuid) -> TestKey {
        use keyward::domain::KeyScopes;
        use keyward::domain::api_key::{AskedExpiry, KeyName};
        let request = keyward::service::keys::KeyRequest {
            org_id: org.into(),
            name: KeyName::parse("their key").expect("name"),
            scopes: KeyScopes::Unscoped,
            expiry: AskedExpiry::InDays(30),
            created_by: keyward::domain::actor::Actor::User(user),
            responsible_user_id: Some(user.into()),
            origin: Default::default(),
        };
        let argon2 = keyward::auth::argon2id::Argon2Pool::new(2);
        let created = keyward::service::keys::create(&self.pool, &argon2, &request)
            .await
            .expect("key");
        TestKey {
            id: created.id.uuid(),
            token: created.token.expose_token(),
        }
    }

    /// `method path` with the key as bearer token and `body` as JSON (checked like `call`).
    pub async fn api_json(&self, method: reqwest::Method, path: &str, token: &str, body: &serde_json::Value) -> Answer {
        self.call(method, path, token, Some(body)).await
    }

    /// Every row of `table` as JSON text, for checking that a refused request wrote nothing.
    pub async fn snapshot(&self, table: &str) -> Vec<String> {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT to_jsonb(t)::text FROM {table} t ORDER BY 1"
        )))
        .fetch_all(&self.pool)
        .await
        .expect("snapshot")
    }

    /// The rows that people endpoints change, all together. Keys are compared by what a
    /// people endpoint may change (their revocation), not by their last use, which the key
    /// middleware records in the background; likewise refused uses of revoked keys.
    pub async fn people_snapshot(&self) -> Vec<Vec<String>> {
        let mut tables = Vec::new();
        for table in [
            "users",
            "memberships",
            "sessions",
            "(SELECT id, revoked_at, revoked_by_id FROM api_keys)",
            "(SELECT * FROM audit_events WHERE action <> 'api_key.rejected_use')",
        ] {
            tables.push(self.snapshot(table).await);
        }
        tables
    }
}

/// An application error's body with its per-answer id blanked, for comparing answers.
pub async fn error_body(res: Answer) -> serde_json::Value {
    let mut body: serde_json::Value = res.json().await.expect("a JSON body");
    body["errors"][0]["id"] = serde_json::Value::Null;
    body
}

/// Domains and classification levels arranged through the owner's pool.
impl TestApp {
    /// A domain `org` claims (a `dns` claim), verified when `verified`.
    pub async fn domain(&self, org: uuid::Uuid, name: &str, verified: bool) -> uuid::Uuid {
        let id = uuid::Uuid::new_v4();
        sqlx::query(
            "INSERT INTO domains (id, org_id, name, claim_type, status, verified_at)
             VALUES ($1, $2, $3, 'dns', CASE WHEN $4 THEN 'verified' ELSE 'unverified' END,
                     CASE WHEN $4 THEN now() END)",
        )
        .bind(id)
        .bind(org)
        .bind(name)
        .bind(verified)
        .execute(&self.pool)
        .await
        .expect("domain");
        id
    }

    /// A draft classification level of `org`.
    pub async fn level(&self, org: uuid::Uuid, name: &str) -> uuid::Uuid {
        let id = uuid::Uuid::new_v4();
        sqlx::query("INSERT INTO classification_levels (id, org_id, name, color) VALUES ($1, $2, $3, 'GREY')")
            .bind(id)
            .bind(org)
            .bind(name)
            .execute(&self.pool)
            .await
            .expect("classification level");
        id
    }
}

/// Invitations arranged through `people::invitations`, as an admin's invite makes them.
impl TestApp {
    /// `inviter` (an admin of `org`) invites `email` in `role` ("admin" or "member"); returns
    /// the invitation's id and its link's token.
    pub async fn invitation(
        &self,
        org: uuid::Uuid,
        email: &str,
        role: &str,
        inviter: uuid::Uuid,
    ) -> (uuid::Uuid, String) {
        use keyward::domain::actor::Actor;
        use keyward::domain::member::Role;
        use keyward::store::audit::Origin;
        let origin = Origin::default();
        let acting = keyward::service::people::Acting {
            org_id: org,
            actor: Actor::User(inviter),
            origin: &origin,
        };
        let role = match role {
            "admin" => Role::Admin,
            "member" => Role::Member,
            other => panic!("no role {other:?}"),
        };
        let email = keyward::domain::Email::parse(email).expect("an email");
        let link = keyward::service::people::invitations::invite(&self.pool, &acting, &email, role)
            .await
            .expect("invitation");
        let url = link.url("");
        let token = url.split_once("token=").expect("a token in the link").1.to_owned();
        (link.id, token)
    }
}
