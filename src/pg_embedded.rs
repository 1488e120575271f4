//! The private PostgreSQL cluster keyward runs under its data directory when it is given no
//! database URL: finds the binaries, runs them as an unprivileged user when we are root, serves
//! on a Unix socket only, and lets a second keyward process share the cluster the first started.
//! Written by hand: the embedded-PostgreSQL crates download their own binaries and handle neither
//! running as root nor two processes sharing one data directory.

use std::env;
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Read as _};
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use sha2::{Digest as _, Sha256};
use sqlx::Connection as _;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgSslMode};

/// The port only names the socket file (`.s.PGSQL.5432`); nothing listens on TCP.
const PORT: u16 = 5432;
/// `initdb -U` names the superuser this way whichever OS user runs the cluster.
const SUPERUSER: &str = "postgres";
/// The OS user that runs PostgreSQL when keyward runs as root.
const UNPRIVILEGED_USER: &str = "postgres";
/// A Unix socket path must fit in `sun_path` (108 bytes on Linux); keep a margin.
const SOCKET_PATH_LIMIT: usize = 100;
const READY_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long `Drop` waits for another process's start/attach decision before stopping anyway.
const DROP_LOCK_PATIENCE: Duration = Duration::from_secs(5);
const LOG_TAIL_LINES: usize = 6;
/// A start that finds postgres.log larger than this moves it to postgres.log.1 (replacing the
/// one before), so the private cluster's log never grows without bound.
const LOG_ROTATE_BYTES: u64 = 10 * 1024 * 1024;

/// Where the private cluster lives.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    pub data_dir: PathBuf,
}

/// Whether this process started the cluster (and so must stop it) or uses one another runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterRole {
    Owner,
    Guest,
}

/// Why the private cluster could not be started, attached to or stopped. Each message is one
/// line an operator can act on.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "PostgreSQL binaries not found: install PostgreSQL (Debian: apt-get install postgresql) \
         or set DATABASE_URL to use a server"
    )]
    BinariesNotFound,
    #[error(
        "running as root, and there is no unprivileged `postgres` user to run PostgreSQL as: \
         create one (Debian: apt-get install postgresql) or set DATABASE_URL"
    )]
    NoUnprivilegedUser,
    #[error(
        "user {user} cannot traverse {} (mode {mode:04o}): choose a --data-dir under a directory \
         it can enter, or set DATABASE_URL",
        dir.display()
    )]
    Untraversable { user: String, dir: PathBuf, mode: u32 },
    #[error("cannot use {} as the PostgreSQL socket directory: {reason}", dir.display())]
    SocketDir { dir: PathBuf, reason: String },
    #[error("could not {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{command} failed: {detail}")]
    Command { command: String, detail: String },
    #[error(
        "PostgreSQL in {} failed to start: {detail}; end of {}: {log_tail}",
        pgdata.display(),
        log.display()
    )]
    StartFailed {
        pgdata: PathBuf,
        detail: String,
        log: PathBuf,
        log_tail: String,
    },
    #[error(
        "PostgreSQL at {} did not accept connections within {} s: {detail}",
        socket_dir.display(),
        READY_TIMEOUT.as_secs()
    )]
    NotReady { socket_dir: PathBuf, detail: String },
    #[error("could not create the database {database} in the private PostgreSQL: {source}")]
    CreateDatabase {
        database: &'static str,
        #[source]
        source: sqlx::Error,
    },
}

impl ClusterError {
    /// Errors the operator fixes by changing the machine or the configuration, not by retrying;
    /// the CLI reports them with exit status 2.
    pub fn is_configuration(&self) -> bool {
        matches!(
            self,
            Self::BinariesNotFound | Self::NoUnprivilegedUser | Self::Untraversable { .. } | Self::SocketDir { .. }
        )
    }
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> ClusterError {
    let path = path.to_path_buf();
    move |source| ClusterError::Io { action, path, source }
}

/// A running private cluster this process is using.
#[derive(Debug)]
pub struct PrivateCluster {
    layout: Layout,
    role: ClusterRole,
    /// An Owner whose server has not been stopped yet: `Drop` stops it.
    must_stop: bool,
    /// Held while `start_or_attach` decides and starts, so `Drop` on its error paths reuses it.
    decision_lock: Option<File>,
    temporary: Option<TemporaryDir>,
}

impl PrivateCluster {
    /// Starts the cluster (initdb on first use) or attaches to one another keyward process
    /// already runs on this data dir.
    pub async fn start_or_attach(cfg: &ClusterConfig) -> Result<PrivateCluster, ClusterError> {
        let bins = Binaries::find()?;
        let user = ClusterUser::current()?;
        let data_dir = prepare_data_dir(&cfg.data_dir)?;
        user.check_can_traverse(&data_dir)?;
        let layout = Layout::new(data_dir, bins, user);

        let lock = lock_exclusive(layout.lock_file()).await?;
        layout.prepare_dirs()?;

        if layout.is_initialized() && layout.is_running().await? {
            match OwnerMark::read(&layout.owner_file()) {
                Some(owner) if owner.is_alive() => {
                    let cluster = PrivateCluster {
                        layout,
                        role: ClusterRole::Guest,
                        must_stop: false,
                        decision_lock: Some(lock),
                        temporary: None,
                    };
                    cluster.layout.wait_ready().await?;
                    cluster.layout.ensure_app_database().await?;
                    tracing::info!(
                        socket_dir = %cluster.layout.socket_dir.display(),
                        owner_pid = owner.pid,
                        "attached to the private PostgreSQL at {} (started by pid {})",
                        cluster.layout.socket_dir.display(),
                        owner.pid
                    );
                    return Ok(cluster.decided());
                }
                gone => {
                    tracing::warn!(
                        socket_dir = %layout.socket_dir.display(),
                        "taking over the private PostgreSQL at {}: the process that started it \
                         ({}) is gone",
                        layout.socket_dir.display(),
                        gone.map_or_else(|| "unknown".to_owned(), |o| format!("pid {}", o.pid))
                    );
                    OwnerMark::ours().write(&layout.owner_file())?;
                    let cluster = PrivateCluster {
                        layout,
                        role: ClusterRole::Owner,
                        must_stop: true,
                        decision_lock: Some(lock),
                        temporary: None,
                    };
                    cluster.layout.wait_ready().await?;
                    cluster.layout.ensure_app_database().await?;
                    return Ok(cluster.decided());
                }
            }
        }

        layout.initdb_if_needed().await?;
        OwnerMark::ours().write(&layout.owner_file())?;
        let cluster = PrivateCluster {
            layout,
            role: ClusterRole::Owner,
            must_stop: true,
            decision_lock: Some(lock),
            temporary: None,
        };
        cluster.layout.start_server().await?;
        cluster.layout.wait_ready().await?;
        cluster.layout.ensure_app_database().await?;
        tracing::info!(
            socket_dir = %cluster.layout.socket_dir.display(),
            "private PostgreSQL started at {}",
            cluster.layout.socket_dir.display()
        );
        Ok(cluster.decided())
    }

