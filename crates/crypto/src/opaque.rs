//! Opaque random secrets and the SHA-256 digest under which anything granting access is stored.

use std::fmt::Write as _;

use rand::rand_core::{Rng as _, UnwrapErr};
use rand::rngs::SysRng;
use sha2::{Digest as _, Sha256};

/// Bytes of randomness in a [`random_token`]: 256 bits.
const TOKEN_BYTES: usize = 32;

/// The URL-safe base64 alphabet of RFC 4648 §5.
const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The SHA-256 of `input` as 64 lowercase hex digits.
///
/// Store this, never the value itself, for anything that grants access (a refresh token's
/// `jti`, an opaque token): a leaked table then grants nothing.
///
/// ```
/// assert_eq!(
///     auth_crypto::sha256_hex("abc"),
///     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
/// );
/// ```
pub fn sha256_hex(input: &str) -> String {
    let digest = Sha256::digest(input.as_bytes());
    let mut hex = String::with_capacity(2 * digest.len());
    for byte in digest {
        // Writing into a `String` cannot fail.
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

/// A fresh random token: 256 bits from the operating system's RNG, base64url without padding
/// (43 characters).
///
/// ```
/// let token = auth_crypto::random_token();
/// assert_eq!(token.len(), 43);
/// assert_ne!(token, auth_crypto::random_token());
/// ```
///
/// # Panics
///
/// Panics if the operating system cannot provide randomness, which leaves no safe way to go on.
pub fn random_token() -> String {
    let mut bytes = [0u8; TOKEN_BYTES];
    UnwrapErr(SysRng).fill_bytes(&mut bytes);
    base64url(&bytes)
}

/// Encodes `bytes` as base64url without padding (RFC 4648 §5), as JWT segments are.
pub(crate) fn base64url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        // One input byte gives two characters, two give three, three give four.
        for i in 0..=chunk.len() {
            let index = (n >> (18 - 6 * i)) & 0x3f;
            out.push(char::from(BASE64URL[index as usize]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::{base64url, random_token, sha256_hex};

    #[test]
    fn sha256_hex_matches_the_published_test_vectors() {
        assert_eq!(
            sha256_hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
    }

    #[test]
    fn base64url_matches_rfc_4648_without_padding() {
        let vectors = [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(base64url(plain.as_bytes()), encoded, "{plain:?}");
        }
    }

    #[test]
    fn base64url_uses_the_url_safe_alphabet() {
        assert_eq!(base64url(&[0xfb, 0xff, 0xbf]), "-_-_");
    }

    #[test]
    fn random_tokens_are_43_url_safe_characters_and_never_repeat() {
        let tokens: HashSet<String> = (0..1000).map(|_| random_token()).collect();
        assert_eq!(tokens.len(), 1000);
        for token in &tokens {
            assert_eq!(token.len(), 43);
            assert!(
                token
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                "{token}"
            );
        }
    }
}
