//! The cache of a remote key set: fresh per `Cache-Control` within bounds, refreshed in the
//! background before it expires, refetched for an unknown `kid` at most once per interval,
//! and kept (stale) when a refresh fails.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::time::{Duration, Instant};

use super::http::{Fetch, HttpFetcher};
use crate::{KeyError, KeySet, RemoteConfig, VerifyError};

/// At most this many unknown key ids are remembered; the memory is cleared when full.
const MAX_UNKNOWN: usize = 1024;

/// A JWKS fetched from a URL and cached, for [`Verifier::remote`](crate::Verifier::remote).
///
/// - The first verification fetches the set; later ones use the cache.
/// - The set is trusted for the response's `Cache-Control: max-age`, clamped to
///   [`RemoteConfig::min_ttl`]..=[`RemoteConfig::max_ttl`], and refreshed in the background
///   (on the Tokio runtime of the verifying task) [`RemoteConfig::refresh_ahead`] before that.
/// - A token naming a `kid` the set lacks causes a fetch, at most once per
///   [`RemoteConfig::min_refetch_interval`]; ids still unknown after it are remembered and
///   refused without fetching.
/// - When a fetch fails, the keys already held keep verifying.
///
/// Clones share the cache.
///
/// ```no_run
/// use auth_verifier::{RemoteJwks, Verifier};
///
/// let jwks = RemoteJwks::new("https://auth.example.com/.well-known/jwks.json")?;
/// let verifier = Verifier::remote(jwks).with_issuer("https://auth.example.com");
/// # Ok::<(), auth_verifier::KeyError>(())
/// ```
#[derive(Debug, Clone)]
pub struct RemoteJwks {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    fetcher: Box<dyn Fetch>,
    config: RemoteConfig,
    state: Mutex<State>,
    /// Held while fetching, so concurrent callers wait for one fetch instead of starting more.
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Debug, Default)]
struct State {
    keys: Option<Arc<KeySet>>,
    /// When the set should be refreshed in the background.
    refresh_at: Option<Instant>,
    /// When the last fetch ended, successful or not.
    fetched_at: Option<Instant>,
    /// When a fetch for an unknown `kid` was last allowed.
    refetch_at: Option<Instant>,
    refreshing: bool,
    /// Key ids still unknown after a fetch, and when that was found.
    unknown: HashMap<String, Instant>,
}

impl RemoteJwks {
    /// A key set fetched from `url` with the default [`RemoteConfig`]. Nothing is fetched
    /// until the first verification.
    ///
    /// # Errors
    ///
    /// [`KeyError::Source`] when `url` is not an `http` or `https` URL.
    pub fn new(url: &str) -> Result<Self, KeyError> {
        Self::with_config(url, RemoteConfig::default())
    }

    /// A key set fetched from `url` within the bounds of `config`.
    ///
    /// # Errors
    ///
    /// [`KeyError::Source`] when `url` is not an `http` or `https` URL.
    pub fn with_config(url: &str, config: RemoteConfig) -> Result<Self, KeyError> {
        let fetcher = HttpFetcher::new(url, config.timeout)?;
        Ok(Self::from_fetcher(Box::new(fetcher), config))
    }

    pub(crate) fn from_fetcher(fetcher: Box<dyn Fetch>, config: RemoteConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                fetcher,
                config,
                state: Mutex::new(State::default()),
                fetching: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// The key set to verify a token naming `kid` with, fetching when needed.
    pub(crate) async fn keys_for(&self, kid: Option<&str>) -> Result<Arc<KeySet>, VerifyError> {
        let now = Instant::now();
        let (keys, refresh) = {
            let mut state = self.state();
            let refresh = state.keys.is_some()
                && !state.refreshing
                && state.refresh_at.is_none_or(|at| now >= at);
            state.refreshing |= refresh;
            (state.keys.clone(), refresh)
        };
        if refresh {
            self.refresh_in_background();
        }
        let Some(keys) = keys else {
            return self.first_fetch(now).await;
        };
        if keys.contains(kid) {
            return Ok(keys);
        }
        self.refetch_for(kid.unwrap_or_default(), now).await
    }

    /// No set yet: fetch one (one caller fetches, the others wait for it).
    async fn first_fetch(&self, now: Instant) -> Result<Arc<KeySet>, VerifyError> {
        let failed_lately = self.state().fetched_at.is_some_and(|at| {
            now.saturating_duration_since(at) < self.inner.config.min_refetch_interval
        });
        if !failed_lately {
            self.fetch_once(now).await;
        }
        self.state()
            .keys
            .clone()
            .ok_or(VerifyError::KeysUnavailable)
    }

    /// A token names `kid`, which the set lacks: fetch again if allowed, else refuse.
    async fn refetch_for(&self, kid: &str, now: Instant) -> Result<Arc<KeySet>, VerifyError> {
        let interval = self.inner.config.min_refetch_interval;
        let allowed = {
            let mut state = self.state();
            let known_unknown = state
                .unknown
                .get(kid)
                .is_some_and(|at| now.saturating_duration_since(*at) < interval);
            let allowed = !known_unknown
                && state
                    .refetch_at
                    .is_none_or(|at| now.saturating_duration_since(at) >= interval);
            if allowed {
                state.refetch_at = Some(now);
            }
            allowed
        };
        if allowed {
            self.fetch_once(now).await;
        } else {
            // A fetch may be under way (a rotation): wait for it rather than refuse early.
            drop(self.inner.fetching.lock().await);
        }
        let mut state = self.state();
        match state.keys.clone() {
            Some(keys) if keys.contains(Some(kid)) => Ok(keys),
            _ => {
                if state.unknown.len() >= MAX_UNKNOWN {
                    state.unknown.clear();
                }
                state.unknown.insert(kid.to_owned(), Instant::now());
                Err(VerifyError::UnknownKey)
            }
        }
    }

    /// Refreshes the set on the current Tokio runtime, if there is one; the current keys
    /// keep verifying meanwhile.
    fn refresh_in_background(&self) {
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let this = self.clone();
                runtime.spawn(async move { this.fetch_once(Instant::now()).await });
            }
            Err(_) => self.state().refreshing = false,
        }
    }

    /// Fetches the set unless another caller finished a fetch after `since`. On failure the
    /// keys held are kept and the next background attempt waits `min_refetch_interval`.
    async fn fetch_once(&self, since: Instant) {
        let _fetching = self.inner.fetching.lock().await;
        if self.state().fetched_at.is_some_and(|at| at > since) {
            return;
        }
        let result = self.inner.fetcher.fetch().await;
        let config = &self.inner.config;
        let now = Instant::now();
        let mut state = self.state();
        state.fetched_at = Some(now);
        state.refreshing = false;
        match result {
            Ok(fetched) => {
                let ttl = config.ttl(fetched.max_age);
                let ahead = config.refresh_ahead.min(ttl / 2);
                state.keys = Some(Arc::new(fetched.keys));
                state.refresh_at = Some(now + ttl.saturating_sub(ahead));
                state.unknown.clear();
            }
            Err(_) => {
                state.refresh_at =
                    Some(now + config.min_refetch_interval.max(Duration::from_secs(1)));
            }
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // The state stays consistent between statements, so a panic elsewhere cannot leave
        // it half-written.
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}
