//! bcrypt, for hashes shared with the Python service: `$2a$`, `$2b$` and `$2y$` strings.
//!
//! bcrypt only reads the first 72 bytes of a password. Rather than let two passwords sharing
//! those bytes match each other, longer passwords are refused when hashing and never match
//! when verifying. The bcrypt crate's `non_truncating_*` functions also refuse passwords of
//! exactly 72 bytes, which bcrypt (and the Python service) hash without loss, so the length is
//! checked here and the plain functions are only called with at most 72 bytes.

use super::config::{HashScheme, MAX_BCRYPT_COST, MIN_BCRYPT_COST};
use super::{PasswordConfig, Verification};
use crate::CryptoError;

/// The longest password bcrypt hashes without truncating it, in bytes.
pub(super) const MAX_PASSWORD_BYTES: usize = 72;

/// Length of every bcrypt string: `$2b$` + two cost digits + `$` + 53 characters.
const HASH_LEN: usize = 60;

/// Hashes `password` as `$2b$` with `cost` and a fresh salt.
pub(super) fn hash(cost: u32, password: &[u8]) -> Result<String, CryptoError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(CryptoError::PasswordTooLong {
            max_bytes: MAX_PASSWORD_BYTES,
        });
    }
    bcrypt::hash(password, cost).map_err(|e| CryptoError::HashFailed(e.into()))
}

/// Checks `password` against a bcrypt string, refusing costs over the limit first.
///
/// A password over 72 bytes never matches, but its first 72 bytes are still run through
/// bcrypt so that the answer takes as long as for any other wrong password.
pub(super) fn verify(
    config: &PasswordConfig,
    password: &[u8],
    stored: &str,
) -> Result<Verification, CryptoError> {
    let cost = parse_cost(stored)?;
    let too_long = password.len() > MAX_PASSWORD_BYTES;
    let checked = &password[..password.len().min(MAX_PASSWORD_BYTES)];
    match bcrypt::verify(checked, stored) {
        Ok(true) if !too_long => Ok(Verification::Match {
            needs_rehash: config.scheme != HashScheme::Bcrypt || cost < config.bcrypt_cost,
        }),
        Ok(_) => Ok(Verification::Mismatch),
        Err(_) => Err(CryptoError::MalformedHash),
    }
}

/// Whether `stored` claims to be a bcrypt string of an accepted version.
pub(super) fn is_bcrypt(stored: &str) -> bool {
    ["$2a$", "$2b$", "$2y$"]
        .iter()
        .any(|prefix| stored.starts_with(prefix))
}

