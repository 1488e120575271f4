//! PostgreSQL's own log: rotated at start so it never grows without bound, and its tail quoted
//! in one-line error messages.

use std::fs::{self, File};
use std::io::Read as _;
use std::path::{Path, PathBuf};

use super::error::{ClusterError, io_error};

pub(super) const LOG_TAIL_LINES: usize = 6;
/// A start that finds postgres.log larger than this moves it to postgres.log.1 (replacing the
/// one before), so the private cluster's log never grows without bound.
pub(super) const LOG_ROTATE_BYTES: u64 = 10 * 1024 * 1024;

/// Moves `log` to `<log>.1` when it is larger than `limit` bytes.
pub(super) fn rotate_log(log: &Path, limit: u64) -> Result<(), ClusterError> {
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
pub(super) fn log_tail(log: &Path) -> String {
    let mut text = String::new();
    match File::open(log).and_then(|mut file| file.read_to_string(&mut text)) {
        Ok(_) => one_line(&text, LOG_TAIL_LINES),
        Err(err) => format!("(unreadable: {err})"),
    }
}

/// The last `lines` non-empty lines joined into one, for one-line error messages.
pub(super) fn one_line(text: &str, lines: usize) -> String {
    let kept: Vec<&str> = text.lines().map(str::trim).filter(|line| !line.is_empty()).collect();
    kept[kept.len().saturating_sub(lines)..].join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
