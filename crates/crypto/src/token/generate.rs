//! New asymmetric signing keys: an Ed25519 or P-256 private key (PKCS#8) and its public JWK.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use p256::pkcs8::EncodePrivateKey as _;
use rand::rand_core::{Rng as _, UnwrapErr};
use rand::rngs::SysRng;
use secrecy::SecretSlice;
use serde_json::json;

use super::JwtAlgorithm;
use crate::CryptoError;

/// The PKCS#8 v1 prefix of an Ed25519 private key (RFC 8410); the 32-byte seed follows.
const PKCS8_ED25519: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// A freshly generated signing key. `Debug` shows the id and algorithm only.
pub struct GeneratedKey {
    /// The key id tokens will name.
    pub kid: String,
    /// `EdDSA` or `ES256`.
    pub algorithm: JwtAlgorithm,
    /// The public key as a JWK with `kid`, `alg` and `use: "sig"` (JSON).
    pub public_jwk: String,
    /// The private key, PKCS#8 DER.
    pub private_pkcs8: SecretSlice<u8>,
}

impl fmt::Debug for GeneratedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeneratedKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

/// Generates a key for `algorithm` with id `kid`, from the operating system's RNG.
///
/// ```
/// use auth_crypto::{JwtAlgorithm, generate_signing_key};
///
/// let key = generate_signing_key(JwtAlgorithm::EdDSA, "k1")?;
/// assert!(key.public_jwk.contains(r#""kid":"k1""#));
/// assert!(generate_signing_key(JwtAlgorithm::HS256, "k2").is_err());
/// # Ok::<(), auth_crypto::CryptoError>(())
/// ```
///
/// # Errors
///
/// [`CryptoError::InvalidConfig`] for an HMAC algorithm; [`CryptoError::SigningFailed`] if
/// encoding the key fails.
pub fn generate_signing_key(
    algorithm: JwtAlgorithm,
    kid: &str,
) -> Result<GeneratedKey, CryptoError> {
    let mut seed = [0u8; 32];
    let (mut jwk, der) = match algorithm {
        JwtAlgorithm::EdDSA => {
            UnwrapErr(SysRng).fill_bytes(&mut seed);
            let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
            let jwk = json!({
                "kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode(public.as_bytes()),
            });
            let mut der = PKCS8_ED25519.to_vec();
            der.extend_from_slice(&seed);
            (jwk, der)
        }
        JwtAlgorithm::ES256 => {
            let secret = loop {
                UnwrapErr(SysRng).fill_bytes(&mut seed);
                // Fails only for zero or values past the group order: astronomically rare.
                if let Ok(secret) = p256::SecretKey::from_slice(&seed) {
                    break secret;
                }
            };
            let point = secret.public_key().to_encoded_point(false);
            let (Some(x), Some(y)) = (point.x(), point.y()) else {
                return Err(CryptoError::SigningFailed("P-256 point at infinity".into()));
            };
            let jwk = json!({
                "kty": "EC", "crv": "P-256",
                "x": URL_SAFE_NO_PAD.encode(x), "y": URL_SAFE_NO_PAD.encode(y),
            });
            let der = secret
                .to_pkcs8_der()
                .map_err(|e| CryptoError::SigningFailed(e.to_string().into()))?
                .as_bytes()
                .to_vec();
            (jwk, der)
        }
        JwtAlgorithm::HS256 | JwtAlgorithm::HS384 | JwtAlgorithm::HS512 => {
            return Err(CryptoError::InvalidConfig(format!(
                "{algorithm} keys are secrets, not generated key pairs"
            )));
        }
    };
    seed.fill(0);
    jwk["use"] = "sig".into();
    jwk["alg"] = algorithm.as_str().into();
    jwk["kid"] = kid.into();
    Ok(GeneratedKey {
        kid: kid.to_owned(),
        algorithm,
        public_jwk: jwk.to_string(),
        private_pkcs8: SecretSlice::from(der),
    })
}
