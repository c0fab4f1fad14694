//! Signed tokens: the claims of the HTTP contract, their configuration, and the codec.

mod claims;
mod codec;
mod config;
mod issue;
#[cfg(test)]
mod refusals;
#[cfg(test)]
mod testing;

pub use claims::{Claims, IssuedToken, TokenKind};
pub use codec::TokenCodec;
pub use config::{JwtAlgorithm, JwtConfig};
