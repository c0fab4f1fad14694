//! The keys a codec signs and verifies with, swapped as a whole when the key set changes.
//!
//! With HMAC, the current secret signs and the previous ones still verify, each named by a
//! `kid` derived from the secret. With EdDSA or ES256, every published key verifies and the
//! newest key whose activation time has come signs, so replicas switch keys at the same
//! moment without talking to each other.

use std::fmt;

use auth_verifier::jwk::Jwk;
use auth_verifier::{KeySet, VerificationKey};
use jsonwebtoken::EncodingKey;
use secrecy::{ExposeSecret as _, SecretSlice, SecretString};
use time::OffsetDateTime;

use super::{JwtAlgorithm, JwtConfig};
use crate::{CryptoError, sha256_hex};

/// A published key: its public JWK, when it starts signing, and its private key if it may
/// still sign. `Debug` leaves out the private key.
pub struct KeyringEntry {
    /// Key id.
    pub kid: String,
    /// The public key as a JWK (JSON) with `kid`, `alg` and `use`.
    pub public_jwk: String,
    /// When it starts signing.
    pub activates_at: OffsetDateTime,
    /// The private key (PKCS#8 DER); `None` for a key that only verifies.
    pub private_pkcs8: Option<SecretSlice<u8>>,
}

impl fmt::Debug for KeyringEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyringEntry")
            .field("kid", &self.kid)
            .field("activates_at", &self.activates_at)
            .field("signs", &self.private_pkcs8.is_some())
            .finish_non_exhaustive()
    }
}

/// The signing keys and the verification key set of a [`TokenCodec`](crate::TokenCodec).
#[derive(Clone)]
pub struct Keyring {
    algorithm: JwtAlgorithm,
    /// Oldest activation first.
    signers: Vec<Signer>,
    keys: KeySet,
    jwks: String,
}

#[derive(Clone)]
struct Signer {
    kid: String,
    activates_at: OffsetDateTime,
    key: EncodingKey,
}

impl Keyring {
    /// The keyring of published asymmetric keys: all verify, those with a private key sign
    /// from their activation time, and their public keys make the JWKS.
    ///
    /// # Errors
    ///
    /// [`CryptoError::InvalidConfig`] when a key is not of `algorithm` or its JWK is unusable.
    pub fn published(
        algorithm: JwtAlgorithm,
        entries: Vec<KeyringEntry>,
    ) -> Result<Self, CryptoError> {
        let mut signers = Vec::new();
        let mut keys = Vec::new();
        let mut jwks = Vec::new();
        for entry in entries {
            let bad =
                |why: &str| CryptoError::InvalidConfig(format!("signing key {}: {why}", entry.kid));
            let jwk: Jwk = serde_json::from_str(&entry.public_jwk).map_err(|_| bad("bad JWK"))?;
            let key = VerificationKey::from_jwk(&jwk).map_err(|e| bad(&e.to_string()))?;
            if key.algorithm() != algorithm.to_verifier() || key.kid() != Some(&entry.kid) {
                return Err(bad("JWK does not match its algorithm or id"));
            }
            if let Some(private) = &entry.private_pkcs8 {
                let der = private.expose_secret();
                let key = match algorithm {
                    JwtAlgorithm::EdDSA => EncodingKey::from_ed_der(der),
                    _ => EncodingKey::from_ec_der(der),
                };
                signers.push(Signer {
                    kid: entry.kid.clone(),
                    activates_at: entry.activates_at,
                    key,
                });
            }
            keys.push(key);
            jwks.push(
                serde_json::from_str::<serde_json::Value>(&entry.public_jwk)
                    .map_err(|_| bad("bad JWK"))?,
            );
        }
        signers.sort_by_key(|signer| signer.activates_at);
        Ok(Self {
            algorithm,
            signers,
            keys: KeySet::new(keys),
            jwks: serde_json::json!({ "keys": jwks }).to_string(),
        })
    }

    /// The HMAC keyring of `config`: the current secret signs; it and the previous ones
    /// verify. Publishes nothing.
    pub(crate) fn hmac(config: &JwtConfig) -> Result<Self, CryptoError> {
        let algorithm = config.algorithm.to_verifier();
        let verification = |secret: &SecretString| {
            VerificationKey::hmac(
                algorithm,
                secret.expose_secret().as_bytes(),
                Some(hmac_kid(secret)),
            )
            .map_err(|e| CryptoError::InvalidConfig(e.to_string()))
        };
        let keys = std::iter::once(&config.secret)
            .chain(&config.previous_secrets)
            .map(verification)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            algorithm: config.algorithm,
            signers: vec![Signer {
                kid: hmac_kid(&config.secret),
                activates_at: OffsetDateTime::UNIX_EPOCH,
                key: EncodingKey::from_secret(config.secret.expose_secret().as_bytes()),
            }],
            keys: KeySet::new(keys),
            jwks: r#"{"keys":[]}"#.to_owned(),
        })
    }

    /// A keyring that signs nothing and verifies nothing, until keys are installed.
    pub(crate) fn empty(algorithm: JwtAlgorithm) -> Self {
        Self {
            algorithm,
            signers: Vec::new(),
            keys: KeySet::default(),
            jwks: r#"{"keys":[]}"#.to_owned(),
        }
    }

    /// The algorithm of every key here.
    pub fn algorithm(&self) -> JwtAlgorithm {
        self.algorithm
    }

    /// The public keys as a JWKS document (RFC 7517); no keys with HMAC.
    pub fn jwks(&self) -> &str {
        &self.jwks
    }

    /// The ids of the keys that verify.
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.keys.kids()
    }

    /// The id of the key that signs at `now`, if one does.
    pub fn signing_kid(&self, now: OffsetDateTime) -> Option<&str> {
        self.signer_at(now).map(|(kid, _)| kid)
    }

    /// The newest key whose activation time has come.
    pub(crate) fn signer_at(&self, now: OffsetDateTime) -> Option<(&str, &EncodingKey)> {
        self.signers
            .iter()
            .rev()
            .find(|signer| signer.activates_at <= now)
            .map(|signer| (signer.kid.as_str(), &signer.key))
    }

    /// The verification keys.
    pub(crate) fn keys(&self) -> &KeySet {
        &self.keys
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("algorithm", &self.algorithm)
            .field("kids", &self.kids().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// The `kid` of an HMAC secret: 64 bits of a SHA-256 of it, naming its version without
/// revealing it.
pub fn hmac_kid(secret: &SecretString) -> String {
    let digest = sha256_hex(&format!("jwt-hmac-kid:{}", secret.expose_secret()));
    format!("hs-{}", &digest[..16])
}
