//! Tests: key ids, HMAC secret rotation, and signing with published EdDSA and ES256 keys.

use std::sync::Arc;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::{ExposeSecret as _, SecretString};
use time::{Duration, OffsetDateTime};

use crate::token::testing::{SECRET, codec, config};
use crate::{
    CryptoError, JwtAlgorithm, JwtConfig, Keyring, KeyringEntry, ManualClock, TokenCodec,
    TokenKind, generate_signing_key, hmac_kid,
};

fn kid_of(token: &str) -> Option<String> {
    jsonwebtoken::decode_header(token).unwrap().kid
}

fn entry(algorithm: JwtAlgorithm, kid: &str, activates_at: OffsetDateTime) -> KeyringEntry {
    let key = generate_signing_key(algorithm, kid).unwrap();
    KeyringEntry {
        kid: key.kid,
        public_jwk: key.public_jwk,
        activates_at,
        private_pkcs8: Some(key.private_pkcs8),
    }
}

fn asymmetric(algorithm: JwtAlgorithm, now: OffsetDateTime) -> TokenCodec {
    let config = JwtConfig {
        algorithm,
        ..JwtConfig::new(SecretString::default())
    };
    TokenCodec::new(config, Arc::new(ManualClock::new(now))).unwrap()
}

#[test]
fn hmac_tokens_name_the_secret_version_and_previous_secrets_still_verify() {
    let old = codec();
    let token = old.issue(TokenKind::Access, "1", "s").unwrap().token;
    let kid = kid_of(token.expose_secret()).unwrap();
    assert_eq!(kid, hmac_kid(&SecretString::from(SECRET)));
    assert!(!kid.contains("test-secret"));

    let rotated = TokenCodec::new(
        JwtConfig {
            previous_secrets: vec![SecretString::from(SECRET)],
            ..JwtConfig::new(SecretString::from("a brand new secret of 32+ bytes!!"))
        },
        Arc::new(ManualClock::new(OffsetDateTime::now_utc())),
    )
    .unwrap();
    assert!(
        rotated
            .verify(token.expose_secret(), TokenKind::Access)
            .is_ok()
    );
    let fresh = rotated.issue(TokenKind::Access, "1", "s").unwrap().token;
    assert_ne!(kid_of(fresh.expose_secret()).unwrap(), kid);
    assert!(matches!(
        old.verify(fresh.expose_secret(), TokenKind::Access),
        Err(CryptoError::TokenInvalid)
    ));

    let dropped = TokenCodec::new(
        JwtConfig::new(SecretString::from("a brand new secret of 32+ bytes!!")),
        Arc::new(ManualClock::new(OffsetDateTime::now_utc())),
    )
    .unwrap();
    assert!(matches!(
        dropped.verify(token.expose_secret(), TokenKind::Access),
        Err(CryptoError::TokenInvalid)
    ));
}

#[test]
fn a_short_previous_secret_is_refused() {
    let config = JwtConfig {
        previous_secrets: vec![SecretString::from("short")],
        ..config()
    };
    assert!(TokenCodec::new(config, Arc::new(crate::SystemClock)).is_err());
}

#[test]
fn published_keys_sign_from_their_activation_and_all_verify() {
    for algorithm in [JwtAlgorithm::EdDSA, JwtAlgorithm::ES256] {
        let now = OffsetDateTime::now_utc();
        let codec = asymmetric(algorithm, now);
        assert!(matches!(
            codec.issue(TokenKind::Access, "1", "s"),
            Err(CryptoError::NoSigningKey)
        ));
        let keyring = Keyring::published(
            algorithm,
            vec![
                entry(algorithm, "old", now - Duration::days(40)),
                entry(algorithm, "current", now - Duration::days(10)),
                entry(algorithm, "next", now + Duration::minutes(10)),
            ],
        )
        .unwrap();
        codec.install(keyring).unwrap();
        for kind in [TokenKind::Access, TokenKind::Refresh] {
            let token = codec.issue(kind, "1", "s").unwrap().token;
            assert_eq!(kid_of(token.expose_secret()).as_deref(), Some("current"));
            assert_eq!(codec.verify(token.expose_secret(), kind).unwrap().sub, "1");
        }
        let jwks: serde_json::Value = serde_json::from_str(&codec.jwks()).unwrap();
        let kids: Vec<_> = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].clone())
            .collect();
        assert_eq!(kids, ["old", "current", "next"]);
        assert!(
            jwks["keys"]
                .as_array()
                .unwrap()
                .iter()
                .all(|k| k.get("d").is_none())
        );
        assert_eq!(jwks["keys"][0]["alg"], algorithm.as_str());
        assert_eq!(jwks["keys"][0]["use"], "sig");
    }
}

#[test]
fn tokens_of_a_key_no_longer_in_the_keyring_are_refused() {
    let now = OffsetDateTime::now_utc();
    let codec = asymmetric(JwtAlgorithm::EdDSA, now);
    codec
        .install(
            Keyring::published(
                JwtAlgorithm::EdDSA,
                vec![entry(JwtAlgorithm::EdDSA, "a", now)],
            )
            .unwrap(),
        )
        .unwrap();
    let token = codec.issue(TokenKind::Access, "1", "s").unwrap().token;
    codec
        .install(
            Keyring::published(
                JwtAlgorithm::EdDSA,
                vec![entry(JwtAlgorithm::EdDSA, "b", now)],
            )
            .unwrap(),
        )
        .unwrap();
    assert!(matches!(
        codec.verify(token.expose_secret(), TokenKind::Access),
        Err(CryptoError::TokenInvalid)
    ));
}

#[test]
fn an_hmac_token_forged_with_the_public_key_is_refused() {
    let now = OffsetDateTime::now_utc();
    let codec = asymmetric(JwtAlgorithm::EdDSA, now);
    let key = entry(JwtAlgorithm::EdDSA, "k", now);
    let public = key.public_jwk.clone();
    codec
        .install(Keyring::published(JwtAlgorithm::EdDSA, vec![key]).unwrap())
        .unwrap();
    let genuine = codec.issue(TokenKind::Access, "1", "s").unwrap();
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("k".into());
    let forged = jsonwebtoken::encode(
        &header,
        &genuine.claims,
        &EncodingKey::from_secret(public.as_bytes()),
    )
    .unwrap();
    assert!(matches!(
        codec.verify(&forged, TokenKind::Access),
        Err(CryptoError::TokenInvalid)
    ));
}

#[test]
fn a_keyring_of_another_algorithm_is_refused() {
    let now = OffsetDateTime::now_utc();
    let codec = asymmetric(JwtAlgorithm::EdDSA, now);
    let es = Keyring::published(
        JwtAlgorithm::ES256,
        vec![entry(JwtAlgorithm::ES256, "e", now)],
    )
    .unwrap();
    assert!(codec.install(es).is_err());
    let mismatched = Keyring::published(
        JwtAlgorithm::EdDSA,
        vec![entry(JwtAlgorithm::ES256, "e", now)],
    );
    assert!(mismatched.is_err());
}
