//! The private PostgreSQL cluster keyward runs under its data directory when it is given no
//! database URL: finds the binaries, runs them as an unprivileged user when we are root, serves
//! on a Unix socket only, and lets a second keyward process share the cluster the first started.
//! Written by hand: the embedded-PostgreSQL crates download their own binaries and handle neither
//! running as root nor two processes sharing one data directory.

mod binaries;
mod cluster_user;
mod data_dir;
mod error;
mod lifecycle;
mod lock;
mod log;
mod roles;

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::process::Child;

use sqlx::postgres::PgConnectOptions;

use binaries::Binaries;
use cluster_user::ClusterUser;
use data_dir::{Layout, create_temporary_dir, prepare_data_dir};
pub use error::ClusterError;
use error::io_error;
use lifecycle::spawn_watchdog;
use lock::{OwnerMark, lock_exclusive, lock_exclusive_patiently};

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

    /// The application database as its owner, for migrations.
    pub fn owner_options(&self) -> PgConnectOptions {
        self.layout.app_options(roles::OWNER_ROLE)
    }

    /// The application database as the serving login: a member of `keyward_app`, no superuser,
    /// owner of nothing.
    pub fn serving_options(&self) -> PgConnectOptions {
        self.layout.app_options(roles::SERVING_ROLE)
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

#[cfg(test)]
mod tests;
