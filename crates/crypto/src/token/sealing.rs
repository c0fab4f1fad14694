//! The key-encryption key: private signing keys are sealed with it before they are stored.
//!
//! XChaCha20-Poly1305 with a random 192-bit nonce per seal and the key id as associated data,
//! so a sealed key cannot be moved to another row unnoticed. The sealed form is
//! `v1.<base64url(nonce ‖ ciphertext)>`.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead as _, Payload};
use chacha20poly1305::{KeyInit as _, XChaCha20Poly1305, XNonce};
use rand::rand_core::{Rng as _, UnwrapErr};
use rand::rngs::SysRng;
use secrecy::{ExposeSecret as _, SecretSlice, SecretString};
use sha2::{Digest as _, Sha256};

use crate::CryptoError;

/// The shortest key-encryption key accepted, in bytes.
pub const MIN_KEK_BYTES: usize = 32;

const VERSION: &str = "v1.";
const NONCE_BYTES: usize = 24;

/// Seals and opens private signing keys (`JWT_KEY_ENCRYPTION_KEY`). `Debug` never shows it.
///
/// ```
/// use auth_crypto::KeyEncryptionKey;
/// use secrecy::{ExposeSecret, SecretString};
///
/// let kek = KeyEncryptionKey::new(&SecretString::from("a key-encryption key of 32+ bytes!"))?;
/// let sealed = kek.seal("kid-1", b"private key")?;
/// assert_eq!(kek.open("kid-1", &sealed)?.expose_secret(), b"private key");
/// assert!(kek.open("kid-2", &sealed).is_err());
/// # Ok::<(), auth_crypto::CryptoError>(())
/// ```
#[derive(Clone)]
pub struct KeyEncryptionKey {
    cipher: XChaCha20Poly1305,
}

impl KeyEncryptionKey {
    /// The key derived (SHA-256) from `secret`, which must be at least 32 bytes.
    ///
    /// # Errors
    ///
    /// [`CryptoError::InvalidConfig`] when `secret` is shorter than 32 bytes.
    pub fn new(secret: &SecretString) -> Result<Self, CryptoError> {
        let bytes = secret.expose_secret().as_bytes();
        if bytes.len() < MIN_KEK_BYTES {
            return Err(CryptoError::InvalidConfig(format!(
                "the key-encryption key must be at least {MIN_KEK_BYTES} bytes, got {}",
                bytes.len()
            )));
        }
        let mut hasher = Sha256::new();
        hasher.update(b"auth-service signing-key encryption v1\0");
        hasher.update(bytes);
        let key = hasher.finalize();
        let cipher = XChaCha20Poly1305::new_from_slice(&key)
            .map_err(|_| CryptoError::InvalidConfig("key-encryption key".into()))?;
        Ok(Self { cipher })
    }

    /// Seals `plaintext`, bound to key id `kid`.
    ///
    /// # Errors
    ///
    /// [`CryptoError::SigningFailed`] if the cipher fails.
    pub fn seal(&self, kid: &str, plaintext: &[u8]) -> Result<String, CryptoError> {
        let mut nonce = [0u8; NONCE_BYTES];
        UnwrapErr(SysRng).fill_bytes(&mut nonce);
        let payload = Payload {
            msg: plaintext,
            aad: kid.as_bytes(),
        };
        let sealed = self
            .cipher
            .encrypt(&XNonce::from(nonce), payload)
            .map_err(|_| CryptoError::SigningFailed("sealing a signing key failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(format!("{VERSION}{}", URL_SAFE_NO_PAD.encode(out)))
    }

    /// Opens a key sealed for `kid`.
    ///
    /// # Errors
    ///
    /// [`CryptoError::KeyUnsealFailed`] when `sealed` is malformed, was sealed with another
    /// key-encryption key, or for another key id.
    pub fn open(&self, kid: &str, sealed: &str) -> Result<SecretSlice<u8>, CryptoError> {
        let bytes = sealed
            .strip_prefix(VERSION)
            .and_then(|b64| URL_SAFE_NO_PAD.decode(b64).ok())
            .filter(|bytes| bytes.len() > NONCE_BYTES)
            .ok_or(CryptoError::KeyUnsealFailed)?;
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] =
            nonce.try_into().map_err(|_| CryptoError::KeyUnsealFailed)?;
        let payload = Payload {
            msg: ciphertext,
            aad: kid.as_bytes(),
        };
        let plain = self
            .cipher
            .decrypt(&XNonce::from(nonce), payload)
            .map_err(|_| CryptoError::KeyUnsealFailed)?;
        Ok(SecretSlice::from(plain))
    }
}

impl fmt::Debug for KeyEncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyEncryptionKey([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use secrecy::{ExposeSecret as _, SecretString};

    use super::KeyEncryptionKey;
    use crate::CryptoError;

    fn kek(secret: &str) -> KeyEncryptionKey {
        KeyEncryptionKey::new(&SecretString::from(secret)).unwrap()
    }

    #[test]
    fn a_sealed_key_opens_only_with_the_same_kek_and_kid() {
        let kek = kek("k".repeat(32).as_str());
        let sealed = kek.seal("a", b"secret bytes").unwrap();
        assert!(!sealed.contains("secret"));
        assert_ne!(
            sealed,
            kek.seal("a", b"secret bytes").unwrap(),
            "fresh nonce"
        );
        assert_eq!(
            kek.open("a", &sealed).unwrap().expose_secret(),
            b"secret bytes"
        );
        assert!(matches!(
            kek.open("b", &sealed),
            Err(CryptoError::KeyUnsealFailed)
        ));
        let other = self::kek("j".repeat(32).as_str());
        assert!(matches!(
            other.open("a", &sealed),
            Err(CryptoError::KeyUnsealFailed)
        ));
        for bad in ["", "v1.", "v2.AAAA", "v1.!!!"] {
            assert!(matches!(
                kek.open("a", bad),
                Err(CryptoError::KeyUnsealFailed)
            ));
        }
    }

    #[test]
    fn a_short_kek_is_refused_and_debug_hides_it() {
        assert!(KeyEncryptionKey::new(&SecretString::from("short")).is_err());
        assert_eq!(
            format!("{:?}", kek(&"x".repeat(40))),
            "KeyEncryptionKey([REDACTED])"
        );
    }
}
