//! Issuing and verifying signed tokens, with the algorithm pinned and every claim checked.

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use auth_verifier::{Rules, TokenType, VerifyError};
use time::Duration;

use super::{Claims, JwtAlgorithm, JwtConfig, Keyring, TokenKind};
use crate::{Clock, CryptoError};

/// Issues and verifies the access and refresh tokens of the HTTP contract.
///
/// Tokens are stamped with the injected [`Clock`] and name their key in the `kid` header;
/// verification (the `auth-verifier` core) checks `exp` and `nbf` against the system clock
/// with a leeway of [`LEEWAY`](Self::LEEWAY). Clones are cheap and share keys, including the
/// keyring [`install`](Self::install) swaps in. `Debug` never shows a key.
///
/// ```
/// use std::sync::Arc;
/// use auth_crypto::{CryptoError, JwtConfig, SystemClock, TokenCodec, TokenKind};
/// use secrecy::{ExposeSecret, SecretString};
///
/// let config = JwtConfig::new(SecretString::from("an example key of at least 32 bytes"));
/// let codec = TokenCodec::new(config, Arc::new(SystemClock))?;
/// let issued = codec.issue(TokenKind::Access, "42", "session-1")?;
/// let claims = codec.verify(issued.token.expose_secret(), TokenKind::Access)?;
/// assert_eq!(claims.user_id::<u64>()?, 42);
/// assert_eq!(claims.sid, "session-1");
/// assert!(matches!(
///     codec.verify(issued.token.expose_secret(), TokenKind::Refresh),
///     Err(CryptoError::TokenInvalid)
/// ));
/// # Ok::<(), CryptoError>(())
/// ```
#[derive(Clone)]
pub struct TokenCodec {
    pub(super) inner: Arc<Inner>,
}

/// The shared state of a codec and its clones.
pub(super) struct Inner {
    pub(super) algorithm: JwtAlgorithm,
    pub(super) access_ttl: Duration,
    pub(super) refresh_ttl: Duration,
    pub(super) issuer: Option<String>,
    pub(super) audience: Option<String>,
    pub(super) rules: Rules,
    pub(super) keyring: RwLock<Arc<Keyring>>,
    pub(super) clock: Arc<dyn Clock>,
}

impl TokenCodec {
    /// How far past `exp` (or before `nbf`) a token is still accepted, for clock skew between
    /// servers: 5 seconds.
    pub const LEEWAY: Duration = super::config::LEEWAY;

    /// Builds the keys and the validation rules from `config`.
    ///
    /// With HMAC the codec is ready; with EdDSA or ES256 it signs and verifies nothing until
    /// a [`Keyring`] of published keys is [installed](Self::install).
    ///
    /// # Errors
    ///
    /// [`CryptoError::InvalidConfig`] when a secret is shorter than 32 bytes, a lifetime is not
    /// positive, or the issuer or audience is blank.
    pub fn new(config: JwtConfig, clock: Arc<dyn Clock>) -> Result<Self, CryptoError> {
        config.validate()?;
        let keyring = if config.algorithm.is_asymmetric() {
            Keyring::empty(config.algorithm)
        } else {
            Keyring::hmac(&config)?
        };
        let rules = config.rules();
        Ok(Self {
            inner: Arc::new(Inner {
                algorithm: config.algorithm,
                access_ttl: config.access_ttl,
                refresh_ttl: config.refresh_ttl,
                issuer: config.issuer,
                audience: config.audience,
                rules,
                keyring: RwLock::new(Arc::new(keyring)),
                clock,
            }),
        })
    }

    /// Replaces the keys of this codec and all its clones (a reloaded key set).
    ///
    /// # Errors
    ///
    /// [`CryptoError::InvalidConfig`] when the keyring is of another algorithm.
    pub fn install(&self, keyring: Keyring) -> Result<(), CryptoError> {
        if keyring.algorithm() != self.inner.algorithm {
            return Err(CryptoError::InvalidConfig(format!(
                "keyring of {} for a {} codec",
                keyring.algorithm(),
                self.inner.algorithm
            )));
        }
        *self
            .inner
            .keyring
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(keyring);
        Ok(())
    }

