//! `KeyService`: keeps the signing keys of EdDSA and ES256 up to date in the database and in
//! the token codec, and runs the operator's `keys` commands.

use std::sync::Arc;

use auth_crypto::{
    Clock, CryptoError, KeyEncryptionKey, Keyring, KeyringEntry, TokenCodec, generate_signing_key,
    random_token,
};
use auth_persistence::DbPool;
use auth_persistence::signing_keys::{self, KeyChange, KeyState, SigningKeyRecord};
use auth_resilience::CircuitBreaker;
use secrecy::ExposeSecret as _;
use time::macros::format_description;
use time::{Duration, OffsetDateTime};

use super::lifecycle::{self, Timing};
use crate::Fault;
use crate::guard::guarded;

/// Settings of the key lifecycle.
#[derive(Debug, Clone)]
pub struct KeyConfig {
    /// How long a key signs before the next one takes over (`JWT_KEY_ROTATION_DAYS`, 30).
    pub rotation_interval: Duration,
    /// The JWKS `Cache-Control: max-age` (`JWKS_MAX_AGE_SECONDS`, 300 s). A new key is
    /// published twice this long before it signs.
    pub jwks_max_age: Duration,
    /// How often each replica reloads the key set and does its share of upkeep
    /// (`JWT_KEY_RELOAD_SECONDS`, 60 s).
    pub reload_interval: Duration,
}

impl Default for KeyConfig {
    fn default() -> Self {
        Self {
            rotation_interval: Duration::days(30),
            jwks_max_age: Duration::seconds(300),
            reload_interval: Duration::seconds(60),
        }
    }
}

/// A signing key as `keys list` shows it: never its private part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// Key id.
    pub kid: String,
    /// `EdDSA` or `ES256`.
    pub algorithm: String,
    /// `pending`, `active`, `retiring`, `retired` or `revoked`.
    pub state: String,
    /// When it was made.
    pub created_at: OffsetDateTime,
    /// When it starts (or started) signing.
    pub activates_at: OffsetDateTime,
    /// When it will be (or was) retired, once superseded.
    pub retire_after: Option<OffsetDateTime>,
    /// When it was retired or revoked.
    pub retired_at: Option<OffsetDateTime>,
}

impl From<&SigningKeyRecord> for KeyInfo {
    fn from(key: &SigningKeyRecord) -> Self {
        Self {
            kid: key.kid.clone(),
            algorithm: key.algorithm.clone(),
            state: key.state.as_str().to_owned(),
            created_at: key.created_at,
            activates_at: key.activates_at,
            retire_after: key.retire_after,
            retired_at: key.retired_at,
        }
    }
}