    /// For tests: a fresh cluster in a new temporary directory that never outlives the calling
    /// process. A watchdog (`sh`, reading a pipe only this process can write to) stops the
    /// cluster and deletes the directory when the pipe closes, which happens however the
    /// process ends, so a cluster kept in a `static` is cleaned up too.
    pub async fn start_temporary() -> Result<PrivateCluster, ClusterError> {
        let bins = Binaries::find()?;
        let user = ClusterUser::current()?;
        let dir = create_temporary_dir(&user)?;
        let layout = Layout::new(dir.clone(), bins, user);
        let watchdog = match spawn_watchdog(&layout) {
            Ok(watchdog) => watchdog,
            Err(err) => {
                let _ = fs::remove_dir_all(&dir);
                return Err(err);
            }
        };
        // From here on, `Drop` stops whatever was started and removes the directory.
        let cluster = PrivateCluster {
            layout,
            role: ClusterRole::Owner,
            must_stop: true,
            decision_lock: None,
            temporary: Some(TemporaryDir { path: dir, watchdog }),
        };
        cluster.layout.user.check_can_traverse(&cluster.layout.data_dir)?;
        cluster.layout.prepare_dirs()?;
        cluster.layout.initdb_if_needed().await?;
        cluster.layout.start_server().await?;
        cluster.layout.wait_ready().await?;
        tracing::info!(
            socket_dir = %cluster.layout.socket_dir.display(),
            "temporary private PostgreSQL started at {}",
            cluster.layout.socket_dir.display()
        );
        Ok(cluster)
    }

    /// Connects over the Unix socket as the cluster's superuser (trust authentication).
    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        self.layout.connect_options(database)
    }

    pub fn socket_dir(&self) -> &Path {
        &self.layout.socket_dir
    }

    pub fn role(&self) -> ClusterRole {
        self.role
    }

    /// Stops the server if this process owns it, and removes the owner mark. A Guest only
    /// detaches. A temporary cluster is stopped and its directory deleted.
    pub async fn stop(mut self) -> Result<(), ClusterError> {
        if let Some(temporary) = self.temporary.take() {
            self.must_stop = false;
            let stopped = self.layout.stop_server("immediate").await;
            let removed = tokio::task::spawn_blocking(move || temporary.remove())
                .await
                .map_err(|join| ClusterError::Io {
                    action: "remove",
                    path: self.layout.data_dir.clone(),
                    source: io::Error::other(join),
                })
                .and_then(|result| result);
            stopped?;
            removed?;
            tracing::info!("temporary private PostgreSQL stopped");
            return Ok(());
        }
        if !self.must_stop {
            return Ok(());
        }
        // One attempt only: a failed stop is reported, not retried by `Drop`.
        self.must_stop = false;
        let lock = match self.decision_lock.take() {
            Some(lock) => lock,
            None => lock_exclusive(self.layout.lock_file()).await?,
        };
        let stopped = self.layout.stop_server("fast").await;
        let released = OwnerMark::release_if_ours(&self.layout.owner_file());
        drop(lock);
        stopped?;
        released?;
        tracing::info!(
            socket_dir = %self.layout.socket_dir.display(),
            "private PostgreSQL at {} stopped",
            self.layout.socket_dir.display()
        );
        Ok(())
    }

    /// The start/attach decision is made: let other processes decide theirs.
    fn decided(mut self) -> Self {
        self.decision_lock = None;
        self
    }
}

