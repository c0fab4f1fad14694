//! Throttling and lockout through the service: layers, bursts, lock and unlock.

use std::net::IpAddr;

use auth_errors::{AppError, ErrorCode};
use auth_persistence::db_test;
use auth_services::{AuthConfig, Budget, LoginInput, ThrottleConfig};
use futures::future::join_all;
use time::{Duration, OffsetDateTime};

use super::{ManualClock, PASSWORD, by_username, register, service_with};

fn from(ip: &str, password: &str) -> LoginInput {
    LoginInput {
        client_ip: Some(ip.parse::<IpAddr>().unwrap()),
        ..by_username("ann", password)
    }
}

fn config(throttle: ThrottleConfig) -> AuthConfig {
    AuthConfig {
        throttle,
        ..AuthConfig::default()
    }
}

fn clock() -> ManualClock {
    ManualClock::new(OffsetDateTime::now_utc() - Duration::hours(1))
}

db_test!(async fn five_failures_from_one_address_then_429_with_a_doubling_back_off(db) {
    let clock = clock();
    let auth = service_with(db.pool().clone(), clock.clone(), AuthConfig::default());
    register(&auth).await;
    for _ in 0..5 {
        let err = auth.login(from("203.0.113.9", "wrong password")).await.unwrap_err();
        assert_eq!(err.error_code(), ErrorCode::InvalidCredentials);
    }
    let first = auth.login(from("203.0.113.9", PASSWORD)).await.unwrap_err();
    assert_eq!(first.error_code(), ErrorCode::RateLimited, "even the right password waits");
    assert_eq!(first.retry_after(), Some(std::time::Duration::from_secs(60)));
    clock.advance(Duration::seconds(61));
    let second = auth.login(from("203.0.113.9", "wrong password")).await.unwrap_err();
    assert_eq!(second.retry_after(), Some(std::time::Duration::from_secs(120)), "doubled");
    // Another address is not affected.
    auth.login(from("198.51.100.7", PASSWORD)).await.unwrap();
});

db_test!(async fn a_parallel_burst_gets_no_more_guesses_than_the_limit(db) {
    let auth = service_with(db.pool().clone(), clock(), AuthConfig::default());
    register(&auth).await;
    let burst = (0..200).map(|_| {
        let auth = auth.clone();
        async move { auth.login(from("203.0.113.9", "wrong password")).await.unwrap_err() }
    });
    let errors = join_all(burst).await;
    let checked = errors.iter().filter(|e| e.error_code() == ErrorCode::InvalidCredentials).count();
    let limited = errors.iter().filter(|e| e.error_code() == ErrorCode::RateLimited).count();
    assert_eq!((checked, limited), (5, 195));
});

db_test!(async fn an_account_gets_growing_delays_then_locks_and_answers_like_a_wrong_password(db) {
    let clock = clock();
    let throttle = ThrottleConfig { account_delay_after: 2, account_lock_after: 5, ..ThrottleConfig::default() };
    let auth = service_with(db.pool().clone(), clock.clone(), config(throttle));
    let registered = register(&auth).await;
    let attempt = |n: u8| from(&format!("203.0.113.{n}"), "wrong password");
    let code = |r: Result<auth_services::AuthSession, AppError>| r.unwrap_err().error_code();
    assert_eq!(code(auth.login(attempt(0)).await), ErrorCode::InvalidCredentials);
    assert_eq!(code(auth.login(attempt(1)).await), ErrorCode::InvalidCredentials);
    // After two failures, one attempt per delay: this one takes the slot ...
    assert_eq!(code(auth.login(attempt(2)).await), ErrorCode::InvalidCredentials);
    // ... and the next one, right away, waits (and is not counted).
    let delayed = auth.login(attempt(3)).await.unwrap_err();
    assert_eq!(delayed.error_code(), ErrorCode::RateLimited);
    assert_eq!(delayed.retry_after(), Some(std::time::Duration::from_secs(1)));
    clock.advance(Duration::seconds(2));
    assert_eq!(code(auth.login(attempt(4)).await), ErrorCode::InvalidCredentials);
    let doubled = auth.login(attempt(5)).await.unwrap_err();
    assert_eq!(doubled.retry_after(), Some(std::time::Duration::from_secs(2)), "the delay doubles");
    clock.advance(Duration::seconds(3));
    let wrong = auth.login(attempt(6)).await.unwrap_err();
    clock.advance(Duration::minutes(20));
    // Five failures: locked. Even the right password gets exactly the wrong-password answer.
    let locked = auth.login(from("203.0.113.50", PASSWORD)).await.unwrap_err();
    assert_eq!(wrong.error_code(), ErrorCode::InvalidCredentials);
    assert_eq!(locked.error_code(), ErrorCode::InvalidCredentials);
    assert_eq!(locked.detail(), wrong.detail());
    assert_eq!(locked.retry_after(), wrong.retry_after());
    // An administrator's unlock lets the owner in again.
    assert!(auth.unlock(registered.user.id).await.unwrap() > 0);
    auth.login(from("203.0.113.50", PASSWORD)).await.unwrap();
});