/// Why a key operation failed.
#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    /// The algorithm is HMAC: its key is `JWT_SECRET_KEY`, not a stored key pair.
    #[error(
        "JWT_ALGORITHM is {0}: keys are rotated by changing JWT_SECRET_KEY (keep the old one in JWT_PREVIOUS_SECRET_KEYS)"
    )]
    NotAsymmetric(&'static str),
    /// No published key has this id.
    #[error("no published signing key has this id")]
    UnknownKey,
    /// A stored key cannot be opened with the key-encryption key.
    #[error(
        "signing key {kid} cannot be unsealed: is JWT_KEY_ENCRYPTION_KEY the one it was sealed with?"
    )]
    Unseal {
        /// The key id.
        kid: String,
    },
    /// Generating or sealing a key failed.
    #[error("key generation failed")]
    Crypto(#[source] CryptoError),
    /// The database failed.
    #[error(transparent)]
    Fault(#[from] Fault),
}

/// Keeps the signing keys up to date; cheap to clone.
#[derive(Debug, Clone)]
pub struct KeyService {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    pool: DbPool,
    breaker: Arc<CircuitBreaker>,
    clock: Arc<dyn Clock>,
    codec: TokenCodec,
    kek: Option<KeyEncryptionKey>,
    config: KeyConfig,
}

impl KeyService {
    /// A key service for `codec`'s algorithm. `kek` is needed with EdDSA and ES256 only.
    pub fn new(
        pool: DbPool,
        breaker: Arc<CircuitBreaker>,
        clock: Arc<dyn Clock>,
        codec: TokenCodec,
        kek: Option<KeyEncryptionKey>,
        config: KeyConfig,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                pool,
                breaker,
                clock,
                codec,
                kek,
                config,
            }),
        }
    }

    /// The token codec whose keys this service keeps (clones share the keys).
    pub fn codec(&self) -> TokenCodec {
        self.inner.codec.clone()
    }

    /// The public keys tokens are verified with, as a JWKS document (empty with HMAC).
    pub fn jwks(&self) -> String {
        self.inner.codec.jwks()
    }

    /// How long clients may cache [`jwks`](Self::jwks).
    pub fn jwks_max_age(&self) -> Duration {
        self.inner.config.jwks_max_age
    }

    /// How often [`upkeep`](Self::upkeep) should run.
    pub fn reload_interval(&self) -> Duration {
        self.inner.config.reload_interval
    }

    /// Brings the stored keys up to date (first key, publication, activation, retirement,
    /// scheduled rotation) under the database lock, then loads them into the codec. Nothing
    /// to do with HMAC.
    ///
    /// # Errors
    ///
    /// See [`KeysError`]; the keys already loaded keep working.
    pub async fn upkeep(&self) -> Result<(), KeysError> {
        let Some(algorithm) = self.asymmetric() else {
            return Ok(());
        };
        let fresh = self.fresh_key()?;
        let timing = self.timing();
        let decide =
            |keys: &[SigningKeyRecord]| lifecycle::maintain(keys, algorithm, timing, &fresh);
        let changes = self.apply(&decide).await?;
        log_changes(&changes);
        self.reload().await
    }

    /// Loads the published keys into the codec.
    ///
    /// # Errors
    ///
    /// See [`KeysError`]; the keys already loaded are kept on error.
    pub async fn reload(&self) -> Result<(), KeysError> {
        let Some(algorithm) = self.asymmetric() else {
            return Ok(());
        };
        let inner = &self.inner;
        let keys = guarded(&inner.breaker, &inner.pool, signing_keys::list(&inner.pool))
            .await
            .map_err(Fault::from)?;
        let entries = keys
            .iter()
            .filter(|key| key.algorithm == algorithm && key.state.is_published())
            .map(|key| self.entry(key))
            .collect::<Result<Vec<_>, _>>()?;
        let keyring =
            Keyring::published(inner.codec.algorithm(), entries).map_err(KeysError::Crypto)?;
        inner.codec.install(keyring).map_err(KeysError::Crypto)
    }

    /// Publishes a new key now that signs after twice the JWKS `max-age`, unless one is
    /// already scheduled; returns the scheduled key.
    ///
    /// # Errors
    ///
    /// [`KeysError::NotAsymmetric`] with HMAC; otherwise see [`KeysError`].
    pub async fn rotate(&self) -> Result<KeyInfo, KeysError> {
        let algorithm = self.require_asymmetric()?;
        self.upkeep().await?;
        let fresh = self.fresh_key()?;
        let timing = self.timing();
        let decide = |keys: &[SigningKeyRecord]| lifecycle::rotate(keys, algorithm, timing, &fresh);
        log_changes(&self.apply(&decide).await?);
        self.reload().await?;
        let now = self.inner.clock.now();
        self.list()
            .await?
            .into_iter()
            .filter(|key| key.algorithm == algorithm && key.activates_at > now)
            .max_by_key(|key| key.activates_at)
            .ok_or(KeysError::UnknownKey)
    }

    /// Every stored key, oldest activation first.
    ///
    /// # Errors
    ///
    /// See [`KeysError`].
    pub async fn list(&self) -> Result<Vec<KeyInfo>, KeysError> {
        let inner = &self.inner;
        let keys = guarded(&inner.breaker, &inner.pool, signing_keys::list(&inner.pool))
            .await
            .map_err(Fault::from)?;
        Ok(keys.iter().map(KeyInfo::from).collect())
    }

    /// Withdraws key `kid` at once: its tokens are refused (by other replicas after their
    /// next reload). A revoked signing key is replaced by a new one that signs at once.
    ///
    /// # Errors
    ///
    /// [`KeysError::UnknownKey`] when no published key has this id; see [`KeysError`].
    pub async fn revoke(&self, kid: &str) -> Result<KeyInfo, KeysError> {
        let algorithm = self.require_asymmetric()?;
        let fresh = self.fresh_key()?;
        let now = self.inner.clock.now();
        let decide =
            |keys: &[SigningKeyRecord]| lifecycle::revoke(keys, algorithm, kid, now, &fresh);
        let changes = self.apply(&decide).await?;
        if changes.is_empty() {
            return Err(KeysError::UnknownKey);
        }
        log_changes(&changes);
        self.reload().await?;
        self.list()
            .await?
            .into_iter()
            .find(|key| key.kid == kid)
            .ok_or(KeysError::UnknownKey)
    }

    /// Runs [`upkeep`](Self::upkeep) every reload interval, for ever; failures are logged and
    /// the keys loaded keep working. Spawn it on the runtime.
    pub async fn run_upkeep(self) {
        let period = self.reload_interval().unsigned_abs();
        let mut ticks = tokio::time::interval(period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            if let Err(err) = self.upkeep().await {
                tracing::warn!(error = %err, "signing key upkeep failed; keeping the loaded keys");
            }
        }
    }

    /// Applies the changes `decide` makes under the rotation lock.
    async fn apply(
        &self,
        decide: &(dyn Fn(&[SigningKeyRecord]) -> Vec<KeyChange> + Sync),
    ) -> Result<Vec<KeyChange>, KeysError> {
        let inner = &self.inner;
        let applied = guarded(
            &inner.breaker,
            &inner.pool,
            signing_keys::apply_locked(&inner.pool, decide),
        )
        .await
        .map_err(Fault::from)?;
        Ok(applied)
    }

    fn timing(&self) -> Timing {
        let config = &self.inner.config;
        let codec = &self.inner.codec;
        let publish_ahead = config.jwks_max_age * 2;
        Timing {
            now: self.inner.clock.now(),
            rotation_interval: config.rotation_interval,
            publish_ahead,
            // Slack for clocks that disagree and replicas that reload late.
            token_lifetime: codec.refresh_ttl()
                + TokenCodec::LEEWAY
                + config.reload_interval
                + publish_ahead,
        }
    }

    /// A new key of the configured algorithm, sealed, its times still to set.
    fn fresh_key(&self) -> Result<SigningKeyRecord, KeysError> {
        let inner = &self.inner;
        let now = inner.clock.now();
        let day = now
            .format(format_description!("[year][month][day]"))
            .unwrap_or_default();
        let kid = format!("{day}-{}", &random_token()[..10]);
        let generated =
            generate_signing_key(inner.codec.algorithm(), &kid).map_err(KeysError::Crypto)?;
        let kek = inner.kek.as_ref().ok_or_else(|| {
            KeysError::Crypto(CryptoError::InvalidConfig("no key-encryption key".into()))
        })?;
        let sealed = kek
            .seal(&kid, generated.private_pkcs8.expose_secret())
            .map_err(KeysError::Crypto)?;
        Ok(SigningKeyRecord {
            kid,
            algorithm: inner.codec.algorithm().as_str().to_owned(),
            public_jwk: generated.public_jwk,
            private_key: sealed,
            state: KeyState::Pending,
            created_at: now,
            activates_at: now,
            superseded_at: None,
            retire_after: None,
            retired_at: None,
        })
    }

    /// The keyring entry of a published key; pending and active keys bring their private key.
    fn entry(&self, key: &SigningKeyRecord) -> Result<KeyringEntry, KeysError> {
        let private_pkcs8 = match key.state {
            KeyState::Pending | KeyState::Active => {
                let kek = self.inner.kek.as_ref().ok_or_else(|| KeysError::Unseal {
                    kid: key.kid.clone(),
                })?;
                let opened =
                    kek.open(&key.kid, &key.private_key)
                        .map_err(|_| KeysError::Unseal {
                            kid: key.kid.clone(),
                        })?;
                Some(opened)
            }
            _ => None,
        };
        Ok(KeyringEntry {
            kid: key.kid.clone(),
            public_jwk: key.public_jwk.clone(),
            activates_at: key.activates_at,
            private_pkcs8,
        })
    }

    fn asymmetric(&self) -> Option<&'static str> {
        let algorithm = self.inner.codec.algorithm();
        algorithm.is_asymmetric().then(|| algorithm.as_str())
    }

    fn require_asymmetric(&self) -> Result<&'static str, KeysError> {
        self.asymmetric()
            .ok_or_else(|| KeysError::NotAsymmetric(self.inner.codec.algorithm().as_str()))
    }
}

/// One INFO line per change: key ids and states only.
fn log_changes(changes: &[KeyChange]) {
    for change in changes {
        match change {
            KeyChange::Insert(key) => {
                tracing::info!(kid = %key.kid, state = %key.state, activates_at = %key.activates_at, "signing key created");
            }
            KeyChange::Update { kid, state, .. } => {
                tracing::info!(kid = %kid, state = %state, "signing key changed state");
            }
        }
    }
}