impl Drop for PrivateCluster {
    /// Best effort, synchronous: an Owner that was not stopped (a panic, an early return) still
    /// stops its server.
    fn drop(&mut self) {
        if let Some(temporary) = self.temporary.take() {
            self.layout.stop_server_blocking("immediate");
            if let Err(err) = temporary.remove() {
                tracing::warn!("{err}");
            }
            return;
        }
        if !self.must_stop {
            return;
        }
        self.must_stop = false;
        let lock = self
            .decision_lock
            .take()
            .or_else(|| lock_exclusive_patiently(&self.layout.lock_file()));
        self.layout.stop_server_blocking("fast");
        if let Err(err) = OwnerMark::release_if_ours(&self.layout.owner_file()) {
            tracing::warn!("{err}");
        }
        drop(lock);
        tracing::info!(
            "private PostgreSQL at {} stopped on drop",
            self.layout.socket_dir.display()
        );
    }
}

/// A temporary cluster's directory and the watchdog that cleans it up if we cannot.
#[derive(Debug)]
struct TemporaryDir {
    path: PathBuf,
    /// Its stdin is the pipe whose closing triggers the watchdog; never written to.
    watchdog: Child,
}

impl TemporaryDir {
    fn remove(mut self) -> Result<(), ClusterError> {
        // Closing the pipe lets the watchdog run (its stop finds nothing to stop) and exit.
        drop(self.watchdog.stdin.take());
        let _ = self.watchdog.wait();
        match fs::remove_dir_all(&self.path) {
            Err(err) if err.kind() != io::ErrorKind::NotFound => Err(io_error("remove", &self.path)(err)),
            _ => Ok(()),
        }
    }
}

/// The PostgreSQL programs we run. `postgres` itself is started by `pg_ctl`, which finds it
/// beside itself; we only check it is there.
#[derive(Debug, Clone)]
struct Binaries {
    initdb: PathBuf,
    pg_ctl: PathBuf,
}

impl Binaries {
    /// The first PATH directory holding all three programs, else the highest version under
    /// `/usr/lib/postgresql/*/bin` (Debian installs them there, off the PATH).
    fn find() -> Result<Self, ClusterError> {
        let on_path: Vec<PathBuf> = env::var_os("PATH")
            .map(|path| env::split_paths(&path).collect())
            .unwrap_or_default();
        on_path
            .into_iter()
            .chain(versioned_bin_dirs(Path::new("/usr/lib/postgresql")))
            .find_map(|dir| Self::in_dir(&dir))
            .ok_or(ClusterError::BinariesNotFound)
    }

    fn in_dir(dir: &Path) -> Option<Self> {
        let all_there = ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|name| is_executable(&dir.join(name)));
        all_there.then(|| Self {
            initdb: dir.join("initdb"),
            pg_ctl: dir.join("pg_ctl"),
        })
    }
}

/// `<root>/<version>/bin`, highest version first.
fn versioned_bin_dirs(root: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(root) else {
        return Vec::new();
    };
    let mut versions: Vec<(Vec<u32>, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name();
            let version: Option<Vec<u32>> = name.to_str()?.split('.').map(|part| part.parse().ok()).collect();
            Some((version?, entry.path().join("bin")))
        })
        .collect();
    versions.sort_by(|a, b| b.0.cmp(&a.0));
    versions.into_iter().map(|(_, dir)| dir).collect()
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.mode() & 0o111 != 0)
}

/// The OS user that runs initdb, pg_ctl and postgres.
#[derive(Debug, Clone)]
struct ClusterUser {
    name: String,
    uid: u32,
    gid: u32,
    /// We are root and must switch to this user (PostgreSQL refuses to run as root).
    switch: bool,
}

impl ClusterUser {
    fn current() -> Result<Self, ClusterError> {
        let me = fs::metadata("/proc/self").map_err(io_error("inspect", Path::new("/proc/self")))?;
        // A missing /etc/passwd only matters when we need the postgres user from it.
        let passwd = fs::read_to_string("/etc/passwd").unwrap_or_default();
        if me.uid() == 0 {
            let entry = passwd_entries(&passwd)
                .find(|entry| entry.name == UNPRIVILEGED_USER && entry.uid != 0)
                .ok_or(ClusterError::NoUnprivilegedUser)?;
            return Ok(Self {
                name: entry.name.to_owned(),
                uid: entry.uid,
                gid: entry.gid,
                switch: true,
            });
        }
        let name = passwd_entries(&passwd)
            .find(|entry| entry.uid == me.uid())
            .map_or_else(|| format!("uid {}", me.uid()), |entry| entry.name.to_owned());
        Ok(Self {
            name,
            uid: me.uid(),
            gid: me.gid(),
            switch: false,
        })
    }

    /// Every directory from `/` down to `dir` must let this user through, or PostgreSQL fails
    /// with a confusing "permission denied" deep in its log. Names the topmost one that does not.
    fn check_can_traverse(&self, dir: &Path) -> Result<(), ClusterError> {
        if !self.switch {
            return Ok(());
        }
        let mut ancestors: Vec<&Path> = dir.ancestors().collect();
        ancestors.reverse();
        for ancestor in ancestors {
            let meta = fs::metadata(ancestor).map_err(io_error("inspect", ancestor))?;
            if !self.can_traverse(&meta) {
                return Err(ClusterError::Untraversable {
                    user: self.name.clone(),
                    dir: ancestor.to_path_buf(),
                    mode: meta.mode() & 0o7777,
                });
            }
        }
        Ok(())
    }

