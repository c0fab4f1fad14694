//! Device tokens: issued at every sign-in, recognised at the next one, and a bucket of their
//! own for the throttling of the account, so strangers cannot lock the owner's devices out.

use auth_persistence::db_test;
use auth_services::{AuthConfig, AuthService, AuthSession, LoginError, ThrottleConfig, UserRef};
use secrecy::{ExposeSecret as _, SecretString};
use time::{Duration, OffsetDateTime};

use super::{
    ANON, ManualClock, PASSWORD, by_username, kind, register, register_input, service_with,
};

/// A service whose accounts lock after two consecutive failures, with no delays before.
fn strict(db: &auth_persistence::test_support::TestDb) -> (AuthService, ManualClock) {
    let clock = ManualClock::new(OffsetDateTime::now_utc() - Duration::hours(1));
    let throttle = ThrottleConfig {
        account_delay_after: 1_000,
        account_lock_after: 2,
        account_lock_duration: None,
        ip_account_max_failures: 1_000,
        ..ThrottleConfig::default()
    };
    let config = AuthConfig {
        throttle,
        ..AuthConfig::default()
    };
    (
        service_with(db.pool().clone(), clock.clone(), config),
        clock,
    )
}

/// Signs in as ann with `password`, presenting `device` if given.
async fn login(
    auth: &AuthService,
    password: &str,
    device: Option<&SecretString>,
) -> Result<AuthSession, LoginError> {
    let input = by_username("ann", password).with_device_token(device.cloned());
    auth.login(&ANON, input).await
}

fn token(session: &AuthSession) -> SecretString {
    session
        .device_token
        .clone()
        .expect("a sign-in hands out a device token")
}

db_test!(async fn every_sign_in_hands_out_a_device_token_and_a_known_one_comes_back(db) {
    let (auth, _) = strict(db);
    let registered = register(&auth).await;
    let first = token(&registered);
    let fresh = login(&auth, PASSWORD, None).await.unwrap();
    assert_ne!(token(&fresh).expose_secret(), first.expose_secret(), "a new device, a new token");
    let again = login(&auth, PASSWORD, Some(&first)).await.unwrap();
    assert_eq!(token(&again).expose_secret(), first.expose_secret(), "a known device keeps its token");
    let refreshed = auth.refresh(&ANON, again.refresh_token.expose_secret()).await.unwrap();
    assert!(refreshed.device_token.is_none(), "refresh hands out none");
});

db_test!(async fn the_owner_signs_in_from_a_known_device_while_strangers_have_locked_the_account(db) {
    let (auth, _) = strict(db);
    let device = token(&register(&auth).await);
    for _ in 0..5 {
        assert_eq!(kind(&login(&auth, "a stranger's guess", None).await), "InvalidCredentials");
    }
    assert_eq!(kind(&login(&auth, PASSWORD, None).await), "InvalidCredentials", "the untrusted bucket is locked");
    login(&auth, PASSWORD, Some(&device)).await.expect("the owner's device has its own bucket");
    login(&auth, PASSWORD, Some(&device)).await.expect("and keeps it");
    assert_eq!(kind(&login(&auth, PASSWORD, None).await), "InvalidCredentials", "strangers stay locked out");
});

db_test!(async fn a_device_bucket_counts_its_own_failures_and_leaves_the_others_alone(db) {
    let (auth, _) = strict(db);
    let device = token(&register(&auth).await);
    for _ in 0..2 {
        login(&auth, "a typo", Some(&device)).await.unwrap_err();
    }
    assert_eq!(kind(&login(&auth, PASSWORD, Some(&device)).await), "InvalidCredentials", "that device is locked");
    login(&auth, PASSWORD, None).await.expect("other devices are not");
});

db_test!(async fn foreign_invalid_and_expired_tokens_are_ignored(db) {
    let (auth, clock) = strict(db);
    let ann_device = token(&register(&auth).await);
    let bob = auth.register(&ANON, register_input("bob@example.com", "bob")).await.unwrap();
    for _ in 0..2 {
        login(&auth, "a stranger's guess", None).await.unwrap_err();
    }
    // Bob's token, garbage and an over-long value all count in the locked, untrusted bucket.
    let garbage = SecretString::from("not a device token");
    let huge = SecretString::from("x".repeat(10_000));
    for foreign in [token(&bob), garbage, huge] {
        assert_eq!(kind(&login(&auth, PASSWORD, Some(&foreign)).await), "InvalidCredentials");
    }
    clock.advance(Duration::days(91));
    assert_eq!(kind(&login(&auth, PASSWORD, Some(&ann_device)).await), "InvalidCredentials", "expired");
});

db_test!(async fn deactivation_revokes_device_tokens(db) {
    let (auth, _) = strict(db);
    let registered = register(&auth).await;
    let device = token(&registered);
    for _ in 0..2 {
        login(&auth, "a stranger's guess", None).await.unwrap_err();
    }
    let ann = UserRef::Id(registered.user.id);
    auth.admin().deactivate(&ANON, &ann).await.unwrap();
    auth.admin().activate(&ANON, &ann).await.unwrap();
    assert_eq!(kind(&login(&auth, PASSWORD, Some(&device)).await), "InvalidCredentials", "revoked with the deactivation");
    auth.admin().unlock(&ANON, &ann).await.unwrap();
    let back = login(&auth, PASSWORD, Some(&device)).await.unwrap();
    assert_ne!(token(&back).expose_secret(), device.expose_secret(), "a new token replaces the revoked one");
});
