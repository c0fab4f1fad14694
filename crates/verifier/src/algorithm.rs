//! The signature algorithms this crate accepts, and nothing else: no `none`, no RSA.

use std::fmt;
use std::str::FromStr;

use crate::KeyError;

/// A JWS algorithm accepted by the verifier. Each key carries exactly one; a token must name
/// the algorithm of the key it was signed with.
///
/// ```
/// use auth_verifier::Algorithm;
///
/// assert_eq!("EdDSA".parse::<Algorithm>().unwrap(), Algorithm::EdDSA);
/// assert!(Algorithm::ES256.is_asymmetric());
/// assert!("none".parse::<Algorithm>().is_err());
/// assert!("RS256".parse::<Algorithm>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// HMAC with SHA-256.
    HS256,
    /// HMAC with SHA-384.
    HS384,
    /// HMAC with SHA-512.
    HS512,
    /// Ed25519 signatures (RFC 8037).
    EdDSA,
    /// ECDSA on P-256 with SHA-256.
    ES256,
}

impl Algorithm {
    /// Every accepted algorithm.
    pub const ALL: [Self; 5] = [
        Self::HS256,
        Self::HS384,
        Self::HS512,
        Self::EdDSA,
        Self::ES256,
    ];

    /// The name used in configuration, in a JWK's `alg` and in a token header.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HS256 => "HS256",
            Self::HS384 => "HS384",
            Self::HS512 => "HS512",
            Self::EdDSA => "EdDSA",
            Self::ES256 => "ES256",
        }
    }

    /// Whether keys of this algorithm are public/private pairs (and may be published).
    pub fn is_asymmetric(self) -> bool {
        matches!(self, Self::EdDSA | Self::ES256)
    }

    /// The shortest HMAC secret accepted, in bytes: the hash size (RFC 7518 §3.2), at least 32.
    /// `None` for the asymmetric algorithms.
    pub fn min_secret_bytes(self) -> Option<usize> {
        match self {
            Self::HS256 => Some(32),
            Self::HS384 => Some(48),
            Self::HS512 => Some(64),
            Self::EdDSA | Self::ES256 => None,
        }
    }

    /// The same algorithm in the `jsonwebtoken` crate's terms.
    pub fn to_jwt(self) -> jsonwebtoken::Algorithm {
        match self {
            Self::HS256 => jsonwebtoken::Algorithm::HS256,
            Self::HS384 => jsonwebtoken::Algorithm::HS384,
            Self::HS512 => jsonwebtoken::Algorithm::HS512,
            Self::EdDSA => jsonwebtoken::Algorithm::EdDSA,
            Self::ES256 => jsonwebtoken::Algorithm::ES256,
        }
    }

    /// The accepted algorithm a `jsonwebtoken` algorithm stands for, if any.
    pub fn from_jwt(algorithm: jsonwebtoken::Algorithm) -> Option<Self> {
        match algorithm {
            jsonwebtoken::Algorithm::HS256 => Some(Self::HS256),
            jsonwebtoken::Algorithm::HS384 => Some(Self::HS384),
            jsonwebtoken::Algorithm::HS512 => Some(Self::HS512),
            jsonwebtoken::Algorithm::EdDSA => Some(Self::EdDSA),
            jsonwebtoken::Algorithm::ES256 => Some(Self::ES256),
            _ => None,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = KeyError;

    /// Parses an algorithm name, exactly as spelled in a token header.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|alg| alg.as_str() == s)
            .ok_or_else(|| {
                KeyError::Invalid(format!(
                    "unsupported algorithm {s:?}; expected HS256, HS384, HS512, EdDSA or ES256"
                ))
            })
    }
}