    /// The kernel's rule: the owner bits if we own it, else the group bits if it is our
    /// (primary, the only one we keep after dropping root) group, else the other bits.
    fn can_traverse(&self, meta: &fs::Metadata) -> bool {
        let mode = meta.mode();
        if meta.uid() == self.uid {
            mode & 0o100 != 0
        } else if meta.gid() == self.gid {
            mode & 0o010 != 0
        } else {
            mode & 0o001 != 0
        }
    }

    /// Gives a path we created to the cluster's user.
    fn take_ownership(&self, path: &Path) -> Result<(), ClusterError> {
        if self.switch {
            std::os::unix::fs::chown(path, Some(self.uid), Some(self.gid))
                .map_err(io_error("change the owner of", path))?;
        }
        Ok(())
    }
}

struct PasswdEntry<'a> {
    name: &'a str,
    uid: u32,
    gid: u32,
}

fn passwd_entries(passwd: &str) -> impl Iterator<Item = PasswdEntry<'_>> {
    passwd.lines().filter_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let _password = fields.next()?;
        let uid = fields.next()?.parse().ok()?;
        let gid = fields.next()?.parse().ok()?;
        Some(PasswdEntry { name, uid, gid })
    })
}

/// Creates the data directory (traversable, so the cluster's user can reach pgdata inside it)
/// and returns its canonical path.
fn prepare_data_dir(dir: &Path) -> Result<PathBuf, ClusterError> {
    if !dir.exists() {
        DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(dir)
            .map_err(io_error("create the data directory", dir))?;
        // The umask may have taken the x bits the cluster's user needs.
        fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).map_err(io_error("set the mode of", dir))?;
    }
    fs::canonicalize(dir).map_err(io_error("resolve the data directory", dir))
}

/// A new private directory under the system temporary directory, owned by the cluster's user.
/// (Not `tempfile`: it is only a dev-dependency, and integration tests need this in the lib.)
fn create_temporary_dir(user: &ClusterUser) -> Result<PathBuf, ClusterError> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let base = env::temp_dir();
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = base.join(format!("keyward-pg-{}-{n}", std::process::id()));
        match DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => {
                let owned = user
                    .take_ownership(&dir)
                    .and_then(|()| fs::canonicalize(&dir).map_err(io_error("resolve", &dir)));
                if owned.is_err() {
                    let _ = fs::remove_dir(&dir);
                }
                return owned;
            }
            // A leftover from an earlier process that had our pid: pick the next name.
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists && n < 10_000 => continue,
            Err(err) => return Err(io_error("create a temporary directory in", &base)(err)),
        }
    }
}

/// Where everything of one cluster is, and who runs it.
#[derive(Debug)]
struct Layout {
    data_dir: PathBuf,
    pgdata: PathBuf,
    socket_dir: PathBuf,
    log: PathBuf,
    bins: Binaries,
    user: ClusterUser,
}

impl Layout {
    fn new(data_dir: PathBuf, bins: Binaries, user: ClusterUser) -> Self {
        Self {
            pgdata: data_dir.join("pgdata"),
            socket_dir: socket_dir_for(&data_dir),
            log: data_dir.join("postgres.log"),
            data_dir,
            bins,
            user,
        }
    }

    fn lock_file(&self) -> PathBuf {
        self.data_dir.join("cluster.lock")
    }

    fn owner_file(&self) -> PathBuf {
        self.data_dir.join("cluster.owner")
    }

    fn is_initialized(&self) -> bool {
        self.pgdata.join("PG_VERSION").exists()
    }

