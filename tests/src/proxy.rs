//! `FaultyProxy`: a TCP relay between the server under test and its PostgreSQL, which a test
//! can cut (every connection closed, new ones refused) or slow down, then restore.

use std::net::{SocketAddr, ToSocketAddrs as _};
use std::time::Duration;

use auth_persistence::DbConfig;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};

/// What the relay does with traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Bytes pass at once.
    Up,
    /// Every open connection is closed; new ones are closed as soon as they are accepted.
    Cut,
    /// Bytes pass, each chunk held back this long first, in both directions.
    Slow(Duration),
}

/// A relay on `127.0.0.1:<free port>` to one upstream address, running on a thread and
/// runtime of its own so its timing does not depend on the test's.
pub struct FaultyProxy {
    addr: SocketAddr,
    link: watch::Sender<Link>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FaultyProxy {
    /// Starts relaying to `upstream`, with the link up.
    pub fn start(upstream: SocketAddr) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let addr = listener.local_addr().expect("the bound address");
        let (link, watching) = watch::channel(Link::Up);
        let (stop, stopped) = oneshot::channel();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async move {
                let listener = TcpListener::from_std(listener).expect("a tokio listener");
                tokio::select! {
                    () = accept_loop(listener, upstream, watching) => {}
                    _ = stopped => {}
                }
            });
        });
        Self {
            addr,
            link,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// A proxy in front of the PostgreSQL server of `config`, and the same settings with the
    /// URL pointing at the proxy instead.
    pub fn in_front_of(config: &DbConfig) -> (Self, DbConfig) {
        let url = config.url();
        let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(authority_end);
        let (user, host) = authority
            .rsplit_once('@')
            .map_or(("", authority), |(user, host)| (user, host));
        let host = if host.contains(':') {
            host.to_owned()
        } else {
            format!("{host}:5432")
        };
        let upstream = host
            .to_socket_addrs()
            .expect("the database host resolves")
            .next()
            .expect("an address");
        let proxy = Self::start(upstream);
        let at = if user.is_empty() { "" } else { "@" };
        let mut proxied = DbConfig::new(format!("{scheme}://{user}{at}{}{path}", proxy.addr()))
            .expect("a proxied URL");
        proxied.max_connections = config.max_connections;
        proxied.acquire_timeout = config.acquire_timeout;
        proxied.sqlite_busy_timeout = config.sqlite_busy_timeout;
        (proxy, proxied)
    }

    /// The address to connect to instead of the upstream.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Changes what the relay does, at once for every connection.
    pub fn set(&self, link: Link) {
        self.link.send_replace(link);
    }
}

impl Drop for FaultyProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn accept_loop(listener: TcpListener, upstream: SocketAddr, link: watch::Receiver<Link>) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        if *link.borrow() == Link::Cut {
            drop(client);
            continue;
        }
        tokio::spawn(relay(client, upstream, link.clone()));
    }
}

/// Relays one connection until either side closes it or the link is cut.
async fn relay(client: TcpStream, upstream: SocketAddr, mut link: watch::Receiver<Link>) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let to_server = pump(client_read, server_write, link.clone());
    let to_client = pump(server_read, client_write, link.clone());
    let cut = async {
        // Ends when the link is cut (or the proxy is gone); both sockets are dropped then.
        let _ = link.wait_for(|state| *state == Link::Cut).await;
    };
    tokio::select! {
        () = async { tokio::join!(to_server, to_client); } => {}
        () = cut => {}
    }
}

/// Copies bytes one way, holding each chunk back while the link is slow.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    link: watch::Receiver<Link>,
) {
    let mut buf = vec![0_u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let state = *link.borrow();
        if let Link::Slow(delay) = state {
            tokio::time::sleep(delay).await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}
