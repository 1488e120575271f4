//! The OS user that runs the cluster (`postgres` when keyward runs as root, else ourselves),
//! read from the passwd file, and handing it the paths it needs.

use std::fs;
use std::os::unix::fs::MetadataExt as _;
use std::path::Path;

use super::error::{ClusterError, io_error};

/// The OS user that runs PostgreSQL when keyward runs as root.
const UNPRIVILEGED_USER: &str = "postgres";

/// The OS user that runs initdb, pg_ctl and postgres.
#[derive(Debug, Clone)]
pub(super) struct ClusterUser {
    pub(super) name: String,
    pub(super) uid: u32,
    pub(super) gid: u32,
    /// We are root and must switch to this user (PostgreSQL refuses to run as root).
    pub(super) switch: bool,
}

impl ClusterUser {
    pub(super) fn current() -> Result<Self, ClusterError> {
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

    /// Gives a path we created to the cluster's user.
    pub(super) fn take_ownership(&self, path: &Path) -> Result<(), ClusterError> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
