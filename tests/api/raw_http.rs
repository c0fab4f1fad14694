//! HTTP/1.1 over a bare TCP socket, for requests no well-behaved client would send: heads
//! written byte by byte, oversized heads, conflicting framing headers, bytes that are not
//! UTF-8.

use std::time::Duration;

use auth_tests::{Reply, TestServer};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// How long a raw exchange may take before the test fails.
const READ_LIMIT: Duration = Duration::from_secs(10);

/// What came back on a raw connection.
#[derive(Debug)]
pub enum RawAnswer {
    /// A whole response.
    Response(Reply),
    /// The server closed (or reset) the connection without a response.
    Closed,
}

impl RawAnswer {
    /// The response, failing the test when the connection was closed without one.
    #[track_caller]
    pub fn response(self) -> Reply {
        match self {
            Self::Response(reply) => reply,
            Self::Closed => panic!("the server closed the connection without a response"),
        }
    }
}

/// Opens a connection to the server under test.
pub async fn connect(server: &TestServer) -> TcpStream {
    let address = server
        .base_url()
        .strip_prefix("http://")
        .expect("an http:// base URL");
    TcpStream::connect(address)
        .await
        .expect("the server accepts")
}

/// Sends `bytes` on a fresh connection and reads the answer.
pub async fn exchange(server: &TestServer, bytes: &[u8]) -> RawAnswer {
    let mut stream = connect(server).await;
    // The server may answer and close before it has read everything (a head over the limit).
    let _ = stream.write_all(bytes).await;
    read_answer(&mut stream).await
}

/// A `POST path` head and `body` with `Content-Type: content_type` and a `Content-Length`.
pub fn post(path: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

/// Reads until the server closes the connection, and parses what came.
pub async fn read_answer(stream: &mut (impl AsyncRead + Unpin)) -> RawAnswer {
    let mut bytes = Vec::new();
    let read = tokio::time::timeout(READ_LIMIT, async {
        let mut buffer = [0u8; 8192];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => bytes.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "the server neither answered nor closed in time"
    );
    parse(&bytes).map_or(RawAnswer::Closed, RawAnswer::Response)
}

/// Parses one response with a `Content-Length` body; `None` for no bytes.
fn parse(bytes: &[u8]) -> Option<Reply> {
    if bytes.is_empty() {
        return None;
    }
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response head");
    let head = std::str::from_utf8(&bytes[..end]).expect("an ASCII head");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("a status line");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("a status code");
    let mut headers = HeaderMap::new();
    for line in lines {
        let (name, value) = line.split_once(':').expect("a header line");
        headers.append(
            HeaderName::from_bytes(name.trim().as_bytes()).expect("a header name"),
            HeaderValue::from_str(value.trim()).expect("a header value"),
        );
    }
    let rest = &bytes[end + 4..];
    let length = headers
        .get("content-length")
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .unwrap_or(rest.len());
    Some(Reply {
        status,
        headers,
        body: rest[..length.min(rest.len())].to_vec(),
    })
}
