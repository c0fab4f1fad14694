//! How long a fetched key set is trusted, and how often it may be fetched.

use std::time::Duration;

/// The cache bounds of a [`RemoteJwks`](crate::RemoteJwks).
///
/// ```
/// use std::time::Duration;
/// use auth_verifier::RemoteConfig;
///
/// let config = RemoteConfig { min_refetch_interval: Duration::from_secs(60), ..RemoteConfig::default() };
/// assert_eq!(config.default_ttl, Duration::from_secs(300));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteConfig {
    /// The shortest time a fetched set is trusted, whatever `Cache-Control` says; default
    /// 30 s.
    pub min_ttl: Duration,
    /// The longest time a fetched set is trusted, whatever `Cache-Control` says; default 1 h.
    pub max_ttl: Duration,
    /// How long a set is trusted when the response has no `max-age`; default 300 s.
    pub default_ttl: Duration,
    /// How long before its expiry a set is refreshed in the background; default 30 s (at
    /// most half the set's lifetime).
    pub refresh_ahead: Duration,
    /// The least time between two fetches caused by tokens naming an unknown `kid`; default
    /// 30 s. A flood of forged key ids costs one fetch per interval.
    pub min_refetch_interval: Duration,
    /// How long one fetch may take; default 10 s.
    pub timeout: Duration,
}

impl Default for RemoteConfig {
    fn default() -> Self {
        Self {
            min_ttl: Duration::from_secs(30),
            max_ttl: Duration::from_secs(3600),
            default_ttl: Duration::from_secs(300),
            refresh_ahead: Duration::from_secs(30),
            min_refetch_interval: Duration::from_secs(30),
            timeout: Duration::from_secs(10),
        }
    }
}

impl RemoteConfig {
    /// How long a set served with `max_age` (from `Cache-Control`) is trusted.
    pub(crate) fn ttl(&self, max_age: Option<Duration>) -> Duration {
        max_age
            .unwrap_or(self.default_ttl)
            .clamp(self.min_ttl, self.max_ttl.max(self.min_ttl))
    }
}

/// The `max-age` of a `Cache-Control` header; `no-store` and `no-cache` count as zero.
pub(crate) fn max_age(cache_control: &str) -> Option<Duration> {
    let mut max_age = None;
    for directive in cache_control.split(',').map(str::trim) {
        let (name, value) = directive.split_once('=').unwrap_or((directive, ""));
        match name.to_ascii_lowercase().as_str() {
            "no-store" | "no-cache" => return Some(Duration::ZERO),
            "max-age" => {
                max_age = value
                    .trim_matches('"')
                    .parse()
                    .ok()
                    .map(Duration::from_secs);
            }
            _ => {}
        }
    }
    max_age
}
