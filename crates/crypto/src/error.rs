//! Everything that can go wrong in this crate, and how it is classified for clients.

use auth_errors::{AppError, BoxError};

/// A failure while hashing, verifying or handling tokens.
///
/// The `Display` text never contains a password, a hash or a token, so the error may be
/// logged as is. Convert it into an [`AppError`] to answer a client:
///
/// ```
/// use auth_crypto::CryptoError;
/// use auth_errors::{AppError, ErrorCode};
///
/// let app: AppError = CryptoError::TokenExpired.into();
/// assert_eq!(app.error_code(), ErrorCode::TokenExpired);
/// let app: AppError = CryptoError::MalformedHash.into();
/// assert_eq!(app.error_code(), ErrorCode::InternalError);
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The hashing backend failed (out of memory, RNG failure, …).
    #[error("password hashing failed")]
    HashFailed(#[source] BoxError),
    /// Signing a token failed.
    #[error("token signing failed")]
    SigningFailed(#[source] BoxError),
    /// The stored hash cannot be parsed or uses a scheme this crate does not accept.
    #[error("stored password hash is malformed or of an unknown scheme")]
    MalformedHash,
    /// The stored hash asks for more work than allowed (argon2 `m` over 1 GiB or `t` over 20,
    /// bcrypt cost over 16); it was refused before any hashing.
    #[error("stored password hash has parameters over the allowed limits")]
    HostileHash,
    /// The password is longer than the scheme can hash without truncating it.
    #[error("password is longer than {max_bytes} bytes")]
    PasswordTooLong {
        /// The longest password, in UTF-8 bytes, the scheme accepts.
        max_bytes: usize,
    },
    /// The token was valid but is past its `exp`.
    #[error("token expired")]
    TokenExpired,
    /// The token is malformed, tampered with, signed with another key or algorithm, of the
    /// wrong kind, or misses a required claim.
    #[error("invalid token")]
    TokenInvalid,
    /// A configuration value was refused (short secret, parameters out of range, …).
    #[error("invalid crypto configuration: {0}")]
    InvalidConfig(String),
}

impl From<CryptoError> for AppError {
    fn from(err: CryptoError) -> Self {
        match err {
            CryptoError::TokenExpired => AppError::TokenExpired,
            CryptoError::TokenInvalid => AppError::InvalidToken,
            CryptoError::PasswordTooLong { max_bytes } => {
                AppError::invalid_field("password", format!("must be at most {max_bytes} bytes"))
            }
            other => AppError::internal(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use auth_errors::{AppError, ErrorCode};

    use super::CryptoError;

    #[test]
    fn token_errors_become_their_client_codes() {
        let expired: AppError = CryptoError::TokenExpired.into();
        assert_eq!(expired.error_code(), ErrorCode::TokenExpired);
        let invalid: AppError = CryptoError::TokenInvalid.into();
        assert_eq!(invalid.error_code(), ErrorCode::InvalidToken);
    }

    #[test]
    fn a_too_long_password_becomes_a_validation_error_on_the_password_field() {
        let app: AppError = CryptoError::PasswordTooLong { max_bytes: 72 }.into();
        assert_eq!(app.error_code(), ErrorCode::ValidationError);
        assert_eq!(app.field_errors()[0].field, "password");
        assert_eq!(app.detail(), "password: must be at most 72 bytes");
    }

    #[test]
    fn every_other_error_is_internal_and_keeps_its_cause_for_logs() {
        let cases = [
            CryptoError::HashFailed(std::io::Error::other("oom").into()),
            CryptoError::SigningFailed(std::io::Error::other("hmac").into()),
            CryptoError::MalformedHash,
            CryptoError::HostileHash,
            CryptoError::InvalidConfig("secret too short".into()),
        ];
        for err in cases {
            let shown = err.to_string();
            let app: AppError = err.into();
            assert_eq!(app.error_code(), ErrorCode::InternalError, "{shown}");
            assert_eq!(app.source().map(ToString::to_string), Some(shown));
        }
    }
}
