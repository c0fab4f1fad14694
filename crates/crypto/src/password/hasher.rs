//! The password hasher services hold: hashes with the configured scheme, verifies either.

use std::sync::Arc;

use secrecy::{ExposeSecret as _, SecretString};

use super::{
    HashScheme, HashedPassword, HashingMemory, PasswordConfig, PasswordForm, Verification, argon,
    legacy_bcrypt, normalize_password,
};
use crate::{CryptoError, random_token};

/// Hashes new passwords with the configured scheme and verifies stored argon2 and bcrypt hashes.
///
/// It is CPU-bound and synchronous: async callers should run it on a blocking thread. Clones are
/// cheap and share the precomputed dummy hash.
///
/// [`hash`](Self::hash), [`verify`](Self::verify) and [`dummy_verify`](Self::dummy_verify)
/// allocate the Argon2 memory of each call; a thread that hashes over and over should own a
/// [`HashingMemory`] and call the `_in` variants, which reuse it.
///
/// ```
/// use auth_crypto::{PasswordConfig, PasswordForm, PasswordHasher, Verification};
/// use secrecy::SecretString;
///
/// let hasher = PasswordHasher::new(PasswordConfig::for_tests())?;
/// let password = SecretString::from("correct horse battery staple");
/// let stored = hasher.hash(&password)?;
/// assert!(stored.as_str().starts_with("$argon2id$"));
/// assert_eq!(
///     hasher.verify(&password, stored.as_str(), PasswordForm::Normalized)?,
///     Verification::Match { needs_rehash: false },
/// );
/// assert_eq!(
///     hasher.verify(&SecretString::from("wrong"), stored.as_str(), PasswordForm::Normalized)?,
///     Verification::Mismatch,
/// );
/// # Ok::<(), auth_crypto::CryptoError>(())
/// ```
#[derive(Clone, Debug)]
pub struct PasswordHasher {
    config: PasswordConfig,
    /// A hash of a random throwaway password under `config`, for [`Self::dummy_verify`].
    dummy: Arc<HashedPassword>,
}

impl PasswordHasher {
    /// Checks `config` and precomputes the dummy hash used by [`dummy_verify`](Self::dummy_verify)
    /// (one hash's worth of work).
    ///
    /// # Errors
    ///
    /// - [`CryptoError::InvalidConfig`] when a parameter is out of range (see
    ///   [`Argon2Params`](crate::Argon2Params) and [`PasswordConfig::bcrypt_cost`]).
    /// - [`CryptoError::HashFailed`] when the dummy hash cannot be made.
    pub fn new(config: PasswordConfig) -> Result<Self, CryptoError> {
        config.validate()?;
        let mut memory = HashingMemory::for_config(&config);
        let dummy = hash_with(&config, random_token().as_bytes(), &mut memory)?;
        Ok(Self {
            config,
            dummy: Arc::new(dummy),
        })
    }

    /// Hashes the NFKC form of `password` ([`normalize_password`]) with the configured scheme
    /// and a fresh salt: every hash it makes is verified with [`PasswordForm::Normalized`].
    ///
    /// # Errors
    ///
    /// - [`CryptoError::PasswordTooLong`] with bcrypt when `password` is over 72 bytes.
    /// - [`CryptoError::HashFailed`] when the backend fails.
    pub fn hash(&self, password: &SecretString) -> Result<HashedPassword, CryptoError> {
        self.hash_in(password, &mut self.memory())
    }

    /// [`hash`](Self::hash) in `memory` instead of a fresh allocation.
    ///
    /// # Errors
    ///
    /// As [`hash`](Self::hash).
    #[tracing::instrument(name = "crypto.hash", level = "debug", skip_all, fields(scheme = %self.config.scheme))]
    pub fn hash_in(
        &self,
        password: &SecretString,
        memory: &mut HashingMemory,
    ) -> Result<HashedPassword, CryptoError> {
        let normalized = normalize_password(password);
        hash_with(&self.config, normalized.expose_secret().as_bytes(), memory)
    }

    /// Checks `password` against a stored hash of any accepted scheme, made from the `form` of
    /// the password given: [`PasswordForm::Normalized`] for hashes made by [`hash`](Self::hash),
    /// [`PasswordForm::Raw`] for hashes made from the bytes as typed (older ones, the Python
    /// service's). The NFKC form is computed either way, so both forms cost the same.
    ///
    /// Accepts argon2 PHC strings (`$argon2id$`, `$argon2i$`) and bcrypt strings (`$2a$`, `$2b$`,
    /// `$2y$`). A wrong password is `Ok(Verification::Mismatch)`, as is any password over 72
    /// bytes against a bcrypt hash. `needs_rehash` is set when the stored hash uses another
    /// scheme, argon2i, or weaker parameters than configured.
    ///
    /// # Errors
    ///
    /// - [`CryptoError::HostileHash`] when the stored parameters exceed the limits (argon2 memory
    ///   over [`PasswordConfig::max_stored_m_cost_kib`] or more than 20 passes, bcrypt cost over
    ///   16); no hashing is done.
    /// - [`CryptoError::MalformedHash`] when `stored` cannot be parsed or has an unknown scheme.
    /// - [`CryptoError::HashFailed`] when the backend fails.
    pub fn verify(
        &self,
        password: &SecretString,
        stored: &str,
        form: PasswordForm,
    ) -> Result<Verification, CryptoError> {
        self.verify_in(password, stored, form, &mut self.memory())
    }

