//! The outcome counters, read back from a Prometheus recorder that is in force only while the
//! service is built (the handles are registered then, so the tests run in parallel without
//! sharing counts).

use auth_persistence::db_test;
use auth_services::{AuthConfig, AuthService, ThrottleConfig};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use secrecy::ExposeSecret as _;
use time::Duration;

use super::{ANON, ManualClock, PASSWORD, by_username, kind, register, service_with};
use crate::throttle::at;

/// A service on `pool` recording into a recorder of its own, with the handle to read it.
fn recorded(
    pool: auth_persistence::DbPool,
    clock: ManualClock,
    config: AuthConfig,
) -> (AuthService, PrometheusHandle) {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let auth = metrics::with_local_recorder(&recorder, || service_with(pool, clock, config));
    (auth, handle)
}

/// The value of `name{label="value"}`, 0 when absent.
fn count(handle: &PrometheusHandle, name: &str, label: &str, value: &str) -> u64 {
    let series = format!("{name}{{{label}=\"{value}\"}} ");
    handle
        .render()
        .lines()
        .find_map(|line| line.strip_prefix(&series)?.parse().ok())
        .unwrap_or(0)
}

fn clock() -> ManualClock {
    ManualClock::new(time::OffsetDateTime::now_utc() - Duration::minutes(1))
}

db_test!(async fn refreshes_are_counted_by_outcome(db) {
    let clock = clock();
    let (auth, handle) = recorded(db.pool().clone(), clock.clone(), AuthConfig::default());
    let refreshes = |outcome| count(&handle, "auth_refreshes_total", "outcome", outcome);
    let first = register(&auth).await;
    assert_eq!(count(&handle, "auth_registrations_total", "outcome", "created"), 1);
    let token = first.refresh_token.expose_secret();
    auth.refresh(&ANON, token).await.unwrap();
    assert_eq!(refreshes("rotated"), 1);
    clock.advance(Duration::seconds(5));
    auth.refresh(&ANON, token).await.unwrap();
    assert_eq!((refreshes("rotated"), refreshes("grace_replay")), (1, 1));
    clock.advance(Duration::seconds(11));
    assert_eq!(kind(&auth.refresh(&ANON, token).await), "InvalidToken");
    assert_eq!(refreshes("reuse_revoked"), 1);
    assert_eq!(kind(&auth.refresh(&ANON, "not-a-token").await), "InvalidToken");
    assert_eq!(refreshes("invalid"), 1);
    assert_eq!(refreshes("expired") + refreshes("throttled") + refreshes("error"), 0);
});

db_test!(async fn throttled_sign_ins_are_counted_with_their_layer(db) {
    let (auth, handle) = recorded(db.pool().clone(), clock(), AuthConfig::default());
    register(&auth).await;
    for _ in 0..5 {
        let err = auth.login(&at("203.0.113.9"), by_username("ann", "wrong password")).await;
        assert_eq!(kind(&err), "InvalidCredentials");
    }
    let err = auth.login(&at("203.0.113.9"), by_username("ann", PASSWORD)).await;
    assert_eq!(kind(&err), "RateLimited");
    let logins = |outcome| count(&handle, "auth_logins_total", "outcome", outcome);
    assert_eq!((logins("invalid"), logins("throttled"), logins("success")), (5, 1, 0));
    assert_eq!(count(&handle, "auth_throttle_hits_total", "layer", "address_account"), 1);
    assert_eq!(count(&handle, "auth_throttle_hits_total", "layer", "address"), 0);
});

db_test!(async fn a_locked_account_is_counted_as_locked_not_invalid(db) {
    let throttle = ThrottleConfig {
        account_delay_after: 100,
        account_lock_after: 2,
        ..ThrottleConfig::default()
    };
    let config = AuthConfig { throttle, ..AuthConfig::default() };
    let (auth, handle) = recorded(db.pool().clone(), clock(), config);
    register(&auth).await;
    for n in 0..2 {
        let err = auth.login(&at(&format!("203.0.113.{n}")), by_username("ann", "wrong")).await;
        assert_eq!(kind(&err), "InvalidCredentials");
    }
    let locked = auth.login(&at("203.0.113.50"), by_username("ann", PASSWORD)).await;
    assert_eq!(kind(&locked), "InvalidCredentials");
    let logins = |outcome| count(&handle, "auth_logins_total", "outcome", outcome);
    assert_eq!((logins("invalid"), logins("locked")), (2, 1));
    assert_eq!(count(&handle, "auth_throttle_hits_total", "layer", "account_lock"), 1);
    let hashed = handle.render();
    assert!(hashed.contains("auth_password_hashing_duration_seconds"), "{hashed}");
});

#[tokio::test]
async fn a_registration_refused_by_the_open_breaker_hashes_nothing() {
    let mut config =
        auth_persistence::DbConfig::new("postgres://postgres@127.0.0.1:1/none").unwrap();
    config.acquire_timeout = std::time::Duration::from_millis(200);
    let pool = auth_persistence::DbPool::new(&config).unwrap();
    let (auth, handle) = recorded(pool, clock(), AuthConfig::default());
    // Enough failures to open the breaker, none of them a hash.
    for _ in 0..5 {
        let _ = auth.users().get_by_id(auth_services::UserId::new(1)).await;
    }
    let refused = auth
        .register(&ANON, super::register_input("ann@example.com", "ann"))
        .await;
    let Err(auth_services::RegisterError::Fault(fault)) = refused else {
        panic!("expected a fault, got {refused:?}");
    };
    assert!(
        matches!(fault, auth_services::Fault::CircuitOpen { .. }),
        "{fault:?}"
    );
    let hashes: u64 = handle
        .render()
        .lines()
        .filter(|line| line.starts_with("auth_password_hashing_duration_seconds_count"))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
        .sum();
    assert_eq!(
        hashes, 0,
        "a password was hashed for a write that could not happen"
    );
}
