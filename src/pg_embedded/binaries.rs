//! Finding the PostgreSQL binaries: on PATH, else under `/usr/lib/postgresql/*/bin`.

use std::env;
use std::fs;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

use super::error::ClusterError;

/// The PostgreSQL programs we run. `postgres` itself is started by `pg_ctl`, which finds it
/// beside itself; we only check it is there.
#[derive(Debug, Clone)]
pub(super) struct Binaries {
    pub(super) initdb: PathBuf,
    pub(super) pg_ctl: PathBuf,
}

impl Binaries {
    /// The first PATH directory holding all three programs, else the highest version under
    /// `/usr/lib/postgresql/*/bin` (Debian installs them there, off the PATH).
    pub(super) fn find() -> Result<Self, ClusterError> {
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
pub(super) fn versioned_bin_dirs(root: &Path) -> Vec<PathBuf> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
