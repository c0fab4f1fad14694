//! Property tests of the stored-hash parser: any text read from the database is verified,
//! refused as malformed or refused as hostile, never a panic; and a hash this crate makes
//! parses and verifies its password, and only that password.

use proptest::prelude::*;
use secrecy::{ExposeSecret as _, SecretString};

use crate::{CryptoError, PasswordConfig, PasswordForm, PasswordHasher, Verification};

/// The test parameters, with stored argon2 hashes capped at 64 KiB so that a generated hash
/// never costs more than a few milliseconds.
fn hasher() -> PasswordHasher {
    let config = PasswordConfig {
        max_stored_m_cost_kib: 64,
        ..PasswordConfig::for_tests()
    };
    PasswordHasher::new(config).unwrap()
}

/// Strings shaped like argon2 PHC strings, with small or hostile parameters.
fn phc_like() -> impl Strategy<Value = String> {
    (
        "argon2(id|i|d)|scrypt|",
        "(v=(16|19|20|x)\\$)?",
        "m=[0-9]{1,3},t=[0-9]{1,2},p=[0-9]",
        "[A-Za-z0-9+/]{0,30}",
        "[A-Za-z0-9+/=]{0,60}",
    )
        .prop_map(|(alg, version, params, salt, hash)| {
            format!("${alg}${version}{params}${salt}${hash}")
        })
}

/// Strings shaped like bcrypt hashes, with cheap (at most 6) or hostile (20 and over) costs.
fn bcrypt_like() -> impl Strategy<Value = String> {
    ("2[abxy]", "0[0-6]|[2-9][0-9]", "[./A-Za-z0-9]{50,56}")
        .prop_map(|(version, cost, rest)| format!("${version}${cost}${rest}"))
}

/// Asserts that verifying `stored` ended in one of the documented ways.
fn assert_documented(result: &Result<Verification, CryptoError>) -> Result<(), TestCaseError> {
    prop_assert!(
        matches!(
            result,
            Ok(Verification::Match { .. } | Verification::Mismatch)
                | Err(CryptoError::MalformedHash | CryptoError::HostileHash)
        ),
        "{:?}",
        result
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn any_stored_text_is_refused_without_a_panic(stored in any::<String>()) {
        let result = hasher().verify(&SecretString::from("pw"), &stored, PasswordForm::Raw);
        assert_documented(&result)?;
    }

    #[test]
    fn any_phc_like_text_is_verified_or_refused_without_a_panic(stored in phc_like()) {
        let result = hasher().verify(&SecretString::from("pw"), &stored, PasswordForm::Raw);
        assert_documented(&result)?;
    }

    #[test]
    fn any_bcrypt_like_text_is_verified_or_refused_without_a_panic(stored in bcrypt_like()) {
        let result = hasher().verify(&SecretString::from("pw"), &stored, PasswordForm::Raw);
        assert_documented(&result)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn a_made_hash_parses_and_verifies_its_password_only(
        password in ".{1,40}",
        other in ".{1,40}",
    ) {
        let hasher = hasher();
        let hash = hasher.hash(&SecretString::from(password.as_str())).unwrap();
        let verdict = |candidate: &str| {
            hasher.verify(&SecretString::from(candidate), hash.as_str(), PasswordForm::Normalized)
        };
        prop_assert!(verdict(&password).unwrap().is_match());
        let normal = |text: &str| {
            crate::normalize_password(&SecretString::from(text)).expose_secret().to_owned()
        };
        if normal(&other) != normal(&password) {
            prop_assert_eq!(verdict(&other).unwrap(), Verification::Mismatch);
        }
    }
}
