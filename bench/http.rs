//! The load generator's HTTP/1.1 client: one keep-alive connection per task, one request in
//! flight on it, pre-built request bytes, status and Content-Length read by hand. Written here
//! rather than driven through reqwest because the generator runs on one core against a server on
//! one core, and must cost its core far less than the server costs its own, or the figures would
//! measure the generator. It reads only what keyward sends (sized bodies, no chunking).

use std::collections::BTreeMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinSet;
use tokio::time::{Instant, MissedTickBehavior, timeout_at};

/// No single request may take longer than this past its loop's end; the loop stops instead.
const GRACE: Duration = Duration::from_secs(5);
/// Every loop is bounded in count as well as in time.
const MAX_REQUESTS_PER_CONNECTION: u64 = 50_000_000;
/// A loop that keeps losing its connection gives up on it.
const MAX_RECONNECTS: u64 = 100;

/// A request ready to write: `GET path` with an optional bearer token.
pub fn get(server: SocketAddr, path: &str, bearer: Option<&str>) -> Vec<u8> {
    request("GET", server, path, bearer)
}

/// `method path` with no body and an optional bearer token.
pub fn request(method: &str, server: SocketAddr, path: &str, bearer: Option<&str>) -> Vec<u8> {
    let mut text = format!("{method} {path} HTTP/1.1\r\nHost: {server}\r\n");
    if let Some(token) = bearer {
        text.push_str("Authorization: Bearer ");
        text.push_str(token);
        text.push_str("\r\n");
    }
    if method != "GET" {
        text.push_str("Content-Length: 0\r\n");
    }
    text.push_str("\r\n");
    text.into_bytes()
}

/// `method path` with a JSON body and a bearer token.
pub fn with_json(method: &str, server: SocketAddr, path: &str, bearer: &str, body: &str) -> Vec<u8> {
    format!(
        "{method} {path} HTTP/1.1\r\nHost: {server}\r\nAuthorization: Bearer {bearer}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

pub struct Connection {
    server: SocketAddr,
    from: Option<IpAddr>,
    stream: TcpStream,
    buffer: Vec<u8>,
    closed: bool,
}

impl Connection {
    /// Connects to `server`, from the local address `from` when given (127.0.0.2 for the flood).
    pub async fn open(server: SocketAddr, from: Option<IpAddr>) -> io::Result<Connection> {
        let socket = TcpSocket::new_v4()?;
        if let Some(ip) = from {
            socket.bind(SocketAddr::new(ip, 0))?;
        }
        let stream = tokio::time::timeout(GRACE, socket.connect(server))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))??;
        stream.set_nodelay(true)?;
        Ok(Connection {
            server,
            from,
            stream,
            buffer: Vec::with_capacity(8192),
            closed: false,
        })
    }

    /// Sends one request and reads its whole response; returns the status code. Reconnects first
    /// when the server said it would close the connection.
    pub async fn send(&mut self, request: &[u8]) -> io::Result<u16> {
        if self.closed {
            *self = Connection::open(self.server, self.from).await?;
        }
        self.stream.write_all(request).await?;
        self.buffer.clear();
        loop {
            if let Some(head_end) = find(&self.buffer, b"\r\n\r\n") {
                let head = parse_head(&self.buffer[..head_end])?;
                let total = head_end + 4 + head.content_length;
                while self.buffer.len() < total {
                    self.fill().await?;
                }
                self.closed = head.close;
                return Ok(head.status);
            }
            self.fill().await?;
        }
    }

    /// `send`, failing with `TimedOut` when no answer came within `limit`.
    pub async fn send_within(&mut self, request: &[u8], limit: Duration) -> io::Result<u16> {
        match tokio::time::timeout(limit, self.send(request)).await {
            Ok(result) => result,
            Err(_) => {
                self.closed = true;
                Err(io::Error::new(io::ErrorKind::TimedOut, "no answer in time"))
            }
        }
    }

    async fn fill(&mut self) -> io::Result<()> {
        self.buffer.reserve(4096);
        if self.stream.read_buf(&mut self.buffer).await? == 0 {
            self.closed = true;
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(())
    }
}

struct Head {
    status: u16,
    content_length: usize,
    close: bool,
}

fn parse_head(head: &[u8]) -> io::Result<Head> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_owned());
    let text = std::str::from_utf8(head).map_err(|_| bad("response head is not UTF-8"))?;
    let mut lines = text.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| bad("no status line"))?;
    let mut content_length = 0;
    let mut close = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            content_length = value.parse().map_err(|_| bad("bad Content-Length"))?;
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(bad("chunked responses are not read by the load generator"));
        } else if name.eq_ignore_ascii_case("connection") && value.eq_ignore_ascii_case("close") {
            close = true;
        }
    }
    Ok(Head {
        status,
        content_length,
        close,
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

/// Responses by status code, and requests that got no response.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub statuses: BTreeMap<u16, u64>,
    pub errors: u64,
}

impl Tally {
    pub fn record(&mut self, status: u16) {
        *self.statuses.entry(status).or_default() += 1;
    }

    pub fn count(&self, status: u16) -> u64 {
        self.statuses.get(&status).copied().unwrap_or(0)
    }

    pub fn total(&self) -> u64 {
        self.statuses.values().sum()
    }

    pub fn merge(&mut self, other: &Tally) {
        for (status, count) in &other.statuses {
            *self.statuses.entry(*status).or_default() += count;
        }
        self.errors += other.errors;
    }

    /// `200: 12, 401: 3` and the failures, for the report.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self.statuses.iter().map(|(s, n)| format!("{s}: {n}")).collect();
        if self.errors > 0 {
            parts.push(format!("no response: {}", self.errors));
        }
        if parts.is_empty() {
            "nothing".to_owned()
        } else {
            parts.join(", ")
        }
    }
}

