//! The data directory and what lives in it (pgdata, the socket directory, the log), created
//! with the modes PostgreSQL needs, and the check that the cluster's user can reach it.

use std::env;
use std::fs::{self, DirBuilder};
use std::io;
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use sha2::{Digest as _, Sha256};

use super::binaries::Binaries;
use super::cluster_user::ClusterUser;
use super::error::{ClusterError, io_error};
use super::lifecycle::PORT;

/// A Unix socket path must fit in `sun_path` (108 bytes on Linux); keep a margin.
const SOCKET_PATH_LIMIT: usize = 100;

impl ClusterUser {
    /// Every directory from `/` down to `dir` must let this user through, or PostgreSQL fails
    /// with a confusing "permission denied" deep in its log. Names the topmost one that does not.
    pub(super) fn check_can_traverse(&self, dir: &Path) -> Result<(), ClusterError> {
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
}

/// Creates the data directory (traversable, so the cluster's user can reach pgdata inside it)
/// and returns its canonical path.
pub(super) fn prepare_data_dir(dir: &Path) -> Result<PathBuf, ClusterError> {
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
pub(super) fn create_temporary_dir(user: &ClusterUser) -> Result<PathBuf, ClusterError> {
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
pub(super) struct Layout {
    pub(super) data_dir: PathBuf,
    pub(super) pgdata: PathBuf,
    pub(super) socket_dir: PathBuf,
    pub(super) log: PathBuf,
    pub(super) bins: Binaries,
    pub(super) user: ClusterUser,
}

impl Layout {
    pub(super) fn new(data_dir: PathBuf, bins: Binaries, user: ClusterUser) -> Self {
        Self {
            pgdata: data_dir.join("pgdata"),
            socket_dir: socket_dir_for(&data_dir),
            log: data_dir.join("postgres.log"),
            data_dir,
            bins,
            user,
        }
    }

    pub(super) fn lock_file(&self) -> PathBuf {
        self.data_dir.join("cluster.lock")
    }

    pub(super) fn owner_file(&self) -> PathBuf {
        self.data_dir.join("cluster.owner")
    }

    pub(super) fn is_initialized(&self) -> bool {
        self.pgdata.join("PG_VERSION").exists()
    }

    /// pgdata (0700, as PostgreSQL demands) and the socket directory, owned by the cluster's user.
    pub(super) fn prepare_dirs(&self) -> Result<(), ClusterError> {
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
}

/// `<data_dir>/run` when the socket path fits, else a short directory every process derives
/// the same way from the data directory.
pub(super) fn socket_dir_for(data_dir: &Path) -> PathBuf {
    let inside = data_dir.join("run");
    let socket = inside.join(format!(".s.PGSQL.{PORT}"));
    if socket.as_os_str().len() < SOCKET_PATH_LIMIT {
        return inside;
    }
    let digest = hex::encode(Sha256::digest(data_dir.as_os_str().as_bytes()));
    PathBuf::from(format!("/tmp/keyward-{}", &digest[..12]))
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
