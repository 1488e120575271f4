//! Who decides and who stops: the lock file that serialises start/attach decisions between
//! keyward processes, and the owner mark that says which process started the cluster.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::error::{ClusterError, io_error};

/// How long `Drop` waits for another process's start/attach decision before stopping anyway.
const DROP_LOCK_PATIENCE: Duration = Duration::from_secs(5);

/// The lock file, created (private to its owner) when it does not exist yet.
fn open_lock_file(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(path)
}

fn lock_exclusive_blocking(path: &Path) -> Result<File, ClusterError> {
    let file = open_lock_file(path).map_err(io_error("open the lock file", path))?;
    file.lock().map_err(io_error("lock", path))?;
    Ok(file)
}

pub(super) async fn lock_exclusive(path: PathBuf) -> Result<File, ClusterError> {
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
pub(super) fn lock_exclusive_patiently(path: &Path) -> Option<File> {
    let file = open_lock_file(path).ok()?;
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
pub(super) struct OwnerMark {
    pub(super) pid: u32,
    start_time: Option<u64>,
}

impl OwnerMark {
    pub(super) fn ours() -> Self {
        Self {
            pid: std::process::id(),
            start_time: process_start_time("self"),
        }
    }

    pub(super) fn read(path: &Path) -> Option<Self> {
        let text = fs::read_to_string(path).ok()?;
        let mut fields = text.split_whitespace();
        let pid = fields.next()?.parse().ok()?;
        let start_time = fields.next().and_then(|field| field.parse().ok());
        Some(Self { pid, start_time })
    }

    pub(super) fn write(self, path: &Path) -> Result<(), ClusterError> {
        let text = match self.start_time {
            Some(start_time) => format!("{} {start_time}\n", self.pid),
            None => format!("{}\n", self.pid),
        };
        fs::write(path, text).map_err(io_error("write", path))
    }

    pub(super) fn is_alive(self) -> bool {
        if !Path::new("/proc").join(self.pid.to_string()).exists() {
            return false;
        }
        match self.start_time {
            Some(recorded) => process_start_time(&self.pid.to_string()) == Some(recorded),
            None => true,
        }
    }

    /// Removes the mark unless another process has taken the cluster over since.
    pub(super) fn release_if_ours(path: &Path) -> Result<(), ClusterError> {
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
