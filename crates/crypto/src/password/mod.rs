//! Password hashing: argon2id for new hashes, verification of argon2 and legacy bcrypt hashes.

mod argon;
mod config;
mod hashed;
mod hasher;
mod legacy_bcrypt;
mod memory;
mod normalize;
#[cfg(test)]
mod properties;

pub use config::{Argon2Params, HashScheme, PasswordConfig};
pub use hashed::{HashedPassword, Verification};
pub use hasher::PasswordHasher;
pub use memory::HashingMemory;
pub use normalize::{PasswordForm, normalize_password};
