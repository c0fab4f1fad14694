//! `Reply`: a response read in full, so one value answers status, header and body checks.

use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;

/// A response whose body has been read.
#[derive(Debug)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The response headers.
    pub headers: HeaderMap,
    /// The raw body.
    pub body: Vec<u8>,
}

impl Reply {
    /// Reads `response` to the end.
    pub async fn read(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .expect("the response body can be read")
            .to_vec();
        Self {
            status,
            headers,
            body,
        }
    }

    /// The value of header `name`, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The media type of the body, without parameters (`application/json`).
    pub fn media_type(&self) -> Option<&str> {
        self.header("content-type")
            .and_then(|v| v.split(';').next())
            .map(str::trim)
    }

    /// The body as text (lossy), for messages and HTML.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect_status(&self, status: u16) -> &Self {
        assert_eq!(
            self.status,
            status,
            "unexpected status; body: {}",
            self.text()
        );
        self
    }

    /// The body decoded as JSON into `T`.
    #[track_caller]
    pub fn json<T: DeserializeOwned>(&self) -> T {
        match serde_json::from_slice(&self.body) {
            Ok(value) => value,
            Err(err) => panic!(
                "body does not decode as {}: {err}; body: {}",
                std::any::type_name::<T>(),
                self.text()
            ),
        }
    }
}
