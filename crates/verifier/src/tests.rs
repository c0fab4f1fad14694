//! Unit tests of the core: key choice, algorithm pinning and claim checks.

use serde_json::json;

use crate::testing::{KEY_1, KEY_2, claims, hs256, jwks};
use crate::{AccessClaims, Algorithm, KeySet, Rules, VerificationKey, Verifier, VerifyError};

fn keys() -> KeySet {
    KeySet::from_jwks(&jwks(&[KEY_1.jwk("k1"), KEY_2.jwk("k2")])).unwrap()
}

fn verify(keys: &KeySet, token: &str) -> Result<AccessClaims, VerifyError> {
    keys.verify(token, &Rules::default(), "access")
}

#[test]
fn a_token_verifies_with_the_key_its_kid_names() {
    let keys = keys();
    let claims = verify(&keys, &KEY_1.sign("k1", "access")).unwrap();
    assert_eq!(claims.user_id::<u64>(), Some(42));
    assert!(verify(&keys, &KEY_2.sign("k2", "access")).is_ok());
    assert_eq!(
        verify(&keys, &KEY_2.sign("k1", "access")).unwrap_err(),
        VerifyError::BadSignature
    );
    assert_eq!(
        verify(&keys, &KEY_1.sign("k3", "access")).unwrap_err(),
        VerifyError::UnknownKey
    );
}

#[test]
fn a_refresh_token_is_refused() {
    let err = verify(&keys(), &KEY_1.sign("k1", "refresh")).unwrap_err();
    assert_eq!(err, VerifyError::WrongType);
}

#[test]
fn an_hmac_token_forged_with_the_public_key_is_refused() {
    let public = KEY_1.x.as_bytes();
    let forged = hs256(public, Some("k1"), &claims("access", 60));
    assert_eq!(
        verify(&keys(), &forged).unwrap_err(),
        VerifyError::AlgorithmMismatch
    );
    let raw = hs256(&[0xd7; 32], Some("k1"), &claims("access", 60));
    assert_eq!(
        verify(&keys(), &raw).unwrap_err(),
        VerifyError::AlgorithmMismatch
    );
}

#[test]
fn hmac_keys_verify_their_own_algorithm_only() {
    let secret = [9u8; 32];
    let keys = KeySet::new(vec![
        VerificationKey::hmac(Algorithm::HS256, &secret, None).unwrap(),
    ]);
    let token = hs256(&secret, Some("any"), &claims("access", 60));
    assert!(verify(&keys, &token).is_ok());
    assert_eq!(
        verify(&keys, &hs256(&[8; 32], None, &claims("access", 60))).unwrap_err(),
        VerifyError::BadSignature
    );
    let none = "eyJhbGciOiJub25lIn0.eyJzdWIiOiI0MiJ9.";
    assert_eq!(verify(&keys, none).unwrap_err(), VerifyError::Malformed);
}

#[test]
fn expiry_and_not_before_honour_the_leeway() {
    let secret = [9u8; 32];
    let keys = KeySet::new(vec![
        VerificationKey::hmac(Algorithm::HS256, &secret, None).unwrap(),
    ]);
    let expired = hs256(&secret, None, &claims("access", -60));
    assert_eq!(verify(&keys, &expired).unwrap_err(), VerifyError::Expired);
    let within_leeway = hs256(&secret, None, &claims("access", -2));
    assert!(verify(&keys, &within_leeway).is_ok());
    let strict = Rules {
        leeway: std::time::Duration::ZERO,
        ..Rules::default()
    };
    let refused = keys.verify::<AccessClaims>(&within_leeway, &strict, "access");
    assert_eq!(refused.unwrap_err(), VerifyError::Expired);
    let mut future = claims("access", 600);
    future["nbf"] = json!(future["iat"].as_i64().unwrap() + 300);
    let early = hs256(&secret, None, &future);
    assert_eq!(verify(&keys, &early).unwrap_err(), VerifyError::NotYetValid);
}

#[test]
fn issuer_and_audience_are_required_when_configured() {
    let secret = [9u8; 32];
    let keys = KeySet::new(vec![
        VerificationKey::hmac(Algorithm::HS256, &secret, None).unwrap(),
    ]);
    let rules = Rules {
        issuer: Some("auth".into()),
        audience: Some("api".into()),
        ..Rules::default()
    };
    let mut good = claims("access", 60);
    good["iss"] = json!("auth");
    good["aud"] = json!("api");
    assert!(
        keys.verify::<AccessClaims>(&hs256(&secret, None, &good), &rules, "access")
            .is_ok()
    );
    let mut other = good.clone();
    other["iss"] = json!("elsewhere");
    let refused = keys.verify::<AccessClaims>(&hs256(&secret, None, &other), &rules, "access");
    assert_eq!(refused.unwrap_err(), VerifyError::WrongIssuer);
    // Neither claim: refused for one of them (jsonwebtoken checks its required claims in no
    // fixed order).
    let refused = keys.verify::<AccessClaims>(
        &hs256(&secret, None, &claims("access", 60)),
        &rules,
        "access",
    );
    let refused = refused.unwrap_err();
    assert!(
        matches!(
            refused,
            VerifyError::WrongIssuer | VerifyError::WrongAudience
        ),
        "{refused:?}"
    );
    let mut no_aud = good;
    no_aud.as_object_mut().unwrap().remove("aud");
    let refused = keys.verify::<AccessClaims>(&hs256(&secret, None, &no_aud), &rules, "access");
    assert_eq!(refused.unwrap_err(), VerifyError::WrongAudience);
}

#[test]
fn jwks_keys_take_their_algorithm_from_the_key_and_skip_unusable_ones() {
    let mut wrong_alg = KEY_1.jwk("bad");
    wrong_alg["alg"] = json!("HS256");
    let oct = json!({"kty": "oct", "k": "c2VjcmV0", "alg": "HS256", "kid": "oct"});
    let rsa = json!({"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "rsa"});
    let mut enc = KEY_2.jwk("enc");
    enc["use"] = json!("enc");
    let set = KeySet::from_jwks(&jwks(&[KEY_1.jwk("k1"), wrong_alg, oct, rsa, enc])).unwrap();
    assert_eq!(set.kids().collect::<Vec<_>>(), ["k1"]);
    assert_eq!(set.find(Some("k1")).unwrap().algorithm(), Algorithm::EdDSA);
    assert!(KeySet::from_jwks("[]").is_err());
}

#[test]
fn errors_and_debug_never_show_the_token_or_key() {
    let token = KEY_1.sign("k3", "access");
    let err = verify(&keys(), &token).unwrap_err();
    assert!(!err.to_string().contains(&token[..20]));
    let key =
        VerificationKey::hmac(Algorithm::HS256, b"a secret of thirty-two bytes!!!!", None).unwrap();
    assert!(!format!("{key:?}").contains("thirty"));
}

#[tokio::test]
async fn a_static_verifier_checks_access_tokens() {
    let verifier = Verifier::new(keys());
    assert_eq!(
        verifier
            .verify(&KEY_1.sign("k1", "access"))
            .await
            .unwrap()
            .sub,
        "42"
    );
    assert_eq!(
        verifier
            .verify(&KEY_1.sign("k1", "refresh"))
            .await
            .unwrap_err(),
        VerifyError::WrongType
    );
    let verifier = verifier.with_issuer("auth");
    assert_eq!(
        verifier
            .verify(&KEY_1.sign("k1", "access"))
            .await
            .unwrap_err(),
        VerifyError::WrongIssuer
    );
}
