//! How tokens are signed and how long they live, as filled in by the service's settings.

use std::fmt;
use std::str::FromStr;

use secrecy::{ExposeSecret as _, SecretString};
use time::Duration;

use crate::CryptoError;

/// The shortest signing secret accepted, in bytes (256 bits).
pub(crate) const MIN_SECRET_BYTES: usize = 32;

/// How far past `exp` (or before `nbf`) a token is still accepted: 5 seconds of clock skew.
pub(crate) const LEEWAY: Duration = Duration::seconds(5);

/// The algorithm tokens are signed with. Only this one is accepted when verifying.
///
/// The HMAC algorithms sign with `JWT_SECRET_KEY`; `EdDSA` (Ed25519) and `ES256` (P-256) sign
/// with private keys kept in the database and publish their public keys. RSA is not offered.
///
/// ```
/// use auth_crypto::JwtAlgorithm;
///
/// assert_eq!(JwtAlgorithm::default(), JwtAlgorithm::HS256);
/// assert_eq!("HS512".parse::<JwtAlgorithm>().unwrap(), JwtAlgorithm::HS512);
/// assert!("EdDSA".parse::<JwtAlgorithm>().unwrap().is_asymmetric());
/// assert!("none".parse::<JwtAlgorithm>().is_err());
/// ```
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JwtAlgorithm {
    /// HMAC with SHA-256.
    #[default]
    HS256,
    /// HMAC with SHA-384.
    HS384,
    /// HMAC with SHA-512.
    HS512,
    /// Ed25519 signatures.
    EdDSA,
    /// ECDSA on P-256 with SHA-256.
    ES256,
}

impl JwtAlgorithm {
    /// The name used in configuration and in the token header, e.g. `HS256`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HS256 => "HS256",
            Self::HS384 => "HS384",
            Self::HS512 => "HS512",
            Self::EdDSA => "EdDSA",
            Self::ES256 => "ES256",
        }
    }

    /// Whether tokens are signed with a private key whose public key is published.
    pub fn is_asymmetric(self) -> bool {
        matches!(self, Self::EdDSA | Self::ES256)
    }

    /// The shortest HMAC secret for this algorithm (its hash size, RFC 7518 §3.2); `None` for
    /// the asymmetric algorithms.
    pub fn min_secret_bytes(self) -> Option<usize> {
        self.to_verifier().min_secret_bytes()
    }

    pub(crate) fn to_verifier(self) -> auth_verifier::Algorithm {
        match self {
            Self::HS256 => auth_verifier::Algorithm::HS256,
            Self::HS384 => auth_verifier::Algorithm::HS384,
            Self::HS512 => auth_verifier::Algorithm::HS512,
            Self::EdDSA => auth_verifier::Algorithm::EdDSA,
            Self::ES256 => auth_verifier::Algorithm::ES256,
        }
    }

    pub(crate) fn to_jwt(self) -> jsonwebtoken::Algorithm {
        self.to_verifier().to_jwt()
    }
}

impl fmt::Display for JwtAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JwtAlgorithm {
    type Err = CryptoError;

    /// Parses `HS256`, `HS384`, `HS512`, `EdDSA` or `ES256` (exact spelling, as in a token
    /// header).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "HS256" => Ok(Self::HS256),
            "HS384" => Ok(Self::HS384),
            "HS512" => Ok(Self::HS512),
            "EdDSA" => Ok(Self::EdDSA),
            "ES256" => Ok(Self::ES256),
            other => Err(CryptoError::InvalidConfig(format!(
                "unsupported JWT algorithm {other:?}; expected HS256, HS384, HS512, EdDSA or ES256"
            ))),
        }
    }
}

/// Everything [`TokenCodec`](crate::TokenCodec) needs: key, algorithm, lifetimes, and the
/// optional issuer and audience.
///
/// With an asymmetric algorithm the secrets are not used: the codec signs with the keys
/// installed by [`TokenCodec::install`](crate::TokenCodec::install).
///
/// ```
/// use auth_crypto::{JwtAlgorithm, JwtConfig};
/// use secrecy::SecretString;
///
/// let config = JwtConfig {
///     issuer: Some("auth.example.com".into()),
///     ..JwtConfig::new(SecretString::from("0123456789abcdef0123456789abcdef"))
/// };
/// assert_eq!(config.algorithm, JwtAlgorithm::HS256);
/// assert_eq!(config.access_ttl, time::Duration::minutes(30));
/// assert_eq!(config.refresh_ttl, time::Duration::days(7));
/// assert!(!format!("{config:?}").contains("0123456789"));
/// ```
#[derive(Debug, Clone)]
pub struct JwtConfig {
    /// The HMAC key; at least 32 bytes. Unused with an asymmetric algorithm.
    pub secret: SecretString,
    /// Earlier HMAC keys, still accepted when verifying (each token names its key in `kid`)
    /// so the secret can be changed without signing everyone out.
    pub previous_secrets: Vec<SecretString>,
    /// The signing algorithm; the only one accepted when verifying.
    pub algorithm: JwtAlgorithm,
    /// Lifetime of access tokens; default 30 minutes.
    pub access_ttl: Duration,
    /// Lifetime of refresh tokens; default 7 days.
    pub refresh_ttl: Duration,
    /// When set, issued as `iss` and required on every verified token.
    pub issuer: Option<String>,
    /// When set, issued as `aud` and required on every verified token.
    pub audience: Option<String>,
}

