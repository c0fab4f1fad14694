//! Fetching a JWKS document over HTTP(S) with reqwest and rustls.

use std::future::Future;
use std::pin::Pin;

use reqwest::header::CACHE_CONTROL;

use super::config::max_age;
use crate::{KeyError, KeySet};

/// A fetched key set and how long its server says it may be cached.
#[derive(Debug)]
pub(crate) struct Fetched {
    pub(crate) keys: KeySet,
    pub(crate) max_age: Option<std::time::Duration>,
}

/// Why a fetch failed; the cache only needs to know that it did.
#[derive(Debug)]
pub(crate) struct FetchFailed;

/// The future a fetch returns.
pub(crate) type FetchFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Fetched, FetchFailed>> + Send + 'a>>;

/// Where key sets come from: the JWKS URL, or a stand-in in tests.
pub(crate) trait Fetch: Send + Sync + std::fmt::Debug + 'static {
    fn fetch(&self) -> FetchFuture<'_>;
}

/// GETs a JWKS URL.
#[derive(Debug)]
pub(crate) struct HttpFetcher {
    client: reqwest::Client,
    url: reqwest::Url,
}

impl HttpFetcher {
    pub(crate) fn new(url: &str, timeout: std::time::Duration) -> Result<Self, KeyError> {
        let url = reqwest::Url::parse(url)
            .map_err(|_| KeyError::Source("the JWKS URL does not parse".into()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(KeyError::Source(
                "the JWKS URL must be http or https".into(),
            ));
        }
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|_| KeyError::Source("cannot build the HTTP client".into()))?;
        Ok(Self { client, url })
    }
}

impl Fetch for HttpFetcher {
    fn fetch(&self) -> FetchFuture<'_> {
        Box::pin(async move {
            let response = self
                .client
                .get(self.url.clone())
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
                .map_err(|_| FetchFailed)?;
            let max_age = response
                .headers()
                .get(CACHE_CONTROL)
                .and_then(|value| value.to_str().ok())
                .and_then(max_age);
            let body = response.text().await.map_err(|_| FetchFailed)?;
            let keys = KeySet::from_jwks(&body).map_err(|_| FetchFailed)?;
            Ok(Fetched { keys, max_age })
        })
    }
}
