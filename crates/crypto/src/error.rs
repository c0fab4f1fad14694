//! Everything that can go wrong in this crate. What a client is told about it is the caller's
//! business: nothing here speaks of status codes.

/// Any error kept as a cause, for logs only.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A failure while hashing, verifying or handling tokens.
///
/// The `Display` text never contains a password, a hash or a token, so the error may be
/// logged as is.
///
/// ```
/// use auth_crypto::CryptoError;
///
/// let err = CryptoError::PasswordTooLong { max_bytes: 72 };
/// assert_eq!(err.to_string(), "password is longer than 72 bytes");
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
    /// No signing key is active yet (an asymmetric algorithm before its keys were loaded).
    #[error("no signing key is active")]
    NoSigningKey,
    /// A stored private key could not be opened: another key-encryption key, or tampered.
    #[error("a signing key cannot be unsealed with the key-encryption key")]
    KeyUnsealFailed,
    /// A configuration value was refused (short secret, parameters out of range, …).
    #[error("invalid crypto configuration: {0}")]
    InvalidConfig(String),
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::CryptoError;

    #[test]
    fn causes_are_kept_for_logs_and_out_of_the_display() {
        let cases = [
            CryptoError::HashFailed(std::io::Error::other("oom at 0xdead").into()),
            CryptoError::SigningFailed(std::io::Error::other("hmac at 0xdead").into()),
        ];
        for err in cases {
            assert!(!err.to_string().contains("0xdead"), "{err}");
            assert!(err.source().unwrap().to_string().contains("0xdead"));
        }
    }

    #[test]
    fn no_message_names_a_secret() {
        for err in [
            CryptoError::MalformedHash,
            CryptoError::HostileHash,
            CryptoError::TokenExpired,
            CryptoError::TokenInvalid,
            CryptoError::PasswordTooLong { max_bytes: 72 },
        ] {
            assert!(err.source().is_none(), "{err}");
            assert!(!err.to_string().contains('$'), "{err}");
        }
    }
}
