//! Why the private cluster could not be started, attached to or stopped: one error type whose
//! every message is a single line an operator can act on.

use std::io;
use std::path::{Path, PathBuf};

use super::lifecycle::READY_TIMEOUT;

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

pub(super) fn io_error(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> ClusterError {
    let path = path.to_path_buf();
    move |source| ClusterError::Io { action, path, source }
}

#[cfg(test)]
mod tests {
    use super::*;

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
