//! Argon2 PHC strings: making argon2id hashes, and checking `$argon2id$` / `$argon2i$` ones
//! after refusing parameters that would cost too much.

use argon2::password_hash::phc::{Output, ParamsString, Salt};
use argon2::password_hash::try_generate_salt;
use argon2::{Algorithm, Argon2, Params, PasswordHash, Version};

use super::config::{Argon2Params, HashScheme, MAX_ARGON2_T_COST};
use super::memory::HashingMemory;
use super::{PasswordConfig, Verification};
use crate::CryptoError;

/// Hashes `password` with argon2id v19, a fresh 16-byte salt and `params`, in `memory` when it
/// is big enough.
pub(super) fn hash(
    params: Argon2Params,
    password: &[u8],
    memory: &mut HashingMemory,
) -> Result<String, CryptoError> {
    let params = params.to_argon2()?;
    let salt = try_generate_salt().map_err(|e| CryptoError::HashFailed(e.into()))?;
    let salt = Salt::new(&salt).map_err(|e| CryptoError::HashFailed(e.into()))?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    compute(&argon2, password, salt.as_ref(), &mut out, memory)
        .map_err(|e| CryptoError::HashFailed(e.into()))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| CryptoError::HashFailed(e.into()))?,
        salt: Some(salt),
        hash: Some(Output::new(&out).map_err(|e| CryptoError::HashFailed(e.into()))?),
    };
    Ok(phc.to_string())
}

/// Checks `password` against an argon2 PHC string, refusing hostile parameters first.
pub(super) fn verify(
    config: &PasswordConfig,
    password: &[u8],
    stored: &str,
    memory: &mut HashingMemory,
) -> Result<Verification, CryptoError> {
    let parsed = Stored::parse(stored, config.max_stored_m_cost_kib)?;
    let (Some(salt), Some(expected)) = (&parsed.hash.salt, &parsed.hash.hash) else {
        return Err(CryptoError::MalformedHash);
    };
    let argon2 = Argon2::new(parsed.algorithm, parsed.version, parsed.params.clone());
    let mut out = [0u8; Output::MAX_LENGTH];
    let out = &mut out[..expected.len()];
    compute(&argon2, password, salt.as_ref(), out, memory).map_err(|e| match e {
        argon2::Error::OutOfMemory => CryptoError::HashFailed(e.into()),
        _ => CryptoError::MalformedHash,
    })?;
    let computed = Output::new(out).map_err(|_| CryptoError::MalformedHash)?;
    // `Output` compares in constant time.
    if computed == *expected {
        Ok(Verification::Match {
            needs_rehash: parsed.needs_rehash(config),
        })
    } else {
        Ok(Verification::Mismatch)
    }
}

/// Runs `argon2` into `out`, in `memory` when it is big enough, else in a one-off allocation
/// (a stored hash with more memory than the configured parameters, within the cap).
fn compute(
    argon2: &Argon2<'_>,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
    memory: &mut HashingMemory,
) -> Result<(), argon2::Error> {
    let needed = argon2.params().block_count();
    if let Some(blocks) = memory.blocks(needed) {
        return argon2.hash_password_into_with_memory(password, salt, out, blocks);
    }
    let mut one_off = HashingMemory::with_blocks(needed);
    let blocks = one_off.blocks(needed).ok_or(argon2::Error::OutOfMemory)?;
    argon2.hash_password_into_with_memory(password, salt, out, blocks)
}

/// A parsed argon2 hash whose parameters are within limits.
struct Stored {
    hash: PasswordHash,
    algorithm: Algorithm,
    version: Version,
    params: argon2::Params,
}

