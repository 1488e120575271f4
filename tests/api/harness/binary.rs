//! The `keyward` binary run as an operator runs it: one command, or `keyward serve` read line by
//! line from its log.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The `keyward` binary, with no database URL and plain logs.
pub fn keyward() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_keyward"));
    command
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1");
    command
}

pub fn run_with_stdin(mut command: Command, stdin: &str) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn keyward");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("keyward finishes")
}

/// A running `keyward serve` whose stderr is read line by line.
pub struct Server {
    child: Child,
    lines: mpsc::Receiver<String>,
    pub seen: Vec<String>,
}

impl Server {
    /// Starts `keyward` with these arguments (plus `--listen 127.0.0.1:0`) and environment.
    pub fn start(args: Vec<String>, env: &[(&str, &str)]) -> Server {
        let mut child = keyward()
            .args(args)
            .args(["--listen", "127.0.0.1:0"])
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn keyward");
        let stderr = child.stderr.take().expect("stderr");
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Server {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits up to two minutes for a log line containing `needle`.
    pub fn wait_for(&mut self, needle: &str) -> String {
        if let Some(line) = self.seen.iter().find(|l| l.contains(needle)) {
            return line.clone();
        }
        let deadline = Instant::now() + Duration::from_secs(120);
        while let Ok(line) = self
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            self.seen.push(line.clone());
            if line.contains(needle) {
                return line;
            }
        }
        panic!("keyward never logged {needle:?}; it logged:\n{}", self.seen.join("\n"));
    }

    pub fn address(&mut self) -> String {
        self.url_after("listening on ")
    }

    /// The metrics endpoint's base URL, when started with `--metrics-listen`.
    pub fn metrics_address(&mut self) -> String {
        self.url_after("metrics on ").trim_end_matches("/metrics").to_owned()
    }

    fn url_after(&mut self, marker: &str) -> String {
        let line = self.wait_for(&format!("{marker}http://"));
        let start = line.find(marker).expect("marker") + marker.len();
        line[start..].split_whitespace().next().expect("url").to_owned()
    }

    /// SIGTERM, as a service manager or Ctrl-C would, then wait for a clean exit.
    pub fn stop(mut self) {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .expect("kill")
                .success()
        );
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                assert!(status.success(), "keyward exits cleanly on SIGTERM: {status}");
                return;
            }
            assert!(Instant::now() < deadline, "keyward did not stop within 60 s");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `keyward domains <args>` against `url`: (status, stdout, stderr).
pub fn domains(url: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let output = keyward()
        .arg("domains")
        .args(args)
        .env("DATABASE_URL", url)
        .stdin(Stdio::null())
        .output()
        .expect("run keyward");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `keyward admin add` making ada@example.com an admin of a new org "Acme"; stdout is its id.
pub fn add_ada_to_acme(mut command: std::process::Command) -> std::process::Output {
    command.args([
        "admin",
        "add",
        "--email",
        "ada@example.com",
        "--name",
        "Ada",
        "--org-name",
        "Acme",
    ]);
    run_with_stdin(command, "a long enough password\n")
}
