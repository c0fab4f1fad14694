//! The cryptography of the auth service, as a plain synchronous library: password hashing,
//! signed tokens, opaque random secrets and the clock they use.
//!
//! - [`PasswordHasher`] hashes new passwords with argon2id (or bcrypt, for a database shared
//!   with the Python service) and verifies stored argon2id, argon2i and bcrypt hashes, telling
//!   the caller when a hash should be upgraded. New hashes are made from the NFKC form of the
//!   password ([`normalize_password`]); [`PasswordForm`] says how a stored hash was made. Stored hashes with parameters over the limits are
//!   refused before any work, and [`PasswordHasher::dummy_verify`] makes "unknown user" as slow
//!   as "wrong password".
//! - [`TokenCodec`] issues and verifies the access and refresh JWTs of the HTTP contract, with
//!   the algorithm pinned and each kind refused where the other is expected.
//! - [`random_token`] and [`sha256_hex`] make opaque secrets and the digests to store instead.
//! - [`Clock`], with [`SystemClock`] and [`ManualClock`], stamps token times.
//!
//! Every failure is a [`CryptoError`]; what a client is told about it is the caller's choice.
//!
//! It must not depend on an async runtime, a web framework, a database or HTTP types, so any
//! Rust service can link it. Hashing is CPU-bound: async callers run it on a blocking thread.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//!
//! use auth_crypto::{
//!     CryptoError, JwtConfig, PasswordConfig, PasswordHasher, SystemClock, TokenCodec,
//!     PasswordForm, TokenKind, Verification,
//! };
//! use secrecy::{ExposeSecret, SecretString};
//!
//! // Registration: store the hash, never the password.
//! let hasher = PasswordHasher::new(PasswordConfig::for_tests())?;
//! let password = SecretString::from("correct horse battery staple");
//! let stored = hasher.hash(&password)?.into_string();
//!
//! // Login: verify, then issue a token pair for a new session.
//! match hasher.verify(&password, &stored, PasswordForm::Normalized)? {
//!     Verification::Match { needs_rehash } => assert!(!needs_rehash),
//!     Verification::Mismatch => unreachable!("the password is right"),
//! }
//! let codec = TokenCodec::new(
//!     JwtConfig::new(SecretString::from("at-least-32-bytes-of-secret-key!")),
//!     Arc::new(SystemClock),
//! )?;
//! let session = auth_crypto::random_token();
//! let access = codec.issue(TokenKind::Access, "42", &session)?;
//!
//! // Any later request: verify the token and read the user id.
//! let claims = codec.verify(access.token.expose_secret(), TokenKind::Access)?;
//! assert_eq!(claims.user_id::<u64>()?, 42);
//!
//! // An unknown user costs the same as a wrong password.
//! hasher.dummy_verify(&SecretString::from("whatever was sent"));
//! # Ok::<(), CryptoError>(())
//! ```

mod clock;
mod error;
mod opaque;
mod password;
mod token;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::CryptoError;
pub use opaque::{random_token, sha256_hex};
pub use password::{
    Argon2Params, HashScheme, HashedPassword, HashingMemory, PasswordConfig, PasswordForm,
    PasswordHasher, Verification, normalize_password,
};
pub use token::{Claims, IssuedToken, JwtAlgorithm, JwtConfig, TokenCodec, TokenKind};