impl Stored {
    fn parse(stored: &str, max_m_cost_kib: u32) -> Result<Self, CryptoError> {
        let hash = PasswordHash::new(stored).map_err(|_| CryptoError::MalformedHash)?;
        let Ok(algorithm @ (Algorithm::Argon2id | Algorithm::Argon2i)) =
            Algorithm::new(hash.algorithm.as_str())
        else {
            return Err(CryptoError::MalformedHash);
        };
        let version = hash.version.map_or(Ok(Version::V0x13), Version::try_from);
        let version = version.map_err(|_| CryptoError::MalformedHash)?;
        if hash.salt.is_none() || hash.hash.is_none() {
            return Err(CryptoError::MalformedHash);
        }
        let params = argon2::Params::try_from(&hash).map_err(|_| CryptoError::MalformedHash)?;
        if params.m_cost() > max_m_cost_kib || params.t_cost() > MAX_ARGON2_T_COST {
            tracing::warn!(
                m_cost_kib = params.m_cost(),
                t_cost = params.t_cost(),
                "refused a stored argon2 hash with parameters over the limits"
            );
            return Err(CryptoError::HostileHash);
        }
        Ok(Self {
            hash,
            algorithm,
            version,
            params,
        })
    }

    /// Whether a new hash under `config` would be stronger than this one.
    fn needs_rehash(&self, config: &PasswordConfig) -> bool {
        let wanted = config.argon2;
        config.scheme != HashScheme::Argon2id
            || self.algorithm != Algorithm::Argon2id
            || self.version != Version::V0x13
            || self.params.m_cost() < wanted.m_cost_kib
            || self.params.t_cost() < wanted.t_cost
            || self.params.p_cost() < wanted.p_cost
    }
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use crate::{
        CryptoError, HashScheme, PasswordConfig, PasswordForm, PasswordHasher, Verification,
    };

    /// `correct horse battery staple`, hashed by argon2-cffi with OWASP's parameters.
    const CFFI_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$NzW4LgYgMnzu4VwdMGG2zg$TOcfrW4R3iZOqFung+AqpqfZ3NNX3FT2Wr0yDwJsDJ4";
    const CFFI_PASSWORD: &str = "correct horse battery staple";

    fn secret(s: &str) -> SecretString {
        SecretString::from(s)
    }

    fn hasher(config: PasswordConfig) -> PasswordHasher {
        PasswordHasher::new(config).unwrap()
    }

    #[test]
    fn an_argon2_cffi_hash_verifies_without_rehash_under_the_default_config() {
        let result = hasher(PasswordConfig::default()).verify(
            &secret(CFFI_PASSWORD),
            CFFI_HASH,
            PasswordForm::Raw,
        );
        assert_eq!(
            result.unwrap(),
            Verification::Match {
                needs_rehash: false
            }
        );
    }

    #[test]
    fn an_argon2_cffi_hash_stronger_than_the_test_config_needs_no_rehash() {
        let result = hasher(PasswordConfig::for_tests()).verify(
            &secret(CFFI_PASSWORD),
            CFFI_HASH,
            PasswordForm::Raw,
        );
        assert_eq!(
            result.unwrap(),
            Verification::Match {
                needs_rehash: false
            }
        );
    }

    #[test]
    fn an_argon2_cffi_hash_needs_rehash_when_bcrypt_is_configured() {
        let config = PasswordConfig {
            scheme: HashScheme::Bcrypt,
            ..PasswordConfig::for_tests()
        };
        let result = hasher(config).verify(&secret(CFFI_PASSWORD), CFFI_HASH, PasswordForm::Raw);
        assert_eq!(result.unwrap(), Verification::Match { needs_rehash: true });
    }

    #[test]
    fn a_wrong_password_against_an_argon2_cffi_hash_is_a_mismatch() {
        let result = hasher(PasswordConfig::for_tests()).verify(
            &secret("Tr0ub4dor&3"),
            CFFI_HASH,
            PasswordForm::Raw,
        );
        assert_eq!(result.unwrap(), Verification::Mismatch);
    }

    #[test]
    fn hashes_weaker_than_configured_need_rehash_on_any_parameter() {
        let weak = hasher(PasswordConfig::for_tests());
        let password = secret("s3cret-enough");
        let stored = weak.hash(&password).unwrap();
        let mut strong_config = PasswordConfig::for_tests();
        for raise in 0..3 {
            let mut config = strong_config;
            match raise {
                0 => config.argon2.m_cost_kib = 16,
                1 => config.argon2.t_cost = 2,
                _ => {
                    config.argon2.p_cost = 2;
                    config.argon2.m_cost_kib = 16;
                }
            }
            let verdict = hasher(config)
                .verify(&password, stored.as_str(), PasswordForm::Normalized)
                .unwrap();
            assert_eq!(
                verdict,
                Verification::Match { needs_rehash: true },
                "{config:?}"
            );
        }
        strong_config.argon2.m_cost_kib = 8;
        let verdict = hasher(strong_config)
            .verify(&password, stored.as_str(), PasswordForm::Normalized)
            .unwrap();
        assert_eq!(
            verdict,
            Verification::Match {
                needs_rehash: false
            }
        );
    }

