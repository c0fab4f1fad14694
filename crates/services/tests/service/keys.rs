//! Signing keys on a real database: the first key, rotation across replicas, revocation, and
//! a key-encryption key that does not fit.

use std::sync::Arc;

use auth_crypto::{
    Clock as _, JwtAlgorithm, JwtConfig, KeyEncryptionKey, ManualClock, TokenCodec, TokenKind,
};
use auth_persistence::db_test;
use auth_persistence::test_support::TestDb;
use auth_resilience::{BreakerConfig, CircuitBreaker};
use auth_services::{KeyConfig, KeyService, KeysError};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret as _, SecretString};
use time::{Duration, OffsetDateTime};

const KEK: &str = "service-tests key-encryption key, 32+ bytes";

/// A replica: its own codec and key service on `db`, at `clock`'s time.
fn replica(db: &TestDb, clock: &ManualClock, kek: &str) -> KeyService {
    let clock = Arc::new(clock.clone());
    let config = JwtConfig {
        algorithm: JwtAlgorithm::EdDSA,
        ..JwtConfig::new(SecretString::default())
    };
    KeyService::new(
        db.pool().clone(),
        Arc::new(CircuitBreaker::new("database", BreakerConfig::default())),
        clock.clone(),
        TokenCodec::new(config, clock).unwrap(),
        Some(KeyEncryptionKey::new(&SecretString::from(kek)).unwrap()),
        KeyConfig::default(),
    )
}

fn kid(token: &SecretString) -> String {
    let header = token.expose_secret().split('.').next().unwrap();
    let json = URL_SAFE_NO_PAD.decode(header).unwrap();
    let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
    value["kid"].as_str().unwrap().to_owned()
}

db_test!(async fn replicas_share_one_first_key_and_sign_and_verify_each_others_tokens(db) {
    let clock = ManualClock::new(OffsetDateTime::now_utc());
    let (a, b) = (replica(db, &clock, KEK), replica(db, &clock, KEK));
    let (first, second) = futures::join!(a.upkeep(), b.upkeep());
    first.unwrap();
    second.unwrap();
    let keys = a.list().await.unwrap();
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert_eq!(keys[0].state, "active");
    b.reload().await.unwrap();
    let token = a.codec().issue(TokenKind::Access, "1", "s").unwrap().token;
    assert_eq!(kid(&token), keys[0].kid);
    assert!(b.codec().verify(token.expose_secret(), TokenKind::Access).is_ok());
    let jwks: serde_json::Value = serde_json::from_str(&b.jwks()).unwrap();
    assert_eq!(jwks["keys"][0]["kid"], keys[0].kid.as_str());
});

db_test!(async fn a_rotation_publishes_first_signs_later_and_retires_after_the_tokens(db) {
    let clock = ManualClock::new(OffsetDateTime::now_utc());
    let keys = replica(db, &clock, KEK);
    keys.upkeep().await.unwrap();
    let old = keys.codec().issue(TokenKind::Refresh, "1", "s").unwrap().token;
    let first = keys.list().await.unwrap()[0].kid.clone();

    let next = keys.rotate().await.unwrap();
    assert_eq!(next.state, "pending");
    let ahead = next.activates_at - clock.now() - Duration::seconds(600);
    assert!(ahead.abs() < Duration::milliseconds(1), "{ahead}");
    assert!(keys.jwks().contains(&next.kid), "published before it signs");
    let still_old = keys.codec().issue(TokenKind::Access, "1", "s").unwrap().token;
    assert_eq!(kid(&still_old), first);

    clock.advance(Duration::seconds(601));
    keys.upkeep().await.unwrap();
    let new = keys.codec().issue(TokenKind::Access, "1", "s").unwrap().token;
    assert_eq!(kid(&new), next.kid);
    assert!(keys.codec().verify(old.expose_secret(), TokenKind::Refresh).is_ok());
    let states: Vec<_> = keys.list().await.unwrap().into_iter().map(|k| k.state).collect();
    assert_eq!(states, ["retiring", "active"]);

    clock.advance(Duration::days(8));
    keys.upkeep().await.unwrap();
    let states: Vec<_> = keys.list().await.unwrap().into_iter().map(|k| k.state).collect();
    assert_eq!(states, ["retired", "active"]);
    assert!(!keys.jwks().contains(&first));
});

db_test!(async fn rotation_is_automatic_when_the_interval_is_up(db) {
    let clock = ManualClock::new(OffsetDateTime::now_utc());
    let keys = replica(db, &clock, KEK);
    keys.upkeep().await.unwrap();
    clock.advance(Duration::days(29));
    keys.upkeep().await.unwrap();
    assert_eq!(keys.list().await.unwrap().len(), 1);
    clock.advance(Duration::days(1) - Duration::seconds(300));
    keys.upkeep().await.unwrap();
    let listed = keys.list().await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[1].state, "pending");
});

db_test!(async fn a_revoked_signing_key_is_refused_and_replaced_at_once(db) {
    let clock = ManualClock::new(OffsetDateTime::now_utc());
    let keys = replica(db, &clock, KEK);
    keys.upkeep().await.unwrap();
    let token = keys.codec().issue(TokenKind::Access, "1", "s").unwrap().token;
    let revoked = keys.revoke(&kid(&token)).await.unwrap();
    assert_eq!(revoked.state, "revoked");
    assert!(keys.codec().verify(token.expose_secret(), TokenKind::Access).is_err());
    let fresh = keys.codec().issue(TokenKind::Access, "1", "s").unwrap().token;
    assert_ne!(kid(&fresh), revoked.kid);
    assert!(matches!(keys.revoke(&revoked.kid).await, Err(KeysError::UnknownKey)));
    assert!(matches!(keys.revoke("no-such-key").await, Err(KeysError::UnknownKey)));
});

db_test!(async fn another_key_encryption_key_cannot_load_the_keys(db) {
    let clock = ManualClock::new(OffsetDateTime::now_utc());
    replica(db, &clock, KEK).upkeep().await.unwrap();
    let other = replica(db, &clock, "another key-encryption key of 32 bytes");
    let err = other.reload().await.unwrap_err();
    assert!(matches!(err, KeysError::Unseal { .. }), "{err}");
    assert!(err.to_string().contains("JWT_KEY_ENCRYPTION_KEY"));
});

db_test!(async fn hmac_has_no_keys_to_manage(db) {
    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let codec = TokenCodec::new(JwtConfig::new(SecretString::from("h".repeat(32))), clock.clone()).unwrap();
    let keys = KeyService::new(
        db.pool().clone(),
        Arc::new(CircuitBreaker::new("database", BreakerConfig::default())),
        clock,
        codec,
        None,
        KeyConfig::default(),
    );
    keys.upkeep().await.unwrap();
    assert_eq!(keys.jwks(), r#"{"keys":[]}"#);
    assert!(matches!(keys.rotate().await, Err(KeysError::NotAsymmetric("HS256"))));
    assert!(keys.list().await.unwrap().is_empty());
});