/// How requests are sent on each connection.
#[derive(Debug, Clone, Copy)]
pub enum Pace {
    /// The next request as soon as the previous answer arrives.
    AsFastAsAnswered,
    /// Requests at this many per second over all the connections together; when the server falls
    /// behind, the missed sends are dropped rather than sent in a burst.
    PerSecond(u32),
}

/// `connections` keep-alive connections from `from` send `requests` (round robin, each
/// connection from its own stretch) at `pace` for `duration`. Connections are opened
/// before the clock starts. Returns the responses and the time they took.
pub async fn run(
    server: SocketAddr,
    from: Option<IpAddr>,
    requests: Arc<Vec<Vec<u8>>>,
    connections: usize,
    pace: Pace,
    duration: Duration,
) -> io::Result<(Tally, Duration)> {
    if requests.is_empty() || connections == 0 {
        return Ok((Tally::default(), Duration::ZERO));
    }
    let mut opened = Vec::with_capacity(connections);
    for _ in 0..connections {
        opened.push(Connection::open(server, from).await?);
    }
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = JoinSet::new();
    for (index, connection) in opened.into_iter().enumerate() {
        // Each connection starts its own stretch of the requests, so none repeats another's.
        let offset = index * requests.len() / connections;
        let requests = requests.clone();
        tasks.spawn(one_connection(
            connection,
            requests,
            offset,
            index,
            pace,
            connections,
            deadline,
        ));
    }
    let mut tally = Tally::default();
    while let Some(done) = tasks.join_next().await {
        tally.merge(&done.map_err(io::Error::other)?);
    }
    Ok((tally, start.elapsed()))
}

async fn one_connection(
    mut connection: Connection,
    requests: Arc<Vec<Vec<u8>>>,
    offset: usize,
    index: usize,
    pace: Pace,
    connections: usize,
    deadline: Instant,
) -> Tally {
    let mut tally = Tally::default();
    let mut ticker = match pace {
        Pace::AsFastAsAnswered => None,
        Pace::PerSecond(rate) => {
            let period = Duration::from_secs_f64(connections as f64 / f64::from(rate.max(1)));
            // Spread the connections' first sends over one period.
            let first = Instant::now() + period.mul_f64(index as f64 / connections as f64);
            let mut ticker = tokio::time::interval_at(first, period);
            ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
            Some(ticker)
        }
    };
    let mut reconnects = 0;
    for sent in 0..MAX_REQUESTS_PER_CONNECTION {
        if let Some(ticker) = ticker.as_mut()
            && timeout_at(deadline, ticker.tick()).await.is_err()
        {
            break;
        }
        if Instant::now() >= deadline {
            break;
        }
        let request = &requests[(offset + sent as usize) % requests.len()];
        match timeout_at(deadline + GRACE, connection.send(request)).await {
            Ok(Ok(status)) => tally.record(status),
            Ok(Err(_)) | Err(_) => {
                tally.errors += 1;
                reconnects += 1;
                if reconnects > MAX_RECONNECTS {
                    break;
                }
                match Connection::open(connection.server, connection.from).await {
                    Ok(fresh) => connection = fresh,
                    Err(_) => break,
                }
            }
        }
    }
    tally
}