    #[test]
    fn an_argon2i_hash_verifies_and_needs_rehash() {
        // Same password and parameters as argon2-cffi would produce with type=I.
        let argon2i = argon2::Argon2::new(
            argon2::Algorithm::Argon2i,
            argon2::Version::V0x13,
            argon2::Params::new(8, 1, 1, None).unwrap(),
        );
        let stored = argon2::PasswordHasher::hash_password(&argon2i, b"legacy")
            .unwrap()
            .to_string();
        assert!(stored.starts_with("$argon2i$"), "{stored}");
        let hasher = hasher(PasswordConfig::for_tests());
        let verdict = hasher
            .verify(&secret("legacy"), &stored, PasswordForm::Normalized)
            .unwrap();
        assert_eq!(verdict, Verification::Match { needs_rehash: true });
        assert_eq!(
            hasher
                .verify(&secret("legacy!"), &stored, PasswordForm::Normalized)
                .unwrap(),
            Verification::Mismatch
        );
    }

    #[test]
    fn hostile_argon2_parameters_are_refused_before_any_hashing() {
        let hasher = hasher(PasswordConfig::for_tests());
        let started = std::time::Instant::now();
        for params in [
            "m=2000000,t=2,p=1",
            "m=19456,t=50,p=1",
            "m=4294967295,t=4294967295,p=1",
        ] {
            let stored = CFFI_HASH.replace("m=19456,t=2,p=1", params);
            let result = hasher.verify(&secret(CFFI_PASSWORD), &stored, PasswordForm::Raw);
            assert!(
                matches!(result, Err(CryptoError::HostileHash)),
                "{params}: {result:?}"
            );
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn malformed_or_unknown_argon2_strings_are_refused() {
        let hasher = hasher(PasswordConfig::for_tests());
        let cases = [
            CFFI_HASH.replace("argon2id", "argon2d"),
            CFFI_HASH.replace("v=19", "v=42"),
            CFFI_HASH.replace("m=19456,t=2,p=1", "m=19456,t=2,p=1,x=3"),
            CFFI_HASH.replace("m=19456", "m=7"),
            CFFI_HASH.replace("$NzW4LgYgMnzu4VwdMGG2zg", "$c2FsdA"),
            CFFI_HASH.replace("$TOcfrW4R3iZOqFung+AqpqfZ3NNX3FT2Wr0yDwJsDJ4", ""),
            "$argon2id$v=19$m=19456,t=2,p=1".to_owned(),
            "$argon2id$".to_owned(),
        ];
        for stored in cases {
            let result = hasher.verify(&secret(CFFI_PASSWORD), &stored, PasswordForm::Raw);
            assert!(
                matches!(result, Err(CryptoError::MalformedHash)),
                "{stored}: {result:?}"
            );
        }
    }

    #[test]
    fn passwords_sharing_their_first_72_bytes_never_verify_against_each_other_under_argon2id() {
        let argon2 = hasher(PasswordConfig::for_tests());
        let prefix = "p".repeat(72);
        let (first, second) = (format!("{prefix}1"), format!("{prefix}2"));
        let stored_first = argon2.hash(&secret(&first)).unwrap();
        let stored_second = argon2.hash(&secret(&second)).unwrap();
        assert!(
            !argon2
                .verify(
                    &secret(&first),
                    stored_second.as_str(),
                    PasswordForm::Normalized
                )
                .unwrap()
                .is_match()
        );
        assert!(
            !argon2
                .verify(
                    &secret(&second),
                    stored_first.as_str(),
                    PasswordForm::Normalized
                )
                .unwrap()
                .is_match()
        );
        assert!(
            argon2
                .verify(
                    &secret(&first),
                    stored_first.as_str(),
                    PasswordForm::Normalized
                )
                .unwrap()
                .is_match()
        );
    }
}