    /// The keys in use now.
    pub fn keyring(&self) -> Arc<Keyring> {
        self.inner
            .keyring
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The signing algorithm, the only one accepted.
    pub fn algorithm(&self) -> JwtAlgorithm {
        self.inner.algorithm
    }

    /// The published public keys as a JWKS document; an empty set with HMAC.
    pub fn jwks(&self) -> String {
        self.keyring().jwks().to_owned()
    }

    /// Verifies `token` and returns its claims if it is a valid token of the `expected` kind.
    ///
    /// The key is the one the token's `kid` names (a token without `kid` is checked with the
    /// current key), and only with that key's algorithm, the configured one (never `none`);
    /// `exp`, `iat`, `nbf`, `sub`, `jti`, `sid` and `type` must be present with the right
    /// types, `exp` and `nbf` must hold within [`LEEWAY`](Self::LEEWAY) of the system clock,
    /// and `iss` / `aud` must match when configured. Keys retired or revoked are no longer in
    /// the keyring, so their tokens are refused.
    ///
    /// # Errors
    ///
    /// [`CryptoError::TokenExpired`] when the token is past `exp`; [`CryptoError::TokenInvalid`]
    /// for everything else: malformed, bad signature (tampered, or signed with another key),
    /// an unknown or retired key, another algorithm, a missing or mistyped claim, the wrong
    /// kind, issuer or audience.
    pub fn verify(&self, token: &str, expected: TokenKind) -> Result<Claims, CryptoError> {
        let keyring = self.keyring();
        keyring
            .keys()
            .verify::<Claims>(token, &self.inner.rules, expected.as_str())
            .map_err(|e| match e {
                VerifyError::Expired => CryptoError::TokenExpired,
                _ => CryptoError::TokenInvalid,
            })
    }

    /// The configured lifetime of access tokens.
    pub fn access_ttl(&self) -> Duration {
        self.inner.access_ttl
    }

    /// The configured lifetime of refresh tokens.
    pub fn refresh_ttl(&self) -> Duration {
        self.inner.refresh_ttl
    }
}

impl TokenType for Claims {
    fn token_type(&self) -> &str {
        self.kind.as_str()
    }
}

impl fmt::Debug for TokenCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCodec")
            .field("algorithm", &self.inner.algorithm)
            .field("access_ttl", &self.inner.access_ttl)
            .field("refresh_ttl", &self.inner.refresh_ttl)
            .field("issuer", &self.inner.issuer)
            .field("audience", &self.inner.audience)
            .field("clock", &self.inner.clock)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {

    use secrecy::ExposeSecret as _;
    use time::Duration;

    use super::TokenCodec;
    use crate::TokenKind;

    use crate::token::testing::codec;

    #[test]
    fn a_valid_token_verifies_to_its_claims() {
        let codec = codec();
        for kind in [TokenKind::Access, TokenKind::Refresh] {
            let issued = codec.issue(kind, "42", "session-9").unwrap();
            let claims = codec.verify(issued.token.expose_secret(), kind).unwrap();
            assert_eq!(claims, issued.claims);
            assert_eq!(claims.sid, "session-9");
            assert_eq!(claims.iss, None);
        }
    }

    #[test]
    fn the_user_id_can_be_extracted_from_a_valid_token() {
        let codec = codec();
        let issued = codec.issue(TokenKind::Access, "12345", "s").unwrap();
        let claims = codec
            .verify(issued.token.expose_secret(), TokenKind::Access)
            .unwrap();
        assert_eq!(claims.user_id::<i64>().unwrap(), 12345);
    }

    #[test]
    fn debug_output_shows_neither_the_key_nor_the_token() {
        let codec = codec();
        let issued = codec.issue(TokenKind::Access, "1", "s").unwrap();
        let shown = format!("{codec:?} {issued:?}");
        assert!(!shown.contains("test-secret"), "{shown}");
        assert!(!shown.contains(issued.token.expose_secret()), "{shown}");
        assert!(shown.contains("HS256"));
    }

    #[test]
    fn the_codec_reports_its_lifetimes_and_is_send_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<TokenCodec>();
        let codec = codec();
        assert_eq!(codec.access_ttl(), Duration::minutes(30));
        assert_eq!(codec.clone().refresh_ttl(), Duration::days(7));
    }
}