db_test!(async fn a_parallel_burst_past_the_delay_threshold_gets_one_attempt_through(db) {
    let throttle = ThrottleConfig {
        account_delay_after: 0,
        ip_account_max_failures: 1_000,
        ..ThrottleConfig::default()
    };
    let auth = service_with(db.pool().clone(), clock(), config(throttle));
    register(&auth).await;
    let burst = (0..50).map(|n| {
        let auth = auth.clone();
        async move { auth.login(from(&format!("10.9.0.{n}"), "wrong password")).await.unwrap_err() }
    });
    let errors = join_all(burst).await;
    let checked = errors.iter().filter(|e| e.error_code() == ErrorCode::InvalidCredentials).count();
    assert_eq!(checked, 1, "one slot, one attempt");
});

db_test!(async fn email_and_username_count_against_one_account(db) {
    let throttle = ThrottleConfig { account_delay_after: 1_000, account_lock_after: 2, ..ThrottleConfig::default() };
    let auth = service_with(db.pool().clone(), clock(), config(throttle));
    register(&auth).await;
    auth.login(from("203.0.113.1", "wrong password")).await.unwrap_err();
    let by_email = LoginInput {
        client_ip: Some("203.0.113.2".parse().unwrap()),
        ..LoginInput::parse(Some("ann@example.com"), None, "wrong password".to_owned().into()).unwrap()
    };
    auth.login(by_email).await.unwrap_err();
    let locked = auth.login(from("203.0.113.3", PASSWORD)).await.unwrap_err();
    assert_eq!(locked.error_code(), ErrorCode::InvalidCredentials, "locked across both identifiers");
});

db_test!(async fn a_success_before_the_lock_resets_the_account(db) {
    let clock = clock();
    let throttle = ThrottleConfig { account_delay_after: 100, account_lock_after: 3, ..ThrottleConfig::default() };
    let auth = service_with(db.pool().clone(), clock, config(throttle));
    register(&auth).await;
    for round in 0..3 {
        for n in 0..2 {
            let err = auth.login(from(&format!("10.0.{round}.{n}"), "wrong password")).await.unwrap_err();
            assert_eq!(err.error_code(), ErrorCode::InvalidCredentials);
        }
        auth.login(from(&format!("10.1.{round}.1"), PASSWORD)).await.unwrap();
    }
});

db_test!(async fn address_budgets_refuse_past_the_limit(db) {
    let throttle = ThrottleConfig { ip_register_budget: 2, ..ThrottleConfig::default() };
    let auth = service_with(db.pool().clone(), clock(), config(throttle));
    let ip: IpAddr = "203.0.113.9".parse().unwrap();
    auth.throttle().spend(Budget::Register, ip).await.unwrap();
    auth.throttle().spend(Budget::Register, ip).await.unwrap();
    let err = auth.throttle().spend(Budget::Register, ip).await.unwrap_err();
    assert!(matches!(err, AppError::RateLimited { retry_after } if retry_after.as_secs() > 200));
    auth.throttle().spend(Budget::Login, ip).await.unwrap();
    auth.throttle().spend(Budget::Register, "203.0.113.10".parse().unwrap()).await.unwrap();
});

db_test!(async fn two_service_instances_on_one_database_share_one_limit(db) {
    let first = service_with(db.pool().clone(), clock(), AuthConfig::default());
    // Its own pool, as a second process would have.
    let pool = auth_persistence::DbPool::new(db.config()).unwrap();
    let second = service_with(pool, clock(), AuthConfig::default());
    register(&first).await;
    for n in 0..5 {
        let instance = if n % 2 == 0 { &first } else { &second };
        instance.login(from("203.0.113.9", "wrong password")).await.unwrap_err();
    }
    let err = second.login(from("203.0.113.9", PASSWORD)).await.unwrap_err();
    assert_eq!(err.error_code(), ErrorCode::RateLimited);
});

db_test!(async fn throttling_switched_off_counts_nothing(db) {
    let throttle = ThrottleConfig { enabled: false, ..ThrottleConfig::default() };
    let auth = service_with(db.pool().clone(), clock(), config(throttle));
    register(&auth).await;
    for _ in 0..8 {
        auth.login(from("203.0.113.9", "wrong password")).await.unwrap_err();
    }
    auth.login(from("203.0.113.9", PASSWORD)).await.unwrap();
});
