//! Where each test's database comes from: the server (`DATABASE_URL`, or one private cluster per
//! test run), a fresh migrated database per test, one stopped before a given migration, and the
//! serving login that owns nothing.

use std::sync::OnceLock;

use keyward::pg_embedded::PrivateCluster;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};

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
                crate::harness::db_proxy::Upstream::Tcp(
                    format!("{host}:{port}").parse().expect("a numeric DATABASE_URL host"),
                )
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