    fn connect_options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new_without_pgpass()
            .socket(&self.socket_dir)
            .port(PORT)
            .username(SUPERUSER)
            .database(database)
            .ssl_mode(PgSslMode::Disable)
    }

    /// pgdata (0700, as PostgreSQL demands) and the socket directory, owned by the cluster's user.
    fn prepare_dirs(&self) -> Result<(), ClusterError> {
        if !self.pgdata.exists() {
            DirBuilder::new()
                .mode(0o700)
                .create(&self.pgdata)
                .map_err(io_error("create", &self.pgdata))?;
        }
        self.user.take_ownership(&self.pgdata)?;
        fs::set_permissions(&self.pgdata, fs::Permissions::from_mode(0o700))
            .map_err(io_error("set the mode of", &self.pgdata))?;
        self.prepare_socket_dir()
    }

    fn prepare_socket_dir(&self) -> Result<(), ClusterError> {
        let dir = &self.socket_dir;
        // The short directory under /tmp is shared ground: never adopt one someone else made.
        let shared = !dir.starts_with(&self.data_dir);
        match fs::symlink_metadata(dir) {
            Ok(meta) if !meta.file_type().is_dir() => {
                return Err(ClusterError::SocketDir {
                    dir: dir.clone(),
                    reason: "it exists and is not a directory; remove it".to_owned(),
                });
            }
            Ok(meta) if shared && meta.uid() != self.user.uid => {
                return Err(ClusterError::SocketDir {
                    dir: dir.clone(),
                    reason: format!("it belongs to uid {}, not to {}; remove it", meta.uid(), self.user.name),
                });
            }
            Ok(_) => {}
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                DirBuilder::new()
                    .mode(0o700)
                    .create(dir)
                    .map_err(io_error("create the socket directory", dir))?;
            }
            Err(err) => return Err(io_error("inspect", dir)(err)),
        }
        self.user.take_ownership(dir)?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io_error("set the mode of", dir))
    }

    /// A command run as the cluster's user, from a directory it can enter (PostgreSQL's tools
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

    async fn initdb_if_needed(&self) -> Result<(), ClusterError> {
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
    async fn is_running(&self) -> Result<bool, ClusterError> {
        let mut cmd = self.command(&self.bins.pg_ctl);
        cmd.arg("status").arg("-D").arg(&self.pgdata);
        Ok(self.run(cmd).await?.status.success())
    }

    async fn start_server(&self) -> Result<(), ClusterError> {
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

    async fn stop_server(&self, mode: &str) -> Result<(), ClusterError> {
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

    fn stop_server_blocking(&self, mode: &str) {
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
    async fn wait_ready(&self) -> Result<(), ClusterError> {
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

    async fn ensure_app_database(&self) -> Result<(), ClusterError> {
        const DATABASE: &str = "keyward";
        let failed = |source| ClusterError::CreateDatabase {
            database: DATABASE,
            source,
        };
        let mut conn = PgConnection::connect_with(&self.connect_options("postgres"))
            .await
            .map_err(failed)?;
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(DATABASE)
            .fetch_one(&mut conn)
            .await
            .map_err(failed)?;
        if !exists {
            // CREATE DATABASE cannot run in a transaction: simple protocol.
            sqlx::raw_sql("CREATE DATABASE keyward")
                .execute(&mut conn)
                .await
                .map_err(failed)?;
            tracing::info!("created the database {DATABASE} in the private PostgreSQL");
        }
        let _ = conn.close().await;
        Ok(())
    }
}

/// `<data_dir>/run` when the socket path fits, else a short directory every process derives
/// the same way from the data directory.
fn socket_dir_for(data_dir: &Path) -> PathBuf {
    let inside = data_dir.join("run");
    let socket = inside.join(format!(".s.PGSQL.{PORT}"));
    if socket.as_os_str().len() < SOCKET_PATH_LIMIT {
        return inside;
    }
    let digest = hex::encode(Sha256::digest(data_dir.as_os_str().as_bytes()));
    PathBuf::from(format!("/tmp/keyward-{}", &digest[..12]))
}

/// Stops the temporary cluster and deletes its directory once the pipe on its stdin closes.
/// It ignores the terminal's signals and has its own process group, so a Ctrl-C that kills
/// the test run does not kill the watchdog before it has done its job.
fn spawn_watchdog(layout: &Layout) -> Result<Child, ClusterError> {
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

fn lock_exclusive_blocking(path: &Path) -> Result<File, ClusterError> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(path)
        .map_err(io_error("open the lock file", path))?;
    file.lock().map_err(io_error("lock", path))?;
    Ok(file)
}

async fn lock_exclusive(path: PathBuf) -> Result<File, ClusterError> {
    let blocking_path = path.clone();
    tokio::task::spawn_blocking(move || lock_exclusive_blocking(&blocking_path))
        .await
        .map_err(|join| ClusterError::Io {
            action: "lock",
            path,
            source: io::Error::other(join),
        })?
}

/// For `Drop`: waiting forever there could deadlock (the holder may be a task of this very
/// runtime), so wait a little and then go ahead without the lock.
fn lock_exclusive_patiently(path: &Path) -> Option<File> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(path)
        .ok()?;
    let deadline = std::time::Instant::now() + DROP_LOCK_PATIENCE;
    loop {
        match file.try_lock() {
            Ok(()) => return Some(file),
            Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(_) => return None,
        }
    }
}

/// Who started the cluster: pid plus the process's start time, so a recycled pid (a restarted
/// container's pid 1, say) is not mistaken for the owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct OwnerMark {
    pid: u32,
    start_time: Option<u64>,
}

impl OwnerMark {
    fn ours() -> Self {
        Self {
            pid: std::process::id(),
            start_time: process_start_time("self"),
        }
    }

    fn read(path: &Path) -> Option<Self> {
        let text = fs::read_to_string(path).ok()?;
        let mut fields = text.split_whitespace();
        let pid = fields.next()?.parse().ok()?;
        let start_time = fields.next().and_then(|field| field.parse().ok());
        Some(Self { pid, start_time })
    }

    fn write(self, path: &Path) -> Result<(), ClusterError> {
        let text = match self.start_time {
            Some(start_time) => format!("{} {start_time}\n", self.pid),
            None => format!("{}\n", self.pid),
        };
        fs::write(path, text).map_err(io_error("write", path))
    }

    fn is_alive(self) -> bool {
        if !Path::new("/proc").join(self.pid.to_string()).exists() {
            return false;
        }
        match self.start_time {
            Some(recorded) => process_start_time(&self.pid.to_string()) == Some(recorded),
            None => true,
        }
    }

    /// Removes the mark unless another process has taken the cluster over since.
    fn release_if_ours(path: &Path) -> Result<(), ClusterError> {
        if Self::read(path) != Some(Self::ours()) {
            return Ok(());
        }
        match fs::remove_file(path) {
            Err(err) if err.kind() != io::ErrorKind::NotFound => Err(io_error("remove", path)(err)),
            _ => Ok(()),
        }
    }
}

/// Field 22 of `/proc/<pid>/stat` (clock ticks since boot), read after the `)` that ends the
/// command name, which may itself contain spaces.
fn process_start_time(pid: &str) -> Option<u64> {
    let stat = fs::read_to_string(Path::new("/proc").join(pid).join("stat")).ok()?;
    let (_, after_name) = stat.rsplit_once(')')?;
    after_name.split_whitespace().nth(19)?.parse().ok()
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

/// Moves `log` to `<log>.1` when it is larger than `limit` bytes.
fn rotate_log(log: &Path, limit: u64) -> Result<(), ClusterError> {
    match fs::metadata(log) {
        Ok(metadata) if metadata.len() > limit => {
            let mut previous = log.as_os_str().to_owned();
            previous.push(".1");
            fs::rename(log, PathBuf::from(previous)).map_err(io_error("rotate the log file", log))
        }
        _ => Ok(()),
    }
}

/// The last lines of postgres.log, where PostgreSQL says why it did not start.
fn log_tail(log: &Path) -> String {
    let mut text = String::new();
    match File::open(log).and_then(|mut file| file.read_to_string(&mut text)) {
        Ok(_) => one_line(&text, LOG_TAIL_LINES),
        Err(err) => format!("(unreadable: {err})"),
    }
}

/// The last `lines` non-empty lines joined into one, for one-line error messages.
fn one_line(text: &str, lines: usize) -> String {
    let kept: Vec<&str> = text.lines().map(str::trim).filter(|line| !line.is_empty()).collect();
    kept[kept.len().saturating_sub(lines)..].join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead as _, BufReader};

    fn cluster_user() -> ClusterUser {
        ClusterUser::current().expect("a user to run PostgreSQL as")
    }

    /// A temporary directory the cluster's user can enter (tempdirs are created 0700).
    fn reachable_tempdir() -> tempfile::TempDir {
        let dir = tempfile::Builder::new()
            .prefix("keyward-pg-test-")
            .tempdir_in(env::temp_dir())
            .expect("tempdir");
        cluster_user().take_ownership(dir.path()).expect("chown tempdir");
        dir
    }

    /// Pids (other than ours) whose command line mentions `path`.
    fn processes_mentioning(path: &Path) -> Vec<u32> {
        let needle = path.to_string_lossy().into_owned();
        let me = std::process::id();
        fs::read_dir("/proc")
            .expect("/proc")
            .filter_map(Result::ok)
            .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
            .filter(|&pid| pid != me)
            .filter(|pid| {
                fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).replace('\0', " ").contains(&needle))
            })
            .collect()
    }

    fn dead_pid() -> u32 {
        (1000..32_000)
            .rev()
            .find(|pid| !Path::new("/proc").join(pid.to_string()).exists())
            .expect("a free pid")
    }

    async fn query_one(cluster: &PrivateCluster, database: &str, sql: &'static str) -> i64 {
        let mut conn = PgConnection::connect_with(&cluster.connect_options(database))
            .await
            .expect("connect");
        let value: i64 = sqlx::query_scalar(sql).fetch_one(&mut conn).await.expect("query");
        conn.close().await.expect("close");
        value
    }

    #[tokio::test]
    async fn temporary_cluster_serves_on_a_socket_only_and_leaves_nothing_behind() {
        let cluster = PrivateCluster::start_temporary().await.expect("start");
        let pgdata = cluster.layout.pgdata.clone();
        let dir = cluster.layout.data_dir.clone();

        let mut conn = PgConnection::connect_with(&cluster.connect_options("postgres"))
            .await
            .expect("connect");
        let one: i32 = sqlx::query_scalar("SELECT 1")
            .fetch_one(&mut conn)
            .await
            .expect("select");
        let listen: String = sqlx::query_scalar("SHOW listen_addresses")
            .fetch_one(&mut conn)
            .await
            .expect("show");
        conn.close().await.expect("close");
        assert_eq!(one, 1);
        assert_eq!(listen, "", "no TCP listener");
        assert_eq!(cluster.role(), ClusterRole::Owner);
        assert!(cluster.socket_dir().join(".s.PGSQL.5432").exists());
        assert!(!processes_mentioning(&pgdata).is_empty());

        cluster.stop().await.expect("stop");

        assert_eq!(processes_mentioning(&pgdata), Vec::<u32>::new());
        assert!(!dir.exists(), "temporary directory removed");
    }

    #[tokio::test]
    async fn second_process_attaches_as_guest_and_data_survives_restart() {
        let tmp = reachable_tempdir();
        let cfg = ClusterConfig {
            data_dir: tmp.path().join("data"),
        };

        let owner = PrivateCluster::start_or_attach(&cfg).await.expect("owner");
        assert_eq!(owner.role(), ClusterRole::Owner);
        let pgdata = owner.layout.pgdata.clone();
        let mut conn = PgConnection::connect_with(&owner.connect_options("keyward"))
            .await
            .expect("connect keyward");
        sqlx::raw_sql("CREATE TABLE survivor (id int); INSERT INTO survivor VALUES (7)")
            .execute(&mut conn)
            .await
            .expect("create table");
        conn.close().await.expect("close");

        let guest = PrivateCluster::start_or_attach(&cfg).await.expect("guest");
        assert_eq!(guest.role(), ClusterRole::Guest);
        assert_eq!(guest.socket_dir(), owner.socket_dir());
        assert_eq!(query_one(&guest, "keyward", "SELECT count(*) FROM survivor").await, 1);
        assert_eq!(query_one(&owner, "keyward", "SELECT count(*) FROM survivor").await, 1);

        guest.stop().await.expect("guest stop");
        assert_eq!(query_one(&owner, "keyward", "SELECT 1::int8").await, 1);

        owner.stop().await.expect("owner stop");
        assert_eq!(processes_mentioning(&pgdata), Vec::<u32>::new());
        assert!(!cfg.data_dir.join("cluster.owner").exists());

        let again = PrivateCluster::start_or_attach(&cfg).await.expect("restart");
        assert_eq!(again.role(), ClusterRole::Owner);
        assert_eq!(query_one(&again, "keyward", "SELECT sum(id) FROM survivor").await, 7);
        again.stop().await.expect("stop again");
        assert_eq!(processes_mentioning(&pgdata), Vec::<u32>::new());
    }

    #[tokio::test]
    async fn stale_postmaster_pid_does_not_prevent_a_start() {
        let tmp = reachable_tempdir();
        let cfg = ClusterConfig {
            data_dir: tmp.path().join("data"),
        };
        let first = PrivateCluster::start_or_attach(&cfg).await.expect("first");
        let pgdata = first.layout.pgdata.clone();
        let socket_dir = first.socket_dir().to_path_buf();
        first.stop().await.expect("stop");

        fs::write(
            pgdata.join("postmaster.pid"),
            format!(
                "{}\n{}\n1700000000\n5432\n{}\n\n  5432001         0\nready   \n",
                dead_pid(),
                pgdata.display(),
                socket_dir.display()
            ),
        )
        .expect("write stale pid file");

        let second = PrivateCluster::start_or_attach(&cfg).await.expect("second");
        assert_eq!(second.role(), ClusterRole::Owner);
        assert_eq!(query_one(&second, "keyward", "SELECT 1::int8").await, 1);
        second.stop().await.expect("stop");
        assert_eq!(processes_mentioning(&pgdata), Vec::<u32>::new());
    }

    #[tokio::test]
    async fn cluster_whose_owner_died_is_taken_over() {
        let tmp = reachable_tempdir();
        let cfg = ClusterConfig {
            data_dir: tmp.path().join("data"),
        };
        let crashed = PrivateCluster::start_or_attach(&cfg).await.expect("first");
        let pgdata = crashed.layout.pgdata.clone();
        fs::write(cfg.data_dir.join("cluster.owner"), format!("{} 1\n", dead_pid())).expect("fake a dead owner");

        let heir = PrivateCluster::start_or_attach(&cfg).await.expect("heir");
        assert_eq!(heir.role(), ClusterRole::Owner);
        assert_eq!(query_one(&heir, "keyward", "SELECT 1::int8").await, 1);
        heir.stop().await.expect("heir stop");
        assert_eq!(processes_mentioning(&pgdata), Vec::<u32>::new());

        // The first owner finds it already stopped, which is fine.
        crashed.stop().await.expect("first stop");
    }

    #[tokio::test]
    async fn long_data_dir_serves_from_a_short_socket_dir() {
        let tmp = reachable_tempdir();
        let long_name = "d".repeat(80);
        let cfg = ClusterConfig {
            data_dir: tmp.path().join(&long_name),
        };
        let canonical_tmp = fs::canonicalize(tmp.path()).expect("canonical");
        let expected_socket_dir = socket_dir_for(&canonical_tmp.join(&long_name));
        let _remove_socket_dir = RemoveOnDrop(expected_socket_dir.clone());
        assert!(expected_socket_dir.to_string_lossy().starts_with("/tmp/keyward-"));

        let owner = PrivateCluster::start_or_attach(&cfg).await.expect("start");
        assert_eq!(owner.socket_dir(), expected_socket_dir);
        let pgdata = owner.layout.pgdata.clone();
        let guest = PrivateCluster::start_or_attach(&cfg).await.expect("attach");
        assert_eq!(guest.socket_dir(), expected_socket_dir);
        assert_eq!(query_one(&guest, "keyward", "SELECT 1::int8").await, 1);
        guest.stop().await.expect("guest stop");
        owner.stop().await.expect("stop");

        assert_eq!(processes_mentioning(&pgdata), Vec::<u32>::new());
    }

    /// The shared socket directory lives outside the test's tempdir.
    struct RemoveOnDrop(PathBuf);

    impl Drop for RemoveOnDrop {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[tokio::test]
    async fn dropping_an_owner_stops_its_cluster() {
        let tmp = reachable_tempdir();
        let cfg = ClusterConfig {
            data_dir: tmp.path().join("data"),
        };
        let owner = PrivateCluster::start_or_attach(&cfg).await.expect("start");
        let pgdata = owner.layout.pgdata.clone();
        drop(owner);
        assert_eq!(processes_mentioning(&pgdata), Vec::<u32>::new());
        assert!(!cfg.data_dir.join("cluster.owner").exists());
    }

    #[tokio::test]
    async fn untraversable_parent_is_a_configuration_error_naming_it() {
        if !cluster_user().switch {
            return; // Only root switches users; our own directories are always ours to enter.
        }
        let private = tempfile::Builder::new()
            .prefix("keyward-pg-private-")
            .tempdir_in(env::temp_dir())
            .expect("tempdir");
        fs::set_permissions(private.path(), fs::Permissions::from_mode(0o700)).expect("chmod");
        let cfg = ClusterConfig {
            data_dir: private.path().join("data"),
        };

        let err = PrivateCluster::start_or_attach(&cfg).await.expect_err("must refuse");

        assert!(err.is_configuration(), "{err}");
        let private_dir = fs::canonicalize(private.path()).expect("canonical");
        let message = err.to_string();
        assert!(message.contains(&*private_dir.to_string_lossy()), "{message}");
        assert!(message.contains("(mode 0700)"), "{message}");
        assert!(!message.contains('\n'), "{message}");
    }

    const WATCHDOG_CHILD: &str = "KEYWARD_PG_WATCHDOG_CHILD";

    /// Run by `watchdog_stops_the_cluster_of_a_killed_process` in a child test process.
    #[tokio::test]
    #[ignore = "helper: runs only as the child of the watchdog test"]
    async fn watchdog_child_holds_a_cluster() {
        if env::var_os(WATCHDOG_CHILD).is_none() {
            return;
        }
        let cluster = PrivateCluster::start_temporary().await.expect("start");
        println!("PGDATA={}", cluster.layout.pgdata.display());
        // The parent kills us long before this; if it does not, clean up normally.
        tokio::time::sleep(Duration::from_secs(120)).await;
        cluster.stop().await.expect("stop");
    }

    #[test]
    fn watchdog_stops_the_cluster_of_a_killed_process() {
        let mut child = Command::new(env::current_exe().expect("test binary"))
            .args([
                "pg_embedded::tests::watchdog_child_holds_a_cluster",
                "--exact",
                "--ignored",
                "--nocapture",
            ])
            .env(WATCHDOG_CHILD, "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn child test");
        let stdout = child.stdout.take().expect("stdout");
        let pgdata = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find_map(|line| line.strip_prefix("PGDATA=").map(PathBuf::from));
        child.kill().expect("kill");
        child.wait().expect("wait");
        let pgdata = pgdata.expect("child reported its cluster");
        let dir = pgdata.parent().expect("temporary dir").to_path_buf();

        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while (!processes_mentioning(&pgdata).is_empty() || dir.exists()) && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        assert_eq!(processes_mentioning(&pgdata), Vec::<u32>::new());
        assert!(!dir.exists(), "watchdog removed {}", dir.display());
    }

    #[test]
    fn a_log_over_its_limit_is_moved_aside_and_a_small_one_stays() {
        let dir = tempfile::tempdir().expect("temporary dir");
        let log = dir.path().join("postgres.log");
        fs::write(&log, "x".repeat(100)).expect("write log");
        rotate_log(&log, 100).expect("rotate");
        assert!(log.exists(), "at the limit, the log stays");

        fs::write(dir.path().join("postgres.log.1"), "older").expect("write old log");
        fs::write(&log, "y".repeat(101)).expect("write log");
        rotate_log(&log, 100).expect("rotate");
        assert!(!log.exists(), "over the limit, the log is moved aside");
        assert_eq!(
            fs::read_to_string(dir.path().join("postgres.log.1")).expect("moved log"),
            "y".repeat(101),
            "replacing the one before"
        );
        rotate_log(&log, 100).expect("no log at all is fine");
    }

    #[test]
    fn long_data_dirs_get_a_short_deterministic_socket_dir() {
        let short = Path::new("/srv/keyward-data");
        assert_eq!(socket_dir_for(short), short.join("run"));

        let long = PathBuf::from(format!("/srv/{}", "d".repeat(90)));
        let socket_dir = socket_dir_for(&long);
        assert_eq!(socket_dir, socket_dir_for(&long));
        let name = socket_dir.to_string_lossy().into_owned();
        assert!(name.starts_with("/tmp/keyward-"), "{name}");
        assert_eq!(name.len(), "/tmp/keyward-".len() + 12);
    }

    #[test]
    fn passwd_lines_parse_into_names_and_ids() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\n\
                      broken line\n\
                      postgres:x:101:104:PostgreSQL administrator,,,:/var/lib/postgresql:/bin/bash\n";
        let entry = passwd_entries(passwd)
            .find(|entry| entry.name == "postgres")
            .expect("postgres");
        assert_eq!((entry.uid, entry.gid), (101, 104));
        assert_eq!(passwd_entries(passwd).count(), 2);
    }

    #[test]
    fn highest_installed_version_comes_first() {
        let root = tempfile::tempdir().expect("tempdir");
        for version in ["9.6", "15", "13", "notes"] {
            fs::create_dir(root.path().join(version)).expect("mkdir");
        }
        let dirs = versioned_bin_dirs(root.path());
        let names: Vec<_> = dirs
            .iter()
            .map(|dir| dir.parent().and_then(Path::file_name).expect("name"))
            .collect();
        assert_eq!(names, ["15", "13", "9.6"]);
    }

    #[test]
    fn error_messages_are_single_lines() {
        let errors = [
            ClusterError::BinariesNotFound,
            ClusterError::NoUnprivilegedUser,
            ClusterError::Untraversable {
                user: "postgres".to_owned(),
                dir: PathBuf::from("/root"),
                mode: 0o700,
            },
        ];
        for err in &errors {
            assert!(err.is_configuration());
            assert!(!err.to_string().contains('\n'), "{err}");
        }
        assert_eq!(
            errors[2].to_string(),
            "user postgres cannot traverse /root (mode 0700): choose a --data-dir under a \
             directory it can enter, or set DATABASE_URL"
        );
        assert_eq!(
            errors[0].to_string(),
            "PostgreSQL binaries not found: install PostgreSQL (Debian: apt-get install \
             postgresql) or set DATABASE_URL to use a server"
        );
    }
}