    /// [`verify`](Self::verify) in `memory` instead of a fresh allocation. A stored argon2
    /// hash that needs more memory than `memory` holds (but no more than the cap) is verified
    /// in a one-off allocation.
    ///
    /// # Errors
    ///
    /// As [`verify`](Self::verify).
    #[tracing::instrument(name = "crypto.verify", level = "debug", skip_all)]
    pub fn verify_in(
        &self,
        password: &SecretString,
        stored: &str,
        form: PasswordForm,
        memory: &mut HashingMemory,
    ) -> Result<Verification, CryptoError> {
        let normalized = normalize_password(password);
        let password = match form {
            PasswordForm::Normalized => normalized.expose_secret().as_bytes(),
            PasswordForm::Raw => password.expose_secret().as_bytes(),
        };
        if stored.starts_with("$argon2") {
            argon::verify(&self.config, password, stored, memory)
        } else if legacy_bcrypt::is_bcrypt(stored) {
            legacy_bcrypt::verify(&self.config, password, stored)
        } else {
            Err(CryptoError::MalformedHash)
        }
    }

    /// Does the work of a real [`verify`](Self::verify) under the current configuration
    /// (normalisation included) and discards the result.
    ///
    /// Call it when the user is unknown or inactive, so that such an answer takes as long as a
    /// wrong password and response times do not reveal which accounts exist.
    pub fn dummy_verify(&self, password: &SecretString) {
        self.dummy_verify_in(password, &mut self.memory());
    }

    /// [`dummy_verify`](Self::dummy_verify) in `memory` instead of a fresh allocation.
    pub fn dummy_verify_in(&self, password: &SecretString, memory: &mut HashingMemory) {
        let verdict = self.verify_in(
            password,
            self.dummy.as_str(),
            PasswordForm::Normalized,
            memory,
        );
        let _ = std::hint::black_box(verdict);
    }

    /// The configuration new hashes are made with.
    pub fn config(&self) -> &PasswordConfig {
        &self.config
    }

    /// Fresh memory for one call of the allocating methods. bcrypt needs none.
    fn memory(&self) -> HashingMemory {
        match self.config.scheme {
            HashScheme::Argon2id => HashingMemory::for_config(&self.config),
            HashScheme::Bcrypt => HashingMemory::with_blocks(0),
        }
    }
}

