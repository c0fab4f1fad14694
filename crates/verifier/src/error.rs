//! What can go wrong: a token refused, or keys that cannot be used. No message ever contains
//! the token or a key.

/// Why a token was refused.
///
/// The text says what was wrong without echoing the token, so it may be logged as is.
///
/// ```
/// use auth_verifier::VerifyError;
///
/// assert_eq!(VerifyError::Expired.to_string(), "token expired");
/// assert!(VerifyError::Expired.is_expired());
/// assert!(!VerifyError::BadSignature.is_expired());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The request carried no bearer token.
    #[error("no bearer token")]
    Missing,
    /// Not a compact JWS with a JSON header and claims, or an algorithm this crate refuses.
    #[error("token is not a well-formed JWT")]
    Malformed,
    /// The token names a key (`kid`) that is not in the key set.
    #[error("token names an unknown key")]
    UnknownKey,
    /// The header's `alg` is not the algorithm of the key the token names.
    #[error("token algorithm does not match its key")]
    AlgorithmMismatch,
    /// The signature does not verify with the key.
    #[error("token signature does not verify")]
    BadSignature,
    /// The token is past its `exp` (beyond the leeway).
    #[error("token expired")]
    Expired,
    /// The token's `nbf` is in the future (beyond the leeway).
    #[error("token is not valid yet")]
    NotYetValid,
    /// The `type` (or `typ`) claim is not the expected kind, e.g. a refresh token.
    #[error("token is not of the expected type")]
    WrongType,
    /// `iss` is missing or not the configured issuer.
    #[error("token issuer is not the expected one")]
    WrongIssuer,
    /// `aud` is missing or not the configured audience.
    #[error("token audience is not the expected one")]
    WrongAudience,
    /// A required claim is missing or has the wrong type.
    #[error("token claims are missing or mistyped")]
    InvalidClaims,
    /// No key set could be obtained (the JWKS URL never answered with a usable document).
    #[error("verification keys are unavailable")]
    KeysUnavailable,
}

impl VerifyError {
    /// Whether the token was refused only because it expired: callers answer
    /// `TOKEN_EXPIRED` for this and `INVALID_TOKEN` for everything else.
    pub fn is_expired(self) -> bool {
        self == Self::Expired
    }
}

/// A key or key set that cannot be used for verification.
///
/// ```
/// use auth_verifier::{Algorithm, VerificationKey};
///
/// let err = VerificationKey::hmac(Algorithm::HS256, b"short", None).unwrap_err();
/// assert!(err.to_string().contains("32 bytes"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key material or JWK is unusable; the text says why, never what the key is.
    #[error("unusable verification key: {0}")]
    Invalid(String),
    /// The JWKS document is not a JSON object with a `keys` array.
    #[error("not a JWKS document")]
    NotJwks,
    /// The JWKS URL is not a valid `http` or `https` URL, or the HTTP client cannot be built.
    #[error("JWKS source is unusable: {0}")]
    Source(String),
}
