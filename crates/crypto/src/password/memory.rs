//! Argon2 working memory that a thread keeps from one hash to the next, so that hashing costs
//! no allocation, no page faults and no zeroing of a fresh block.

use argon2::Block;

use super::PasswordConfig;

/// The memory one Argon2 computation works in, sized for a [`PasswordConfig`], reusable by
/// any number of hashes and verifications one after the other.
///
/// A hashing thread owns one and hands it to [`PasswordHasher::hash_in`] and
/// [`PasswordHasher::verify_in`]: the memory a process spends on hashing is then exactly
/// `threads × m_cost`, however many passwords it checks. A stored hash that needs more memory
/// than this (a legacy hash with a bigger `m`) is verified in a one-off allocation instead.
///
/// [`PasswordHasher::hash_in`]: crate::PasswordHasher::hash_in
/// [`PasswordHasher::verify_in`]: crate::PasswordHasher::verify_in
///
/// ```
/// use auth_crypto::{HashingMemory, PasswordConfig};
///
/// let memory = HashingMemory::for_config(&PasswordConfig::default());
/// assert_eq!(memory.kib(), 19_456);
/// ```
pub struct HashingMemory {
    blocks: Vec<Block>,
}

impl HashingMemory {
    /// Memory for the Argon2 parameters of `config` (bcrypt needs none of it; the size is that
    /// of the configured Argon2 parameters whichever scheme new hashes use). All of it is
    /// allocated and touched here, once.
    pub fn for_config(config: &PasswordConfig) -> Self {
        Self::with_blocks(config.argon2.block_count())
    }

    pub(super) fn with_blocks(count: usize) -> Self {
        Self {
            blocks: vec![Block::default(); count],
        }
    }

    /// Its size in KiB (one Argon2 block is 1 KiB).
    pub fn kib(&self) -> usize {
        self.blocks.len()
    }

    /// The first `count` blocks, if there are that many.
    pub(super) fn blocks(&mut self, count: usize) -> Option<&mut [Block]> {
        self.blocks.get_mut(..count)
    }
}

impl std::fmt::Debug for HashingMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HashingMemory")
            .field("kib", &self.kib())
            .finish()
    }
}
