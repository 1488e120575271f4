//! A loopback TCP proxy in front of the database, which a test can cut (drop every connection
//! and refuse new ones), stall (keep connections open but move no bytes) and restore, to prove
//! from outside how keyward behaves when its database goes away; and which can drop the
//! database's notifications (PostgreSQL's NotificationResponse messages) on one channel or on
//! all, to prove how it behaves when a notice is lost. Connections through it must not use TLS.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream, UnixStream};
use tokio::sync::watch;

use crate::harness::{Options, TestApp, database_server};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Open,
    Cut,
    Stalled,
}

/// Which notifications from the database reach the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notices {
    Pass,
    /// Those on this channel are dropped; the others pass.
    DropChannel(&'static str),
    DropAll,
}

#[derive(Debug, Clone)]
pub enum Upstream {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

/// A test instance whose request pool reaches the database only through a new proxy.
pub async fn app_behind_db_proxy() -> (DbProxy, TestApp) {
    let proxy = DbProxy::start(database_server().upstream()).await;
    let app = TestApp::spawn_with(Options {
        database_via: Some(proxy.address),
        ..Default::default()
    })
    .await;
    (proxy, app)
}

pub struct DbProxy {
    pub address: SocketAddr,
    mode: Arc<watch::Sender<Mode>>,
    notices: Arc<watch::Sender<Notices>>,
}

impl DbProxy {
    pub async fn start(upstream: Upstream) -> DbProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let address = listener.local_addr().expect("proxy address");
        let mode = Arc::new(watch::channel(Mode::Open).0);
        let modes = mode.clone();
        let notices = Arc::new(watch::channel(Notices::Pass).0);
        let filters = notices.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if *modes.borrow() == Mode::Cut {
                    drop(client);
                    continue;
                }
                let upstream = upstream.clone();
                let watch = modes.subscribe();
                let filter = filters.subscribe();
                tokio::spawn(async move {
                    match upstream {
                        Upstream::Tcp(addr) => {
                            if let Ok(server) = TcpStream::connect(addr).await {
                                pipe(client, server, watch, filter).await;
                            }
                        }
                        Upstream::Unix(path) => {
                            if let Ok(server) = UnixStream::connect(path).await {
                                pipe(client, server, watch, filter).await;
                            }
                        }
                    }
                });
            }
        });
        DbProxy { address, mode, notices }
    }

    pub fn set(&self, mode: Mode) {
        self.mode.send_replace(mode);
    }

    pub fn notices(&self, notices: Notices) {
        self.notices.send_replace(notices);
    }
}

/// The server's byte stream cut into protocol messages (a type byte, then a length that counts
/// itself), so notifications can be dropped whole. After start-up, without TLS, everything the
/// server sends is such a message.
#[derive(Default)]
struct ServerMessages {
    buffered: Vec<u8>,
}

impl ServerMessages {
    /// Takes `bytes` in and returns what may go on to the client: every complete message but
    /// the notifications `filter` drops.
    fn pass(&mut self, bytes: &[u8], filter: &Notices) -> Vec<u8> {
        self.buffered.extend_from_slice(bytes);
        let mut out = Vec::new();
        let mut at = 0;
        while self.buffered.len() - at >= 5 {
            let length = u32::from_be_bytes(self.buffered[at + 1..at + 5].try_into().expect("4 bytes")) as usize;
            let end = at + 1 + length;
            if self.buffered.len() < end {
                break;
            }
            let message = &self.buffered[at..end];
            if !(message[0] == b'A' && dropped(&message[9..], filter)) {
                out.extend_from_slice(message);
            }
            at = end;
        }
        self.buffered.drain(..at);
        out
    }
}

/// Whether a NotificationResponse whose body (after its process id) is `body` is dropped.
fn dropped(body: &[u8], filter: &Notices) -> bool {
    let channel = body.split(|&b| b == 0).next().unwrap_or_default();
    match filter {
        Notices::Pass => false,
        Notices::DropAll => true,
        Notices::DropChannel(name) => channel == name.as_bytes(),
    }
}

/// Copies bytes both ways while open; drops both ends when cut; holds them idle when stalled.
async fn pipe<S>(client: TcpStream, server: S, mut mode: watch::Receiver<Mode>, filter: watch::Receiver<Notices>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (mut client_read, mut client_write) = tokio::io::split(client);
    let (mut server_read, mut server_write) = tokio::io::split(server);
    let mut up = [0u8; 16 * 1024];
    let mut down = [0u8; 16 * 1024];
    let mut messages = ServerMessages::default();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    loop {
        let current = *mode.borrow();
        match current {
            Mode::Cut => return,
            Mode::Stalled => {
                if mode.changed().await.is_err() {
                    return;
                }
                continue;
            }
            Mode::Open => {}
        }
        tokio::select! {
            changed = mode.changed() => if changed.is_err() { return },
            read = client_read.read(&mut up) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => if server_write.write_all(&up[..n]).await.is_err() { return },
            },
            read = server_read.read(&mut down) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    let passed = messages.pass(&down[..n], &filter.borrow());
                    if client_write.write_all(&passed).await.is_err() { return }
                }
            },
        }
    }
}
