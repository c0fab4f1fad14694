//! Signed tokens: the claims of the HTTP contract, their configuration, and the codec.

#[cfg(test)]
mod asymmetric;
mod claims;
mod codec;
mod config;
mod generate;
mod issue;
mod keyring;
#[cfg(test)]
mod properties;
#[cfg(test)]
mod refusals;
mod sealing;
#[cfg(test)]
mod testing;

pub use claims::{Claims, IssuedToken, TokenKind};
pub use codec::TokenCodec;
pub use config::{JwtAlgorithm, JwtConfig};
pub use generate::{GeneratedKey, generate_signing_key};
pub use keyring::{Keyring, KeyringEntry, hmac_kid};
pub use sealing::{KeyEncryptionKey, MIN_KEK_BYTES};