/// The cost of a well-formed bcrypt string, or why it is refused.
fn parse_cost(stored: &str) -> Result<u32, CryptoError> {
    let bytes = stored.as_bytes();
    let well_formed = is_bcrypt(stored)
        && bytes.len() == HASH_LEN
        && bytes[4..6].iter().all(u8::is_ascii_digit)
        && bytes[6] == b'$'
        && bytes[7..]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'.' || *b == b'/');
    if !well_formed {
        return Err(CryptoError::MalformedHash);
    }
    let cost = u32::from(bytes[4] - b'0') * 10 + u32::from(bytes[5] - b'0');
    if cost < MIN_BCRYPT_COST {
        return Err(CryptoError::MalformedHash);
    }
    if cost > MAX_BCRYPT_COST {
        tracing::warn!(
            cost,
            "refused a stored bcrypt hash with a cost over the limit"
        );
        return Err(CryptoError::HostileHash);
    }
    Ok(cost)
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use crate::{
        CryptoError, HashScheme, PasswordConfig, PasswordForm, PasswordHasher, Verification,
    };

    /// Hashes made by the Python service (passlib / pyca bcrypt), cost 12.
    const FIXTURES: [(&str, &str); 3] = [
        (
            "correct horse battery staple",
            "$2b$12$Yj7Pgxu2MJ.s.KBG9cNY4.zpBTzbdaSH2gkVKriR7YjAG69JJtFai",
        ),
        (
            "Pässwörd-ü€🙂",
            "$2b$12$Y/Cm9pELSxV.VO/IgKSArunsbj6dCTHOWvMXMkybyk0pR/Rm8razO",
        ),
        (
            "password123",
            "$2a$12$n6B00ruFLCTuZx7ITVOJcOIZ98Rpa4krlDmno2s20Xba9maC3H7Ju",
        ),
    ];

    fn secret(s: &str) -> SecretString {
        SecretString::from(s)
    }

    fn bcrypt_config(cost: u32) -> PasswordConfig {
        PasswordConfig {
            scheme: HashScheme::Bcrypt,
            bcrypt_cost: cost,
            ..PasswordConfig::for_tests()
        }
    }

    #[test]
    fn python_bcrypt_hashes_verify_and_need_rehash_under_argon2id() {
        let hasher = PasswordHasher::new(PasswordConfig::for_tests()).unwrap();
        for (password, stored) in FIXTURES {
            let verdict = hasher
                .verify(&secret(password), stored, PasswordForm::Raw)
                .unwrap();
            assert_eq!(
                verdict,
                Verification::Match { needs_rehash: true },
                "{password}"
            );
        }
    }

    #[test]
    fn a_wrong_password_against_python_bcrypt_hashes_is_a_mismatch() {
        let hasher = PasswordHasher::new(PasswordConfig::for_tests()).unwrap();
        for (password, stored) in FIXTURES {
            let wrong = format!("{password}!");
            assert_eq!(
                hasher
                    .verify(&secret(&wrong), stored, PasswordForm::Raw)
                    .unwrap(),
                Verification::Mismatch
            );
        }
    }

    #[test]
    fn bcrypt_rehash_depends_on_the_configured_cost() {
        let (password, stored) = FIXTURES[2];
        let same = PasswordHasher::new(bcrypt_config(12)).unwrap();
        let verdict = same
            .verify(&secret(password), stored, PasswordForm::Raw)
            .unwrap();
        assert_eq!(
            verdict,
            Verification::Match {
                needs_rehash: false
            }
        );
        let stronger = PasswordHasher::new(bcrypt_config(13)).unwrap();
        let verdict = stronger
            .verify(&secret(password), stored, PasswordForm::Raw)
            .unwrap();
        assert_eq!(verdict, Verification::Match { needs_rehash: true });
    }

    #[test]
    fn a_2y_hash_verifies() {
        let hasher = PasswordHasher::new(bcrypt_config(4)).unwrap();
        let stored = hasher
            .hash(&secret("php-era"))
            .unwrap()
            .into_string()
            .replacen("$2b$", "$2y$", 1);
        let verdict = hasher
            .verify(&secret("php-era"), &stored, PasswordForm::Normalized)
            .unwrap();
        assert_eq!(
            verdict,
            Verification::Match {
                needs_rehash: false
            }
        );
    }

    #[test]
    fn bcrypt_refuses_to_hash_passwords_over_72_bytes_but_takes_exactly_72() {
        let hasher = PasswordHasher::new(bcrypt_config(4)).unwrap();
        let exactly = "é".repeat(36);
        let stored = hasher.hash(&secret(&exactly)).unwrap();
        assert!(
            hasher
                .verify(&secret(&exactly), stored.as_str(), PasswordForm::Normalized)
                .unwrap()
                .is_match()
        );
        let over = format!("{exactly}x");
        let err = hasher.hash(&secret(&over)).unwrap_err();
        assert!(
            matches!(err, CryptoError::PasswordTooLong { max_bytes: 72 }),
            "{err:?}"
        );
    }

    #[test]
    fn passwords_sharing_their_first_72_bytes_never_verify_against_each_other_under_bcrypt() {
        let hasher = PasswordHasher::new(bcrypt_config(4)).unwrap();
        let prefix = "a".repeat(72);
        let (first, second) = (format!("{prefix}1"), format!("{prefix}2"));
        // A truncating system (old passlib) could have stored these; they must still not match.
        let stored_first = bcrypt::hash(&first, 4).unwrap();
        let stored_second = bcrypt::hash(&second, 4).unwrap();
        for (password, stored) in [
            (&first, &stored_second),
            (&second, &stored_first),
            (&first, &stored_first),
        ] {
            assert_eq!(
                hasher
                    .verify(&secret(password), stored, PasswordForm::Raw)
                    .unwrap(),
                Verification::Mismatch
            );
        }
        // The 72-byte prefix alone is a different password from both.
        let stored_prefix = hasher.hash(&secret(&prefix)).unwrap();
        assert_eq!(
            hasher
                .verify(
                    &secret(&first),
                    stored_prefix.as_str(),
                    PasswordForm::Normalized
                )
                .unwrap(),
            Verification::Mismatch
        );
    }

    #[test]
    fn hostile_bcrypt_costs_are_refused_before_any_hashing() {
        let hasher = PasswordHasher::new(PasswordConfig::for_tests()).unwrap();
        let started = std::time::Instant::now();
        for cost in ["17", "20", "31", "99"] {
            let stored = FIXTURES[0].1.replacen("$12$", &format!("${cost}$"), 1);
            let result = hasher.verify(&secret(FIXTURES[0].0), &stored, PasswordForm::Raw);
            assert!(
                matches!(result, Err(CryptoError::HostileHash)),
                "{cost}: {result:?}"
            );
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn malformed_bcrypt_strings_are_refused() {
        let hasher = PasswordHasher::new(PasswordConfig::for_tests()).unwrap();
        let good = FIXTURES[0].1;
        let cases = [
            good.replacen("$12$", "$03$", 1),
            good.replacen("$12$", "$1x$", 1),
            good.replacen("$2b$", "$2x$", 1),
            good[..59].to_owned(),
            format!("{good}A"),
            good.replacen('Y', "!", 1),
            good.replacen('Y', "é", 1)[..60].to_owned(),
            "$2b$".to_owned(),
        ];
        for stored in cases {
            let result = hasher.verify(&secret(FIXTURES[0].0), &stored, PasswordForm::Raw);
            assert!(
                matches!(result, Err(CryptoError::MalformedHash)),
                "{stored}: {result:?}"
            );
        }
    }
}