impl JwtConfig {
    /// A configuration with `secret` and the defaults of the HTTP contract: HS256, access tokens
    /// for 30 minutes, refresh tokens for 7 days, no issuer or audience.
    pub fn new(secret: SecretString) -> Self {
        Self {
            secret,
            previous_secrets: Vec::new(),
            algorithm: JwtAlgorithm::default(),
            access_ttl: Duration::minutes(30),
            refresh_ttl: Duration::days(7),
            issuer: None,
            audience: None,
        }
    }

    /// Checks the secret lengths (HMAC only), the lifetimes and the issuer and audience.
    pub(crate) fn validate(&self) -> Result<(), CryptoError> {
        if !self.algorithm.is_asymmetric() {
            for secret in std::iter::once(&self.secret).chain(&self.previous_secrets) {
                let secret_len = secret.expose_secret().len();
                if secret_len < MIN_SECRET_BYTES {
                    return Err(CryptoError::InvalidConfig(format!(
                        "JWT secret must be at least {MIN_SECRET_BYTES} bytes, got {secret_len}"
                    )));
                }
            }
        }
        if !self.access_ttl.is_positive() || !self.refresh_ttl.is_positive() {
            return Err(CryptoError::InvalidConfig(
                "token lifetimes must be positive".into(),
            ));
        }
        let blank = |value: &Option<String>| value.as_deref().is_some_and(|v| v.trim().is_empty());
        if blank(&self.issuer) || blank(&self.audience) {
            return Err(CryptoError::InvalidConfig(
                "JWT issuer and audience must not be empty when set".into(),
            ));
        }
        Ok(())
    }

    /// The claim checks every verified token must pass: `exp`, `nbf` and `sub` present, `exp`
    /// and `nbf` within [`LEEWAY`], and `iss` / `aud` when configured.
    pub(crate) fn rules(&self) -> auth_verifier::Rules {
        auth_verifier::Rules {
            issuer: self.issuer.clone(),
            audience: self.audience.clone(),
            leeway: std::time::Duration::from_secs(LEEWAY.whole_seconds().unsigned_abs()),
        }
    }
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;
    use time::Duration;

    use super::{JwtAlgorithm, JwtConfig};
    use crate::CryptoError;

    fn config() -> JwtConfig {
        JwtConfig::new(SecretString::from("k".repeat(32)))
    }

    #[test]
    fn the_default_config_is_valid() {
        config().validate().unwrap();
    }

    #[test]
    fn a_secret_shorter_than_32_bytes_is_refused() {
        let short = JwtConfig::new(SecretString::from("k".repeat(31)));
        let err = short.validate().unwrap_err();
        assert!(
            matches!(&err, CryptoError::InvalidConfig(m) if m.contains("32")),
            "{err:?}"
        );
        assert!(!err.to_string().contains("kkk"));
    }

    #[test]
    fn non_positive_lifetimes_are_refused() {
        for ttl in [Duration::ZERO, Duration::seconds(-1)] {
            let access = JwtConfig {
                access_ttl: ttl,
                ..config()
            };
            assert!(matches!(
                access.validate(),
                Err(CryptoError::InvalidConfig(_))
            ));
            let refresh = JwtConfig {
                refresh_ttl: ttl,
                ..config()
            };
            assert!(matches!(
                refresh.validate(),
                Err(CryptoError::InvalidConfig(_))
            ));
        }
    }

    #[test]
    fn blank_issuer_or_audience_is_refused() {
        let issuer = JwtConfig {
            issuer: Some(String::new()),
            ..config()
        };
        assert!(matches!(
            issuer.validate(),
            Err(CryptoError::InvalidConfig(_))
        ));
        let audience = JwtConfig {
            audience: Some(" ".into()),
            ..config()
        };
        assert!(matches!(
            audience.validate(),
            Err(CryptoError::InvalidConfig(_))
        ));
    }

    #[test]
    fn algorithms_parse_from_their_header_names_only() {
        for alg in [
            JwtAlgorithm::HS256,
            JwtAlgorithm::HS384,
            JwtAlgorithm::HS512,
        ] {
            assert_eq!(alg.as_str().parse::<JwtAlgorithm>().unwrap(), alg);
            assert_eq!(alg.to_string(), alg.as_str());
        }
        for alg in [JwtAlgorithm::EdDSA, JwtAlgorithm::ES256] {
            assert_eq!(alg.as_str().parse::<JwtAlgorithm>().unwrap(), alg);
            assert!(alg.is_asymmetric());
        }
        for bad in ["", "none", "hs256", "RS256", "HS1024", "eddsa", "ES384"] {
            assert!(
                matches!(
                    bad.parse::<JwtAlgorithm>(),
                    Err(CryptoError::InvalidConfig(_))
                ),
                "{bad}"
            );
        }
    }
}
