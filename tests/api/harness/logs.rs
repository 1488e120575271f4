//! The log every instance in this test binary writes, captured so tests can check what reaches
//! a log and read the setup link as an operator would.

use std::io::Write;
use std::sync::{Mutex, OnceLock};

/// Every log line any instance in this test binary wrote, at TRACE for keyward and sqlx, so
/// tests can check what reaches a log and read the setup link like an operator would.
static LOGS: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct LogSink;

impl Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut logs) = LOGS.lock() {
            logs.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn init_logs() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let filter: tracing_subscriber::filter::Targets = "keyward=trace,sqlx=trace,actix_web=trace,info"
            .parse()
            .expect("a filter");
        let format = tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(|| LogSink);
        let _ = tracing_subscriber::registry().with(format).with(filter).try_init();
    });
}

/// All captured log output so far.
pub fn logs() -> String {
    LOGS.lock()
        .map(|l| String::from_utf8_lossy(&l).into_owned())
        .unwrap_or_default()
}
