//! Property tests of the core: whatever a client sends as a token or a server publishes as a
//! key set, verification answers with an error instead of panicking, and a token the service
//! would issue verifies with its claims intact.

use base64::Engine as _;
use proptest::prelude::*;
use serde_json::json;

use crate::testing::{KEY_1, claims, hs256, jwks};
use crate::{AccessClaims, Algorithm, KeySet, Rules, VerificationKey, VerifyError};

const SECRET: [u8; 32] = [7; 32];

/// An Ed25519 key (`k1`) and an HS256 secret (`h1`).
fn keys() -> KeySet {
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(KEY_1.jwk("k1")).unwrap();
    KeySet::new(vec![
        VerificationKey::from_jwk(&jwk).unwrap(),
        VerificationKey::hmac(Algorithm::HS256, &SECRET, Some("h1".to_owned())).unwrap(),
    ])
}

/// Verifies an access token with `keys` and the default rules.
fn verify(keys: &KeySet, token: &str) -> Result<AccessClaims, VerifyError> {
    keys.verify(token, &Rules::default(), "access")
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Three dot-separated parts whose header and payload are base64url of arbitrary JSON-ish
/// bytes: past the first split, into the header and claim decoding.
fn token_shaped() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(any::<u8>(), 0..64),
        prop::collection::vec(any::<u8>(), 0..128),
        prop::collection::vec(any::<u8>(), 0..80),
    )
        .prop_map(|(header, payload, signature)| {
            format!("{}.{}.{}", b64(&header), b64(&payload), b64(&signature))
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_text_is_refused_without_a_panic(token in any::<String>()) {
        prop_assert!(verify(&keys(), &token).is_err());
    }

    #[test]
    fn any_token_shaped_text_is_refused_without_a_panic(token in token_shaped()) {
        prop_assert!(verify(&keys(), &token).is_err());
    }

    #[test]
    fn any_json_header_is_refused_without_a_panic(
        alg in prop::sample::select(vec!["HS256", "HS384", "EdDSA", "ES256", "none", "RS256", ""]),
        kid in prop::option::of("[a-z0-9]{0,4}"),
        extra in any::<String>(),
    ) {
        let header = json!({"alg": alg, "kid": kid, "typ": extra});
        let token = format!(
            "{}.{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims("access", 60).to_string().as_bytes()),
            b64(b"not a signature"),
        );
        prop_assert!(verify(&keys(), &token).is_err());
    }

    #[test]
    fn a_signed_token_round_trips_its_claims(
        sub in "[0-9]{1,18}",
        sid in "[a-zA-Z0-9-]{1,40}",
        jti in "[a-zA-Z0-9-]{1,40}",
    ) {
        let mut claims = claims("access", 60);
        claims["sub"] = json!(sub);
        claims["sid"] = json!(sid);
        claims["jti"] = json!(jti);
        let token = hs256(&SECRET, Some("h1"), &claims);
        let verified = verify(&keys(), &token).unwrap();
        prop_assert_eq!(verified.sub, sub);
        prop_assert_eq!(verified.sid, sid);
        prop_assert_eq!(verified.jti, jti);
    }

    #[test]
    fn a_flipped_byte_never_verifies(at in any::<prop::sample::Index>(), bit in 0u8..8) {
        let token = hs256(&SECRET, Some("h1"), &claims("access", 60));
        let mut bytes = token.into_bytes();
        let at = at.index(bytes.len());
        bytes[at] ^= 1 << bit;
        // A flip of the high bit is not UTF-8, so no `&str` token: nothing to verify.
        let Ok(tampered) = String::from_utf8(bytes) else {
            return Ok(());
        };
        prop_assert!(verify(&keys(), &tampered).is_err());
    }

    #[test]
    fn any_jwks_text_is_parsed_or_refused_without_a_panic(json in any::<String>()) {
        prop_assert!(matches!(KeySet::from_jwks(&json), Ok(_) | Err(_)));
    }

    #[test]
    fn any_jwk_member_values_are_skipped_or_used_without_a_panic(
        kty in prop::sample::select(vec!["OKP", "EC", "RSA", "oct", ""]),
        crv in prop::sample::select(vec!["Ed25519", "P-256", "P-384", "X25519", ""]),
        x in "[A-Za-z0-9_-]{0,64}",
        y in "[A-Za-z0-9_-]{0,64}",
    ) {
        let set = jwks(&[json!({"kty": kty, "crv": crv, "x": x, "y": y, "kid": "k"})]);
        if let Ok(keys) = KeySet::from_jwks(&set) {
            let err = verify(&keys, &KEY_1.sign("k", "access"));
            prop_assert!(err.is_err() || x == KEY_1.x);
        }
    }
}

#[test]
fn the_hmac_key_of_these_properties_verifies_a_valid_token() {
    let token = hs256(&SECRET, Some("h1"), &claims("access", 60));
    assert!(verify(&keys(), &token).is_ok());
    let forged = hs256(&[8; 32], Some("h1"), &claims("access", 60));
    let err = verify(&keys(), &forged).unwrap_err();
    assert_eq!(err, VerifyError::BadSignature);
}

#[test]
fn a_published_key_of_the_wrong_length_is_skipped_not_a_panic() {
    // 27 bytes: jsonwebtoken would slice 32 out of it while verifying, and panic.
    let short = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    for key in [
        json!({"kty": "OKP", "crv": "Ed25519", "x": short, "kid": "k"}),
        json!({"kty": "EC", "crv": "P-256", "x": short, "y": short, "kid": "k"}),
        json!({"kty": "OKP", "crv": "Ed25519", "x": "not base64!", "kid": "k"}),
    ] {
        let keys = KeySet::from_jwks(&jwks(std::slice::from_ref(&key))).unwrap();
        assert!(keys.is_empty(), "{key}");
        assert!(verify(&keys, &KEY_1.sign("k", "access")).is_err());
    }
}
