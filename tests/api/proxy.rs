//! A loopback TCP proxy in front of the database, which a test can cut (drop every connection
//! and refuse new ones), stall (keep connections open but move no bytes) and restore, to prove
//! from outside how keyward behaves when its database goes away.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream, UnixStream};
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Open,
    Cut,
    Stalled,
}

#[derive(Debug, Clone)]
pub enum Upstream {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

pub struct DbProxy {
    pub address: SocketAddr,
    mode: Arc<watch::Sender<Mode>>,
}

impl DbProxy {
    pub async fn start(upstream: Upstream) -> DbProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let address = listener.local_addr().expect("proxy address");
        let mode = Arc::new(watch::channel(Mode::Open).0);
        let modes = mode.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if *modes.borrow() == Mode::Cut {
                    drop(client);
                    continue;
                }
                let upstream = upstream.clone();
                let watch = modes.subscribe();
                tokio::spawn(async move {
                    match upstream {
                        Upstream::Tcp(addr) => {
                            if let Ok(server) = TcpStream::connect(addr).await {
                                pipe(client, server, watch).await;
                            }
                        }
                        Upstream::Unix(path) => {
                            if let Ok(server) = UnixStream::connect(path).await {
                                pipe(client, server, watch).await;
                            }
                        }
                    }
                });
            }
        });
        DbProxy { address, mode }
    }

    pub fn set(&self, mode: Mode) {
        self.mode.send_replace(mode);
    }
}

/// Copies bytes both ways while open; drops both ends when cut; holds them idle when stalled.
async fn pipe<S>(client: TcpStream, server: S, mut mode: watch::Receiver<Mode>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (mut client_read, mut client_write) = tokio::io::split(client);
    let (mut server_read, mut server_write) = tokio::io::split(server);
    let mut up = [0u8; 16 * 1024];
    let mut down = [0u8; 16 * 1024];
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
                Ok(n) => if client_write.write_all(&down[..n]).await.is_err() { return },
            },
        }
    }
}
