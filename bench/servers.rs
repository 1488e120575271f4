//! The system under test: a fresh database on the PostgreSQL server of `DATABASE_URL`, and
//! `keyward` processes serving it from one CPU, killed however the benchmark ends.

use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};
use tokio::time::Instant;

/// A database made for one run, dropped at its end.
pub struct BenchDatabase {
    pub name: String,
    /// The database's own URL, for the `keyward` processes.
    pub url: String,
    pub pool: PgPool,
    server: PgConnectOptions,
}

impl BenchDatabase {
    /// Creates and migrates `keyward_bench_<random>` on the server of `server_url`.
    pub async fn create(server_url: &str) -> anyhow::Result<BenchDatabase> {
        let server: PgConnectOptions = server_url.parse().context("DATABASE_URL is not a PostgreSQL URL")?;
        let name = format!("keyward_bench_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect_with(&server)
            .await
            .context("cannot connect to DATABASE_URL")?;
        sqlx::query(sqlx::AssertSqlSafe(format!(r#"CREATE DATABASE "{name}""#)))
            .execute(&mut admin)
            .await
            .context("cannot create the benchmark database")?;
        admin.close().await.ok();

        let mut url = url::Url::parse(server_url).context("DATABASE_URL is not a URL")?;
        url.set_path(&format!("/{name}"));
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .connect_with(server.clone().database(&name))
            .await
            .context("cannot connect to the benchmark database")?;
        let database = BenchDatabase {
            name,
            url: url.to_string(),
            pool,
            server,
        };
        if let Err(err) = keyward::store::migrate(&database.pool).await {
            database.drop_database().await.ok();
            return Err(err).context("migrations failed");
        }
        Ok(database)
    }

    /// Closes the pool and drops the database, disconnecting whatever still uses it.
    pub async fn drop_database(self) -> anyhow::Result<()> {
        self.pool.close().await;
        let mut admin = PgConnection::connect_with(&self.server).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            r#"DROP DATABASE IF EXISTS "{}" WITH (FORCE)"#,
            self.name
        )))
        .execute(&mut admin)
        .await
        .with_context(|| format!("cannot drop database {}", self.name))?;
        admin.close().await.ok();
        Ok(())
    }
}

/// `--api-rate-limit` of the instances: requests a minute per key, far above what the
/// flat-out loops send with one key (tens of thousands a second), so every answer they count is
/// the server's work, not the limiter's refusal; the limiter still runs on every keyed request.
pub const BENCH_RATE_LIMIT: u32 = 1_000_000_000;

/// One running `keyward serve`.
#[derive(Clone)]
pub struct Instance {
    pub name: &'static str,
    pub pid: u32,
    pub address: SocketAddr,
    pub metrics: SocketAddr,
    pub log: PathBuf,
}

/// Running instances; dropping this kills them, on success, error or panic alike.
pub struct Instances {
    children: Vec<(Child, &'static str)>,
    pub list: Vec<Instance>,
}

impl Instances {
    /// Starts one instance per name, each pinned to `cpu`, logging to `log_dir/<name>.log`.
    pub fn start(
        binary: &Path,
        database_url: &str,
        cpu: usize,
        names: &[&'static str],
        log_dir: &Path,
    ) -> anyhow::Result<Instances> {
        let mut instances = Instances {
            children: Vec::new(),
            list: Vec::new(),
        };
        for &name in names {
            let address = SocketAddr::from(([127, 0, 0, 1], free_port()?));
            let metrics = SocketAddr::from(([127, 0, 0, 1], free_port()?));
            let log = log_dir.join(format!("{name}.log"));
            let child = Command::new("taskset")
                .arg("-c")
                .arg(cpu.to_string())
                .arg(binary)
                .arg("serve")
                .arg("--database-url")
                .arg(database_url)
                .arg("--listen")
                .arg(address.to_string())
                .arg("--metrics-listen")
                .arg(metrics.to_string())
                .arg("--api-rate-limit")
                .arg(BENCH_RATE_LIMIT.to_string())
                // The default filter, whatever the caller's environment says, so runs compare.
                .env("RUST_LOG", "info,sqlx=warn")
                .env_remove("DATABASE_URL")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(File::create(&log)?)
                .spawn()
                .with_context(|| format!("cannot start {} under taskset", binary.display()))?;
            let pid = child.id();
            instances.children.push((child, name));
            instances.list.push(Instance {
                name,
                pid,
                address,
                metrics,
                log,
            });
        }
        Ok(instances)
    }

    /// Waits until every instance answers `/readyz` with 200 and reports a healthy revocation
    /// listener, for at most `limit`.
    pub async fn wait_ready(&mut self, client: &reqwest::Client, limit: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + limit;
        for index in 0..self.list.len() {
            loop {
                let (child, name) = &mut self.children[index];
                if let Some(status) = child.try_wait()? {
                    bail!(
                        "instance {name} exited ({status}); see {}",
                        self.list[index].log.display()
                    );
                }
                let instance = &self.list[index];
                if ready(client, instance).await {
                    break;
                }
                if Instant::now() >= deadline {
                    bail!(
                        "instance {} not ready after {limit:?}; see {}",
                        instance.name,
                        instance.log.display()
                    );
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        Ok(())
    }

    /// Every instance still running, or which one stopped.
    pub fn check_running(&mut self) -> anyhow::Result<()> {
        for (child, name) in &mut self.children {
            if let Some(status) = child.try_wait()? {
                bail!("instance {name} exited during the run ({status})");
            }
        }
        Ok(())
    }
}

impl Drop for Instances {
    fn drop(&mut self) {
        for (child, _) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

async fn ready(client: &reqwest::Client, instance: &Instance) -> bool {
    let answered = client
        .get(format!("http://{}/readyz", instance.address))
        .send()
        .await
        .is_ok_and(|r| r.status() == reqwest::StatusCode::OK);
    answered
        && metric(client, instance.metrics, "keyward_revocation_listener_healthy")
            .await
            .is_ok_and(|v| v == 1.0)
}

/// The current value of one series from an instance's `/metrics` (labels included in `series`,
/// e.g. `keyward_api_auth_total{outcome="throttled"}`).
pub async fn metric(client: &reqwest::Client, metrics: SocketAddr, series: &str) -> anyhow::Result<f64> {
    let text = client
        .get(format!("http://{metrics}/metrics"))
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
        .ok_or_else(|| anyhow!("no series {series} in /metrics"))
}

/// A port nothing listens on now (the instance binds it a moment later).
fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Restricts every thread of this process, and every thread it starts later, to `cpu`; returns
/// the CPU list the kernel now reports for it.
pub fn pin_this_process(cpu: usize) -> anyhow::Result<String> {
    let status = Command::new("taskset")
        .args(["-a", "-cp", &cpu.to_string(), &std::process::id().to_string()])
        .stdout(Stdio::null())
        .status()
        .context("cannot run taskset (util-linux)")?;
    if !status.success() {
        bail!("taskset could not pin the load generator to CPU {cpu}");
    }
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("Cpus_allowed_list:"))
        .map(|list| list.trim().to_owned())
        .ok_or_else(|| anyhow!("no Cpus_allowed_list in /proc/self/status"))
}
