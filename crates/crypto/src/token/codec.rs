//! Issuing and verifying signed tokens, with the algorithm pinned and every claim checked.

use std::fmt;
use std::sync::Arc;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{DecodingKey, EncodingKey, Validation};
use secrecy::ExposeSecret as _;
use time::Duration;

use super::{Claims, JwtAlgorithm, JwtConfig, TokenKind};
use crate::{Clock, CryptoError};

/// Issues and verifies the access and refresh tokens of the HTTP contract.
///
/// Tokens are stamped with the injected [`Clock`]; verification checks `exp` and `nbf` against
/// the system clock with a leeway of [`LEEWAY`](Self::LEEWAY). Clones are cheap and share keys.
/// `Debug` never shows the key.
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
    pub(super) encoding: EncodingKey,
    pub(super) decoding: DecodingKey,
    pub(super) validation: Validation,
    pub(super) clock: Arc<dyn Clock>,
}

impl TokenCodec {
    /// How far past `exp` (or before `nbf`) a token is still accepted, for clock skew between
    /// servers: 5 seconds.
    pub const LEEWAY: Duration = super::config::LEEWAY;

    /// Builds the keys and the validation rules from `config`.
    ///
    /// # Errors
    ///
    /// [`CryptoError::InvalidConfig`] when the secret is shorter than 32 bytes, a lifetime is not
    /// positive, or the issuer or audience is blank.
    pub fn new(config: JwtConfig, clock: Arc<dyn Clock>) -> Result<Self, CryptoError> {
        config.validate()?;
        let secret = config.secret.expose_secret().as_bytes();
        let (encoding, decoding) = (
            EncodingKey::from_secret(secret),
            DecodingKey::from_secret(secret),
        );
        let validation = config.validation();
        Ok(Self {
            inner: Arc::new(Inner {
                algorithm: config.algorithm,
                access_ttl: config.access_ttl,
                refresh_ttl: config.refresh_ttl,
                issuer: config.issuer,
                audience: config.audience,
                encoding,
                decoding,
                validation,
                clock,
            }),
        })
    }

    /// Verifies `token` and returns its claims if it is a valid token of the `expected` kind.
    ///
    /// Only the configured algorithm is accepted (never `none`); `exp`, `iat`, `nbf`, `sub`,
    /// `jti`, `sid` and `type` must be present with the right types, `exp` and `nbf` must hold
    /// within [`LEEWAY`](Self::LEEWAY) of the system clock, and `iss` / `aud` must match when
    /// configured.
    ///
    /// # Errors
    ///
    /// [`CryptoError::TokenExpired`] when the token is past `exp`; [`CryptoError::TokenInvalid`]
    /// for everything else: malformed, bad signature (tampered, or signed with another key),
    /// another algorithm, a missing or mistyped claim, the wrong kind, issuer or audience.
    pub fn verify(&self, token: &str, expected: TokenKind) -> Result<Claims, CryptoError> {
        let data =
            jsonwebtoken::decode::<Claims>(token, &self.inner.decoding, &self.inner.validation)
                .map_err(|e| match e.kind() {
                    ErrorKind::ExpiredSignature => CryptoError::TokenExpired,
                    _ => CryptoError::TokenInvalid,
                })?;
        if data.claims.kind != expected {
            return Err(CryptoError::TokenInvalid);
        }
        Ok(data.claims)
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