fn hash_with(
    config: &PasswordConfig,
    password: &[u8],
    memory: &mut HashingMemory,
) -> Result<HashedPassword, CryptoError> {
    let hash = match config.scheme {
        HashScheme::Argon2id => argon::hash(config.argon2, password, memory)?,
        HashScheme::Bcrypt => legacy_bcrypt::hash(config.bcrypt_cost, password)?,
    };
    Ok(HashedPassword::new(hash))
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::PasswordHasher;
    use crate::{CryptoError, HashScheme, PasswordConfig, PasswordForm, Verification};

    fn secret(s: &str) -> SecretString {
        SecretString::from(s)
    }

    fn both_schemes() -> [PasswordHasher; 2] {
        let argon2 = PasswordConfig::for_tests();
        let bcrypt = PasswordConfig {
            scheme: HashScheme::Bcrypt,
            ..argon2
        };
        [
            PasswordHasher::new(argon2).unwrap(),
            PasswordHasher::new(bcrypt).unwrap(),
        ]
    }

    #[test]
    fn hashing_the_same_password_twice_gives_different_hashes() {
        for hasher in both_schemes() {
            let password = secret("same password");
            assert_ne!(
                hasher.hash(&password).unwrap(),
                hasher.hash(&password).unwrap()
            );
        }
    }

    #[test]
    fn a_valid_password_verifies_without_rehash() {
        for hasher in both_schemes() {
            let stored = hasher.hash(&secret("valid password")).unwrap();
            let verdict = hasher
                .verify(
                    &secret("valid password"),
                    stored.as_str(),
                    PasswordForm::Normalized,
                )
                .unwrap();
            assert_eq!(
                verdict,
                Verification::Match {
                    needs_rehash: false
                }
            );
        }
    }

    #[test]
    fn an_invalid_password_is_a_mismatch_not_an_error() {
        for hasher in both_schemes() {
            let stored = hasher.hash(&secret("valid password")).unwrap();
            for wrong in ["invalid password", "Valid password", "valid password ", ""] {
                let verdict = hasher
                    .verify(&secret(wrong), stored.as_str(), PasswordForm::Normalized)
                    .unwrap();
                assert_eq!(verdict, Verification::Mismatch, "{wrong:?}");
            }
        }
    }

    #[test]
    fn the_hash_never_equals_or_contains_the_plain_password() {
        for hasher in both_schemes() {
            let stored = hasher.hash(&secret("plain-text-password")).unwrap();
            assert_ne!(stored.as_str(), "plain-text-password");
            assert!(!stored.as_str().contains("plain-text-password"));
        }
    }

    #[test]
    fn a_128_character_password_is_handled_by_argon2id() {
        let [argon2, _] = both_schemes();
        let long = "Long-password-0123456789".repeat(6)[..128].to_owned();
        let stored = argon2.hash(&secret(&long)).unwrap();
        assert!(
            argon2
                .verify(&secret(&long), stored.as_str(), PasswordForm::Normalized)
                .unwrap()
                .is_match()
        );
        let other = format!("{}X", &long[..127]);
        assert!(
            !argon2
                .verify(&secret(&other), stored.as_str(), PasswordForm::Normalized)
                .unwrap()
                .is_match()
        );
    }

    #[test]
    fn special_characters_are_handled() {
        for hasher in both_schemes() {
            for password in [
                "Pässwörd-ü€🙂",
                "' OR 1=1; --",
                "tab\there\nnewline",
                "\u{0}nul",
                "  ",
            ] {
                let stored = hasher.hash(&secret(password)).unwrap();
                let verdict = hasher
                    .verify(&secret(password), stored.as_str(), PasswordForm::Normalized)
                    .unwrap();
                assert!(verdict.is_match(), "{password:?}");
            }
        }
    }

    #[test]
    fn a_hash_of_the_composed_form_verifies_the_decomposed_form() {
        for hasher in both_schemes() {
            let stored = hasher.hash(&secret("caf\u{e9}-cr\u{e8}me")).unwrap();
            let verdict = hasher
                .verify(
                    &secret("cafe\u{301}-cre\u{300}me"),
                    stored.as_str(),
                    PasswordForm::Normalized,
                )
                .unwrap();
            assert!(verdict.is_match());
        }
    }

    #[test]
    fn a_raw_hash_verifies_only_the_bytes_it_was_made_from() {
        let decomposed = "cafe\u{301}-cre\u{300}me";
        let stored = bcrypt::hash(decomposed, 4).unwrap();
        for hasher in both_schemes() {
            let raw = hasher.verify(&secret(decomposed), &stored, PasswordForm::Raw);
            assert!(raw.unwrap().is_match());
            let normalized = hasher.verify(&secret(decomposed), &stored, PasswordForm::Normalized);
            assert_eq!(normalized.unwrap(), Verification::Mismatch);
        }
    }

    #[test]
    fn garbage_and_empty_stored_hashes_are_malformed() {
        let [argon2, _] = both_schemes();
        for stored in [
            "",
            "plain-text-password",
            "$argon2",
            "$1$saltsalt$hash",
            "$2b",
            "$scrypt$ln=16$",
        ] {
            let result = argon2.verify(&secret("anything"), stored, PasswordForm::Normalized);
            assert!(
                matches!(result, Err(CryptoError::MalformedHash)),
                "{stored:?}: {result:?}"
            );
        }
    }

    #[test]
    fn dummy_verify_runs_with_the_configured_scheme() {
        for hasher in both_schemes() {
            let expected = match hasher.config().scheme {
                HashScheme::Argon2id => "$argon2id$v=19$m=8,t=1,p=1$",
                HashScheme::Bcrypt => "$2b$04$",
            };
            assert!(
                hasher.dummy.as_str().starts_with(expected),
                "{:?}",
                hasher.config()
            );
            hasher.dummy_verify(&secret("whatever the client sent"));
            assert!(hasher.clone().dummy.as_str().starts_with(expected));
        }
    }

    #[test]
    fn an_invalid_config_is_refused_at_construction() {
        let config = PasswordConfig {
            bcrypt_cost: 31,
            ..PasswordConfig::for_tests()
        };
        assert!(matches!(
            PasswordHasher::new(config),
            Err(CryptoError::InvalidConfig(_))
        ));
    }

    #[test]
    fn the_hasher_is_send_sync_and_keeps_its_config() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<PasswordHasher>();
        let [argon2, _] = both_schemes();
        assert_eq!(*argon2.config(), PasswordConfig::for_tests());
    }
}
