//! The cluster's lifecycle: initdb, start, wait until it accepts connections, stop, and the
//! watchdog that stops a temporary cluster whatever happens.

use std::fs::{self, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use sqlx::Connection as _;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgSslMode};

use super::data_dir::Layout;
use super::error::{ClusterError, io_error};
use super::log::{LOG_ROTATE_BYTES, LOG_TAIL_LINES, log_tail, one_line, rotate_log};

/// The port only names the socket file (`.s.PGSQL.5432`); nothing listens on TCP.
pub(super) const PORT: u16 = 5432;
/// `initdb -U` names the superuser this way whichever OS user runs the cluster.
pub(super) const SUPERUSER: &str = "postgres";
pub(super) const READY_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

impl Layout {
    pub(super) fn connect_options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new_without_pgpass()
            .socket(&self.socket_dir)
            .port(PORT)
            .username(SUPERUSER)
            .database(database)
            .ssl_mode(PgSslMode::Disable)
    }

    /// fail when they cannot read their working directory, e.g. `/root`).
    fn command(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(&self.data_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env_remove("PGDATA")
            .env_remove("PGPORT")
            .env_remove("PGHOST");
        if self.user.switch {
            cmd.uid(self.user.uid).gid(self.user.gid);
        }
        cmd
    }

    async fn run(&self, cmd: Command) -> Result<Output, ClusterError> {
        let program = PathBuf::from(cmd.get_program());
        tokio::process::Command::from(cmd)
            .output()
            .await
            .map_err(io_error("run", &program))
    }

    pub(super) async fn initdb_if_needed(&self) -> Result<(), ClusterError> {
        if self.is_initialized() {
            return Ok(());
        }
        let mut cmd = self.command(&self.bins.initdb);
        cmd.arg("-D")
            .arg(&self.pgdata)
            .args(["-U", SUPERUSER, "--auth=trust", "--encoding=UTF8", "--locale=C"]);
        let output = self.run(cmd).await?;
        if !output.status.success() {
            return Err(ClusterError::Command {
                command: format!("initdb -D {}", self.pgdata.display()),
                detail: failure_detail(&output),
            });
        }
        tracing::info!("initialized a new PostgreSQL cluster in {}", self.pgdata.display());
        Ok(())
    }

    /// `pg_ctl status`: 0 when a live postmaster owns pgdata, 3 when not, 4 without pgdata.
    pub(super) async fn is_running(&self) -> Result<bool, ClusterError> {
        let mut cmd = self.command(&self.bins.pg_ctl);
        cmd.arg("status").arg("-D").arg(&self.pgdata);
        Ok(self.run(cmd).await?.status.success())
    }

    pub(super) async fn start_server(&self) -> Result<(), ClusterError> {
        self.remove_stale_pid_file()?;
        rotate_log(&self.log, LOG_ROTATE_BYTES)?;
        // pg_ctl opens the log as the cluster's user, and the data dir stays root's.
        OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&self.log)
            .map_err(io_error("create the log file", &self.log))?;
        self.user.take_ownership(&self.log)?;

        // pg_ctl hands these to postgres through /bin/sh, hence the shell quoting.
        let server_options = format!(
            "-c listen_addresses='' -c port={PORT} -k {}",
            shell_quote(&self.socket_dir)
        );
        let mut cmd = self.command(&self.bins.pg_ctl);
        cmd.arg("start")
            .arg("-D")
            .arg(&self.pgdata)
            .args(["-w", "-t", "60", "-l"])
            .arg(&self.log)
            .arg("-o")
            .arg(server_options);
        let output = self.run(cmd).await?;
        if !output.status.success() {
            return Err(ClusterError::StartFailed {
                pgdata: self.pgdata.clone(),
                detail: failure_detail(&output),
                log: self.log.clone(),
                log_tail: log_tail(&self.log),
            });
        }
        Ok(())
    }

    /// A crash leaves postmaster.pid behind; PostgreSQL usually copes, but not if the pid now
    /// belongs to another process. Only called when `pg_ctl status` said it is not running.
    fn remove_stale_pid_file(&self) -> Result<(), ClusterError> {
        let pid_file = self.pgdata.join("postmaster.pid");
        match fs::remove_file(&pid_file) {
            Ok(()) => {
                tracing::warn!("removed a stale {} left by a crash", pid_file.display());
                Ok(())
            }
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(io_error("remove", &pid_file)(err)),
        }
    }

    pub(super) async fn stop_server(&self, mode: &str) -> Result<(), ClusterError> {
        let mut cmd = self.command(&self.bins.pg_ctl);
        cmd.arg("stop").arg("-D").arg(&self.pgdata).args(["-m", mode, "-w"]);
        let output = self.run(cmd).await?;
        if output.status.success() || !self.is_running().await? {
            return Ok(());
        }
        Err(ClusterError::Command {
            command: format!("pg_ctl stop -D {} -m {mode}", self.pgdata.display()),
            detail: failure_detail(&output),
        })
    }

    pub(super) fn stop_server_blocking(&self, mode: &str) {
        let mut cmd = self.command(&self.bins.pg_ctl);
        cmd.arg("stop")
            .arg("-D")
            .arg(&self.pgdata)
            .args(["-m", mode, "-w"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Err(err) = cmd.status() {
            tracing::warn!(
                "could not stop the private PostgreSQL in {}: {err}",
                self.pgdata.display()
            );
        }
    }

    /// `pg_ctl -w` saw the server up; this also proves the socket is where we connect.
    pub(super) async fn wait_ready(&self) -> Result<(), ClusterError> {
        let options = self.connect_options("postgres");
        let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
        loop {
            let attempt = tokio::time::timeout(CONNECT_ATTEMPT_TIMEOUT, PgConnection::connect_with(&options)).await;
            let detail = match attempt {
                Ok(Ok(conn)) => {
                    let _ = conn.close().await;
                    return Ok(());
                }
                Ok(Err(err)) => err.to_string(),
                Err(_) => "connection attempt timed out".to_owned(),
            };
            if tokio::time::Instant::now() >= deadline {
                return Err(ClusterError::NotReady {
                    socket_dir: self.socket_dir.clone(),
                    detail,
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Stops the temporary cluster and deletes its directory once the pipe on its stdin closes.
/// It ignores the terminal's signals and has its own process group, so a Ctrl-C that kills
/// the test run does not kill the watchdog before it has done its job.
pub(super) fn spawn_watchdog(layout: &Layout) -> Result<Child, ClusterError> {
    const SCRIPT: &str = "trap '' HUP INT QUIT TERM; cat >/dev/null; \
                          \"$1\" stop -D \"$2\" -m immediate -w; rm -rf \"$3\"";
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(SCRIPT)
        .arg("keyward-pg-watchdog")
        .arg(&layout.bins.pg_ctl)
        .arg(&layout.pgdata)
        .arg(&layout.data_dir)
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    if layout.user.switch {
        cmd.uid(layout.user.uid).gid(layout.user.gid);
    }
    cmd.spawn()
        .map_err(io_error("start the watchdog", Path::new("/bin/sh")))
}

fn shell_quote(path: &Path) -> String {
    format!("'{}'", path.to_string_lossy().replace('\'', r"'\''"))
}

fn failure_detail(output: &Output) -> String {
    let stderr = one_line(&String::from_utf8_lossy(&output.stderr), LOG_TAIL_LINES);
    let stdout = one_line(&String::from_utf8_lossy(&output.stdout), LOG_TAIL_LINES);
    let said = if stderr.is_empty() { stdout } else { stderr };
    format!("{}: {said}", output.status)
}
