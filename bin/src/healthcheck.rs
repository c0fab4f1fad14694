//! `auth-service healthcheck`: asks the instance configured by `HOST` and `PORT` for
//! `/health/ready` and reports whether it answered 200, so a container health check needs
//! neither curl nor a shell. The probe is one plain HTTP/1.1 request on loopback (or on the
//! configured address when it is a specific one); only the status line is read.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Why the probe failed. `Display` is one line for the operator.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// No connection, or the exchange failed or timed out.
    #[error("{addr} did not answer: {source}")]
    Unreachable {
        /// Where the probe went.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// It answered, but not 200.
    #[error("{addr} answered {status_line:?} to GET /health/ready")]
    NotReady {
        /// Where the probe went.
        addr: SocketAddr,
        /// The status line received.
        status_line: String,
    },
}

/// Where to probe an instance listening on `listen`: loopback when it listens on every
/// address (`0.0.0.0`, `::`), the address itself otherwise.
pub fn probe_address(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

/// Sends `GET /health/ready` to `addr` and succeeds when the answer is 200, all within
/// `timeout`.
///
/// # Errors
///
/// [`ProbeError::Unreachable`] when there is no answer in time; [`ProbeError::NotReady`] for
/// any other status.
pub fn probe(addr: SocketAddr, timeout: Duration) -> Result<(), ProbeError> {
    let unreachable = |source| ProbeError::Unreachable { addr, source };
    let deadline = Instant::now() + timeout;
    let left = || {
        deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::TimedOut))
    };
    let mut stream = TcpStream::connect_timeout(&addr, timeout).map_err(unreachable)?;
    stream
        .set_write_timeout(Some(left().map_err(unreachable)?))
        .map_err(unreachable)?;
    write!(
        stream,
        "GET /health/ready HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: auth-service-healthcheck\r\n\
         Connection: close\r\n\r\n"
    )
    .map_err(unreachable)?;
    stream
        .set_read_timeout(Some(left().map_err(unreachable)?))
        .map_err(unreachable)?;
    let mut status_line = String::new();
    BufReader::new(stream)
        .read_line(&mut status_line)
        .map_err(unreachable)?;
    let status_line = status_line.trim_end().to_owned();
    if status_line.split(' ').nth(1) == Some("200") && status_line.starts_with("HTTP/1.") {
        Ok(())
    } else {
        Err(ProbeError::NotReady { addr, status_line })
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read as _, Write as _};
    use std::net::{SocketAddr, TcpListener};
    use std::time::Duration;

    use super::{ProbeError, probe, probe_address};

    /// A one-shot server answering `reply` to the first request, which it returns.
    fn serve_once(reply: &'static str) -> (SocketAddr, std::thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut socket, _) = listener.accept().unwrap();
            // The whole head is read before answering: closing with unread bytes would reset
            // the connection under the answer.
            let mut request = Vec::new();
            let mut chunk = [0_u8; 1024];
            while !request.ends_with(b"\r\n\r\n") {
                let n = socket.read(&mut chunk).unwrap();
                assert!(n > 0, "the probe closed before its request ended");
                request.extend_from_slice(&chunk[..n]);
            }
            socket.write_all(reply.as_bytes()).unwrap();
            socket.shutdown(std::net::Shutdown::Write).unwrap();
            String::from_utf8_lossy(&request).into_owned()
        });
        (addr, server)
    }

    #[test]
    fn every_address_is_probed_on_loopback_and_a_specific_one_as_is() {
        let probe_of = |listen: &str| probe_address(listen.parse().unwrap()).to_string();
        assert_eq!(probe_of("0.0.0.0:8000"), "127.0.0.1:8000");
        assert_eq!(probe_of("[::]:8000"), "[::1]:8000");
        assert_eq!(probe_of("10.1.2.3:9000"), "10.1.2.3:9000");
    }

    #[test]
    fn a_200_is_ready_and_the_request_asks_for_readiness() {
        let (addr, server) = serve_once("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
        probe(addr, Duration::from_secs(3)).unwrap();
        let request = server.join().unwrap();
        assert!(
            request.starts_with("GET /health/ready HTTP/1.1\r\n"),
            "{request}"
        );
    }

    #[test]
    fn a_503_is_not_ready_and_says_what_came_back() {
        let (addr, server) = serve_once("HTTP/1.1 503 Service Unavailable\r\n\r\n");
        let err = probe(addr, Duration::from_secs(3)).unwrap_err();
        server.join().unwrap();
        assert!(
            matches!(&err, ProbeError::NotReady { status_line, .. }
            if status_line == "HTTP/1.1 503 Service Unavailable"),
            "{err}"
        );
    }

    #[test]
    fn nothing_listening_is_unreachable() {
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let err = probe(addr, Duration::from_secs(1)).unwrap_err();
        assert!(matches!(err, ProbeError::Unreachable { .. }), "{err}");
    }

    #[test]
    fn a_silent_server_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let err = probe(addr, Duration::from_millis(300)).unwrap_err();
        assert!(matches!(err, ProbeError::Unreachable { .. }), "{err}");
        drop(listener);
    }
}
