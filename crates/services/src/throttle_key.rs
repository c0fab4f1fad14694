//! Throttle keys carry no raw user input: identifiers and client addresses are replaced by a
//! keyed hash (HMAC-SHA256) under a server secret before they reach the `throttles` table.
//!
//! An unkeyed hash of an email can be reversed by hashing candidate addresses; a keyed one
//! cannot without the secret. Every replica must use the same secret, and it must survive
//! restarts, or replicas would count the same identifier under different keys.

use hmac::{Hmac, KeyInit as _, Mac as _};
use secrecy::{ExposeSecret as _, SecretString};
use sha2::Sha256;

/// Label mixed into a key derived from another secret, so the derived key is useless for
/// that secret's own purpose and the other way round.
const DERIVATION_LABEL: &[u8] = b"auth-service throttle keys v1";

/// Bytes of the HMAC kept in a key (128 bits: collisions are out of reach).
const KEPT_BYTES: usize = 16;

/// The secret the throttle keys are hashed under. `Debug` shows nothing of it.
#[derive(Clone)]
pub struct ThrottleKeySecret(SecretString);

impl ThrottleKeySecret {
    /// Uses `secret` as it is (`THROTTLE_KEY_SECRET`).
    pub fn new(secret: SecretString) -> Self {
        Self(secret)
    }

    /// A key derived from another secret that every replica already shares (the JWT signing
    /// key, or the key-encryption key): HMAC-SHA256 of a fixed label under it. The same
    /// shared secret gives the same key everywhere; the derived key reveals nothing of it.
    pub fn derived_from(shared: &SecretString) -> Self {
        let derived = hex(&mac(shared.expose_secret().as_bytes(), DERIVATION_LABEL));
        Self(SecretString::from(derived))
    }

    /// A random key for this process only: counters are not shared with other processes nor
    /// kept across a restart. What [`ThrottleConfig::default`](crate::ThrottleConfig) uses.
    pub fn random() -> Self {
        Self(SecretString::from(auth_crypto::random_token()))
    }

    /// The keyed hash of `value` (128 bits, as hex): what stands for it in a throttle key.
    /// Public so operators and tests can find the key of a known identifier or address.
    pub fn digest(&self, value: &str) -> String {
        let full = mac(self.0.expose_secret().as_bytes(), value.as_bytes());
        hex(&full[..KEPT_BYTES])
    }
}

impl std::fmt::Debug for ThrottleKeySecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ThrottleKeySecret([REDACTED])")
    }
}

fn mac(key: &[u8], message: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256>>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::ThrottleKeySecret;

    #[test]
    fn the_same_secret_gives_the_same_digest_and_another_secret_another() {
        let a = ThrottleKeySecret::new(SecretString::from("one"));
        let b = ThrottleKeySecret::new(SecretString::from("one"));
        let c = ThrottleKeySecret::new(SecretString::from("two"));
        assert_eq!(a.digest("ann@example.com"), b.digest("ann@example.com"));
        assert_ne!(a.digest("ann@example.com"), c.digest("ann@example.com"));
        assert_ne!(a.digest("ann@example.com"), a.digest("bob@example.com"));
        assert_eq!(a.digest("x").len(), 32);
    }

    #[test]
    fn a_derived_key_depends_on_the_shared_secret_and_debug_hides_it() {
        let shared = SecretString::from("jwt-secret");
        let a = ThrottleKeySecret::derived_from(&shared);
        let b = ThrottleKeySecret::derived_from(&SecretString::from("jwt-secret"));
        let c = ThrottleKeySecret::derived_from(&SecretString::from("other"));
        assert_eq!(a.digest("v"), b.digest("v"));
        assert_ne!(a.digest("v"), c.digest("v"));
        assert_ne!(
            a.digest("v"),
            ThrottleKeySecret::new(shared).digest("v"),
            "derived, not the shared secret itself"
        );
        assert!(!format!("{a:?}").contains("jwt"));
        assert_eq!(format!("{a:?}"), "ThrottleKeySecret([REDACTED])");
    }
}
