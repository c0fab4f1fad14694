//! Verification keys and key sets: an HMAC secret, or public keys from a JWKS document.
//!
//! Each key carries its algorithm. A token is checked with the key its `kid` names, and only
//! if its header names that key's algorithm: the header alone never chooses how a token is
//! verified, so a public key cannot be abused as an HMAC secret.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, PublicKeyUse};

use crate::{Algorithm, KeyError};

/// The size in bytes of an Ed25519 public key and of a P-256 coordinate.
const KEY_PART_BYTES: usize = 32;

/// Checks that the JWK member `name` is base64url of exactly [`KEY_PART_BYTES`] bytes:
/// jsonwebtoken slices key material without checking its length, and would panic on a
/// shorter key while verifying a token.
fn key_part(value: &str, name: &str) -> Result<(), KeyError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(value)
        .or_else(|_| URL_SAFE.decode(value))
        .map_err(|_| KeyError::Invalid(format!("{name} is not base64url")))?;
    if bytes.len() == KEY_PART_BYTES {
        Ok(())
    } else {
        Err(KeyError::Invalid(format!(
            "{name} is {} bytes, not {KEY_PART_BYTES}",
            bytes.len()
        )))
    }
}

/// The shortest HMAC secret accepted, in bytes (256 bits).
pub const MIN_HMAC_BYTES: usize = 32;

/// One key a token may be verified with: its id, its algorithm and the key material.
///
/// `Debug` shows the id and algorithm, never the key.
#[derive(Clone)]
pub struct VerificationKey {
    kid: Option<String>,
    algorithm: Algorithm,
    key: DecodingKey,
}

impl VerificationKey {
    /// An HMAC secret for `algorithm` (HS256, HS384 or HS512). A key without `kid` verifies
    /// tokens naming any key id; with one, only tokens naming it.
    ///
    /// ```
    /// use auth_verifier::{Algorithm, VerificationKey};
    ///
    /// let key = VerificationKey::hmac(Algorithm::HS256, &[7; 32], None)?;
    /// assert_eq!(key.algorithm(), Algorithm::HS256);
    /// assert!(VerificationKey::hmac(Algorithm::EdDSA, &[7; 32], None).is_err());
    /// # Ok::<(), auth_verifier::KeyError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`KeyError::Invalid`] for an asymmetric algorithm, or a secret shorter than 32 bytes
    /// (RFC 7518 asks for the hash size: 48 bytes for HS384, 64 for HS512).
    pub fn hmac(
        algorithm: Algorithm,
        secret: &[u8],
        kid: Option<String>,
    ) -> Result<Self, KeyError> {
        if algorithm.is_asymmetric() {
            return Err(KeyError::Invalid(format!(
                "{algorithm} is not an HMAC algorithm"
            )));
        }
        let min = MIN_HMAC_BYTES;
        if secret.len() < min {
            return Err(KeyError::Invalid(format!(
                "an {algorithm} secret must be at least {min} bytes, got {}",
                secret.len()
            )));
        }
        Ok(Self {
            kid,
            algorithm,
            key: DecodingKey::from_secret(secret),
        })
    }

    /// A public key from a JWK: Ed25519 (`kty` OKP) for EdDSA or P-256 (`kty` EC) for ES256.
    ///
    /// The algorithm is the JWK's `alg`, which must agree with the key type; when `alg` is
    /// absent it follows from the curve. Symmetric (`oct`) keys and keys whose `use` is not
    /// `sig` are refused: a published key set has no business holding either.
    ///
    /// # Errors
    ///
    /// [`KeyError::Invalid`] for an unsupported or inconsistent key.
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, KeyError> {
        if let Some(usage) = &jwk.common.public_key_use
            && *usage != PublicKeyUse::Signature
        {
            return Err(KeyError::Invalid("key is not for signatures".into()));
        }
        let algorithm = match &jwk.algorithm {
            AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
                key_part(&p.x, "x")?;
                Algorithm::EdDSA
            }
            AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => {
                key_part(&p.x, "x")?;
                key_part(&p.y, "y")?;
                Algorithm::ES256
            }
            AlgorithmParameters::OctetKey(_) => {
                return Err(KeyError::Invalid(
                    "symmetric keys are not taken from a key set".into(),
                ));
            }
            _ => return Err(KeyError::Invalid("unsupported key type or curve".into())),
        };
        if let Some(alg) = jwk.common.key_algorithm
            && alg.to_string() != algorithm.as_str()
        {
            return Err(KeyError::Invalid(format!(
                "alg {alg} does not match a {algorithm} key"
            )));
        }
        let key = DecodingKey::from_jwk(jwk)
            .map_err(|_| KeyError::Invalid("malformed key parameters".into()))?;
        Ok(Self {
            kid: jwk.common.key_id.clone(),
            algorithm,
            key,
        })
    }

    /// The key id tokens name in their `kid` header, if the key has one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The only algorithm this key verifies.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    pub(crate) fn decoding_key(&self) -> &DecodingKey {
        &self.key
    }
}

impl fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerificationKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

/// The keys tokens may be verified with.
///
/// A token naming a `kid` is checked with the key of that id, or else with a key that has
/// no id; a token without `kid` is checked with the first key.
///
/// ```
/// use auth_verifier::KeySet;
///
/// let jwks = r#"{"keys":[{"kty":"OKP","crv":"Ed25519","use":"sig","alg":"EdDSA","kid":"k1",
///     "x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;
/// let keys = KeySet::from_jwks(jwks)?;
/// assert_eq!(keys.kids().collect::<Vec<_>>(), ["k1"]);
/// assert!(keys.find(Some("k2")).is_none());
/// # Ok::<(), auth_verifier::KeyError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: Vec<VerificationKey>,
}

impl KeySet {
    /// A key set of `keys`, the first being the one for tokens without `kid`.
    pub fn new(keys: Vec<VerificationKey>) -> Self {
        Self { keys }
    }

    /// The usable keys of a JWKS document (RFC 7517). Keys this crate cannot use (RSA,
    /// encryption keys, other curves) are skipped, so a set shared with other algorithms
    /// still works.
    ///
    /// # Errors
    ///
    /// [`KeyError::NotJwks`] when the text is not a JWKS document.
    pub fn from_jwks(json: &str) -> Result<Self, KeyError> {
        let set: JwkSet = serde_json::from_str(json).map_err(|_| KeyError::NotJwks)?;
        Ok(Self::from_jwk_set(&set))
    }

    /// The usable keys of a parsed JWKS, skipping the others as [`from_jwks`](Self::from_jwks).
    pub fn from_jwk_set(set: &JwkSet) -> Self {
        Self::new(
            set.keys
                .iter()
                .filter_map(|jwk| VerificationKey::from_jwk(jwk).ok())
                .collect(),
        )
    }

    /// The key a token naming `kid` is checked with.
    pub fn find(&self, kid: Option<&str>) -> Option<&VerificationKey> {
        match kid {
            Some(kid) => self
                .keys
                .iter()
                .find(|key| key.kid() == Some(kid))
                .or_else(|| self.keys.iter().find(|key| key.kid.is_none())),
            None => self.keys.first(),
        }
    }

    /// Whether a token naming `kid` has a key here.
    pub fn contains(&self, kid: Option<&str>) -> bool {
        self.find(kid).is_some()
    }

    /// The ids of the keys that have one.
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().filter_map(VerificationKey::kid)
    }

    /// How many keys the set holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set holds no key (then every token is refused).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}
