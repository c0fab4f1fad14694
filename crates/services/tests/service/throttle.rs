//! Throttling and lockout through the service: layers, bursts, lock and unlock.

use std::net::IpAddr;

use auth_crypto::{Argon2Params, PasswordConfig};
use auth_persistence::test_support::TestDb;
use auth_persistence::{db_test, throttles};
use auth_services::{
    AuthConfig, AuthService, AuthSession, Fault, HashingLimits, LoginError, LoginInput,
    RegisterError, RequestContext, ThrottleConfig, ThrottleKeySecret, UserRef,
};
use futures::future::join_all;
use time::{Duration, OffsetDateTime};

use super::{
    ANON, ManualClock, PASSWORD, by_username, kind, register, register_input, service_with,
    service_with_passwords,
};

/// Signs in as ann with `password` from address `ip`.
async fn login_from(
    auth: &AuthService,
    ip: &str,
    password: &str,
) -> Result<AuthSession, LoginError> {
    auth.login(&at(ip), by_username("ann", password)).await
}

/// A request from `ip`.
pub(crate) fn at(ip: &str) -> RequestContext {
    RequestContext {
        request_id: None,
        client_ip: Some(ip.parse::<IpAddr>().unwrap()),
        user_agent: None,
    }
}

/// The wait a refusal asks for, in whole seconds rounded up (stored times are coarser than
/// the clock, so a one-second delay may come back as 999.999 ms).
fn wait(err: &LoginError) -> Option<std::time::Duration> {
    match err {
        LoginError::RateLimited { retry_after } => Some(std::time::Duration::from_secs(
            retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0),
        )),
        _ => None,
    }
}

fn config(throttle: ThrottleConfig) -> AuthConfig {
    AuthConfig {
        throttle,
        ..AuthConfig::default()
    }
}

/// `config` with a hashing queue long enough for a whole burst: these tests count what the
/// throttle lets through, so nothing may be shed before it.
fn burst_config(throttle: ThrottleConfig) -> AuthConfig {
    let mut burst = config(throttle);
    burst.hashing.queue_depth = 10_000;
    burst.hashing.queue_timeout = std::time::Duration::from_secs(600);
    burst
}

fn clock() -> ManualClock {
    ManualClock::new(OffsetDateTime::now_utc() - Duration::hours(1))
}

db_test!(async fn five_failures_from_one_address_then_429_with_a_doubling_back_off(db) {
    let clock = clock();
    let auth = service_with(db.pool().clone(), clock.clone(), AuthConfig::default());
    register(&auth).await;
    for _ in 0..5 {
        let err = login_from(&auth, "203.0.113.9", "wrong password").await.unwrap_err();
        assert_eq!(kind(&err), "InvalidCredentials");
    }
    let first = login_from(&auth, "203.0.113.9", PASSWORD).await.unwrap_err();
    assert_eq!(kind(&first), "RateLimited", "even the right password waits");
    assert_eq!(wait(&first), Some(std::time::Duration::from_secs(60)));
    clock.advance(Duration::seconds(61));
    let second = login_from(&auth, "203.0.113.9", "wrong password").await.unwrap_err();
    assert_eq!(wait(&second), Some(std::time::Duration::from_secs(120)), "doubled");
    // Another address is not affected.
    login_from(&auth, "198.51.100.7", PASSWORD).await.unwrap();
});

db_test!(async fn a_parallel_burst_gets_no_more_guesses_than_the_limit(db) {
    let auth = service_with(db.pool().clone(), clock(), burst_config(ThrottleConfig::default()));
    register(&auth).await;
    let burst = (0..200).map(|_| {
        let auth = auth.clone();
        async move { login_from(&auth, "203.0.113.9", "wrong password").await.unwrap_err() }
    });
    let errors = join_all(burst).await;
    let checked = errors.iter().filter(|e| kind(e) == "InvalidCredentials").count();
    let limited = errors.iter().filter(|e| kind(e) == "RateLimited").count();
    assert_eq!((checked, limited), (5, 195));
});

db_test!(async fn an_account_gets_growing_delays_then_locks_and_answers_like_a_wrong_password(db) {
    let clock = clock();
    let throttle = ThrottleConfig { account_delay_after: 2, account_lock_after: 5, ..ThrottleConfig::default() };
    let auth = service_with(db.pool().clone(), clock.clone(), config(throttle));
    let registered = register(&auth).await;
    let auth = &auth;
    let attempt = |n: u8| async move { login_from(auth, &format!("203.0.113.{n}"), "wrong password").await };
    assert_eq!(kind(&attempt(0).await), "InvalidCredentials");
    assert_eq!(kind(&attempt(1).await), "InvalidCredentials");
    // After two failures, one attempt per delay: this one takes the slot ...
    assert_eq!(kind(&attempt(2).await), "InvalidCredentials");
    // ... and the next one, right away, waits (and is not counted).
    let delayed = attempt(3).await.unwrap_err();
    assert_eq!(kind(&delayed), "RateLimited");
    assert_eq!(wait(&delayed), Some(std::time::Duration::from_secs(1)));
    clock.advance(Duration::seconds(2));
    assert_eq!(kind(&attempt(4).await), "InvalidCredentials");
    let doubled = attempt(5).await.unwrap_err();
    assert_eq!(wait(&doubled), Some(std::time::Duration::from_secs(2)), "the delay doubles");
    clock.advance(Duration::seconds(3));
    let wrong = attempt(6).await.unwrap_err();
    clock.advance(Duration::minutes(20));
    // Five failures: locked. Even the right password gets exactly the wrong-password answer.
    let locked = login_from(auth, "203.0.113.50", PASSWORD).await.unwrap_err();
    assert_eq!(kind(&wrong), "InvalidCredentials");
    assert_eq!(kind(&locked), "InvalidCredentials");
    assert_eq!(format!("{locked:?}"), format!("{wrong:?}"));
    assert_eq!(wait(&locked), wait(&wrong));
    // An administrator's unlock lets the owner in again.
    assert!(auth.admin().unlock(&ANON, &UserRef::Id(registered.user.id)).await.unwrap().counters_cleared > 0);
    login_from(auth, "203.0.113.50", PASSWORD).await.unwrap();
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
        async move { login_from(&auth, &format!("10.9.0.{n}"), "wrong password").await.unwrap_err() }
    });
    let errors = join_all(burst).await;
    let checked = errors.iter().filter(|e| kind(e) == "InvalidCredentials").count();
    assert_eq!(checked, 1, "one slot, one attempt");
});

db_test!(async fn email_and_username_count_against_one_account(db) {
    let throttle = ThrottleConfig { account_delay_after: 1_000, account_lock_after: 2, ..ThrottleConfig::default() };
    let auth = service_with(db.pool().clone(), clock(), config(throttle));
    register(&auth).await;
    login_from(&auth, "203.0.113.1", "wrong password").await.unwrap_err();
    let by_email = LoginInput::parse(Some("ann@example.com"), None, "wrong password".to_owned().into()).unwrap();
    auth.login(&at("203.0.113.2"), by_email).await.unwrap_err();
    let locked = login_from(&auth, "203.0.113.3", PASSWORD).await.unwrap_err();
    assert_eq!(kind(&locked), "InvalidCredentials", "locked across both identifiers");
});

db_test!(async fn a_success_before_the_lock_resets_the_account(db) {
    let clock = clock();
    let throttle = ThrottleConfig { account_delay_after: 100, account_lock_after: 3, ..ThrottleConfig::default() };
    let auth = service_with(db.pool().clone(), clock, config(throttle));
    register(&auth).await;
    for round in 0..3 {
        for n in 0..2 {
            let err = login_from(&auth, &format!("10.0.{round}.{n}"), "wrong password").await.unwrap_err();
            assert_eq!(kind(&err), "InvalidCredentials");
        }
        login_from(&auth, &format!("10.1.{round}.1"), PASSWORD).await.unwrap();
    }
});

db_test!(async fn address_budgets_refuse_past_the_limit(db) {
    let throttle = ThrottleConfig { ip_register_budget: 2, ..ThrottleConfig::default() };
    let auth = service_with(db.pool().clone(), clock(), config(throttle));
    let ip = at("203.0.113.9");
    auth.register(&ip, register_input("a1@example.com", "ann1")).await.unwrap();
    auth.register(&ip, register_input("a2@example.com", "ann2")).await.unwrap();
    let err = auth.register(&ip, register_input("a3@example.com", "ann3")).await.unwrap_err();
    assert!(matches!(err, RegisterError::RateLimited { retry_after } if retry_after.as_secs() > 200));
    auth.login(&ip, by_username("ann1", PASSWORD)).await.unwrap();
    auth.register(&at("203.0.113.10"), register_input("a3@example.com", "ann3")).await.unwrap();
});

db_test!(async fn two_service_instances_on_one_database_share_one_limit(db) {
    // One configuration, so one throttle-key secret, as every replica must share.
    let shared = AuthConfig::default();
    let first = service_with(db.pool().clone(), clock(), shared.clone());
    // Its own pool, as a second process would have.
    let pool = auth_persistence::DbPool::new(db.config()).unwrap();
    let second = service_with(pool, clock(), shared);
    register(&first).await;
    for n in 0..5 {
        let instance = if n % 2 == 0 { &first } else { &second };
        login_from(instance, "203.0.113.9", "wrong password").await.unwrap_err();
    }
    let err = login_from(&second, "203.0.113.9", PASSWORD).await.unwrap_err();
    assert_eq!(kind(&err), "RateLimited");
});

db_test!(async fn throttling_switched_off_counts_nothing(db) {
    let throttle = ThrottleConfig { enabled: false, ..ThrottleConfig::default() };
    let auth = service_with(db.pool().clone(), clock(), config(throttle));
    register(&auth).await;
    for _ in 0..8 {
        login_from(&auth, "203.0.113.9", "wrong password").await.unwrap_err();
    }
    login_from(&auth, "203.0.113.9", PASSWORD).await.unwrap();
});

/// The count of counter `key` (0 when it has none).
async fn count(db: &TestDb, key: &str) -> i64 {
    throttles::hits(db.pool(), key).await.unwrap().unwrap_or(0)
}

/// How many `event` rows the audit trail holds.
async fn audited(db: &TestDb, event: &str) -> usize {
    let events = auth_persistence::audit::recent(db.pool(), 1_000)
        .await
        .unwrap();
    events.iter().filter(|e| e.event == event).count()
}

db_test!(async fn a_lock_expires_and_each_further_failure_locks_again(db) {
    let clock = clock();
    let throttle = ThrottleConfig {
        account_delay_after: 1_000,
        account_lock_after: 3,
        account_lock_duration: Some(Duration::minutes(10)),
        ..ThrottleConfig::default()
    };
    let auth = service_with(db.pool().clone(), clock.clone(), config(throttle));
    register(&auth).await;
    for n in 0..3 {
        let err = login_from(&auth, &format!("10.0.0.{n}"), "wrong password").await.unwrap_err();
        assert_eq!(kind(&err), "InvalidCredentials");
    }
    assert_eq!(audited(db, "lockout").await, 1);
    let locked = login_from(&auth, "10.0.1.1", PASSWORD).await.unwrap_err();
    assert_eq!(kind(&locked), "InvalidCredentials", "locked");
    clock.advance(Duration::minutes(11));
    // The lock is over, the count is not: one guess, and a wrong one locks again.
    login_from(&auth, "10.0.2.1", "wrong password").await.unwrap_err();
    assert_eq!(audited(db, "lockout").await, 2, "every (re)lock is audited");
    let relocked = login_from(&auth, "10.0.1.2", PASSWORD).await.unwrap_err();
    assert_eq!(kind(&relocked), "InvalidCredentials", "locked again");
    clock.advance(Duration::minutes(11));
    login_from(&auth, "10.0.1.3", PASSWORD).await.unwrap();
    // The success reset the count: the limit applies afresh.
    for n in 0..2 {
        login_from(&auth, &format!("10.0.3.{n}"), "wrong password").await.unwrap_err();
    }
    login_from(&auth, "10.0.1.4", PASSWORD).await.unwrap();
});

db_test!(async fn without_a_lock_duration_a_lock_holds_until_an_administrator_lifts_it(db) {
    let clock = clock();
    let throttle = ThrottleConfig {
        account_delay_after: 1_000,
        account_lock_after: 2,
        account_lock_duration: None,
        ..ThrottleConfig::default()
    };
    let auth = service_with(db.pool().clone(), clock.clone(), config(throttle));
    let registered = register(&auth).await;
    for n in 0..2 {
        login_from(&auth, &format!("10.0.0.{n}"), "wrong password").await.unwrap_err();
    }
    clock.advance(Duration::days(30));
    assert_eq!(kind(&login_from(&auth, "10.0.1.1", PASSWORD).await), "InvalidCredentials");
    auth.admin().unlock(&ANON, &UserRef::Id(registered.user.id)).await.unwrap();
    login_from(&auth, "10.0.1.1", PASSWORD).await.unwrap();
});

db_test!(async fn a_login_cancelled_mid_verification_leaves_no_count_behind(db) {
    // Slow enough hashing that the login is still verifying when it is dropped.
    let slow = PasswordConfig {
        argon2: Argon2Params { m_cost_kib: 19_456, t_cost: 8, p_cost: 1 },
        ..PasswordConfig::for_tests()
    };
    let config = AuthConfig::default();
    let secret = config.throttle.key_secret.clone();
    let auth = service_with_passwords(db.pool().clone(), clock(), config, slow);
    let registered = register(&auth).await;
    let account = format!("acct:user={}", registered.user.id.get());
    let address = format!("ipacct:user={}|{}", registered.user.id.get(), secret.digest("203.0.113.9"));
    let counted = async {
        while count(db, &account).await == 0 {
            tokio::task::yield_now().await;
        }
    };
    tokio::select! {
        outcome = login_from(&auth, "203.0.113.9", "wrong password") => {
            panic!("the login ended before it was cancelled: {outcome:?}");
        }
        () = counted => {}
    }
    // The login future is gone (as when the client leaves or the request times out): its
    // counts are given back in the background.
    let mut rounds = 0;
    while count(db, &account).await + count(db, &address).await > 0 {
        rounds += 1;
        assert!(rounds < 10_000, "the counts stayed behind");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
});

/// The outcome of a burst of wrong passwords: how many were checked (401) and refused (429).
struct Burst {
    checked: usize,
    limited: usize,
}

/// `attempts` parallel wrong passwords for ann, from `addresses` addresses in different /24s.
async fn wrong_password_burst(auth: &AuthService, attempts: usize, addresses: usize) -> Burst {
    let burst = (0..attempts).map(|n| {
        let auth = auth.clone();
        let ip = format!("10.{}.{}.7", n % addresses / 256, n % addresses % 256);
        async move { login_from(&auth, &ip, "wrong password").await.unwrap_err() }
    });
    let errors = join_all(burst).await;
    Burst {
        checked: errors
            .iter()
            .filter(|e| kind(e) == "InvalidCredentials")
            .count(),
        limited: errors.iter().filter(|e| kind(e) == "RateLimited").count(),
    }
}

db_test!(async fn a_burst_from_many_networks_locks_and_counts_only_the_checked_attempts(db) {
    let throttle = ThrottleConfig {
        account_delay_after: 1_000_000,
        account_lock_after: 5,
        ..ThrottleConfig::default()
    };
    let auth = service_with(db.pool().clone(), clock(), burst_config(throttle));
    let registered = register(&auth).await;
    let burst = wrong_password_burst(&auth, 1_000, 200).await;
    assert_eq!(burst.checked + burst.limited, 1_000);
    let locked = login_from(&auth, "192.0.2.1", PASSWORD).await.unwrap_err();
    assert_eq!(kind(&locked), "InvalidCredentials", "locked");
    let account = format!("acct:user={}", registered.user.id.get());
    let events = auth_persistence::audit::recent(db.pool(), 2_000).await.unwrap();
    let checked = events.iter().filter(|e| e.reason.as_deref() == Some("wrong_password")).count();
    assert_eq!(checked, 5, "the lock let exactly its limit through");
    // Locked attempts answer like wrong passwords but took no count.
    assert_eq!(count(db, &account).await, 5, "exactly the attempts whose password was checked");
    assert_eq!(audited(db, "lockout").await, 1);
});

db_test!(async fn addresses_of_one_network_share_its_budget(db) {
    let throttle = ThrottleConfig {
        ip_register_budget: 2,
        network_register_budget: 3,
        ..ThrottleConfig::default()
    };
    let auth = service_with(db.pool().clone(), clock(), config(throttle));
    for (network, other) in [("2001:db8:1:{n}::1", "2001:db8:2:1::1"), ("198.51.100.{n}", "198.51.101.1")] {
        let tag = if other.contains(':') { "six" } else { "four" };
        // Each its own address (an IPv6 /64), each well inside its own budget ...
        for n in 1..=3 {
            let ip = network.replace("{n}", &n.to_string());
            auth.register(&at(&ip), register_input(&format!("{tag}{n}@example.com"), &format!("{tag}{n}"))).await.unwrap();
        }
        // ... but the network's budget is spent.
        let ip = network.replace("{n}", "4");
        let err = auth.register(&at(&ip), register_input(&format!("{tag}4@example.com"), &format!("{tag}4"))).await.unwrap_err();
        assert!(matches!(err, RegisterError::RateLimited { .. }), "{err:?}");
        auth.register(&at(other), register_input(&format!("{tag}5@example.com"), &format!("{tag}5"))).await.unwrap();
    }
});

db_test!(async fn a_shed_sign_in_is_answered_at_once_and_counts_nothing(db) {
    let mut shedding = config(ThrottleConfig::default());
    // One hashing thread and no queue: of a parallel burst, one is checked at a time and
    // the others are shed at once.
    shedding.hashing = HashingLimits {
        threads: 1,
        queue_depth: 0,
        queue_timeout: std::time::Duration::from_secs(30),
    };
    let auth = service_with(db.pool().clone(), clock(), shedding);
    let registered = register(&auth).await;
    let burst = (0..40).map(|n| {
        let auth = auth.clone();
        async move { login_from(&auth, &format!("10.0.{n}.7"), "wrong password").await.unwrap_err() }
    });
    let errors = join_all(burst).await;
    let shed = errors.iter().filter(|e| matches!(e, LoginError::Fault(Fault::Overloaded))).count();
    let checked = errors.iter().filter(|e| kind(e) == "InvalidCredentials").count();
    assert_eq!(shed + checked, 40, "{errors:?}");
    assert!(shed > 0 && checked > 0, "shed {shed}, checked {checked}");
    let overloaded = LoginError::Fault(Fault::Overloaded);
    let LoginError::Fault(fault) = &overloaded else { unreachable!() };
    assert_eq!(fault.retry_after(), Some(std::time::Duration::from_secs(1)));
    // Only the checked attempts left a failure in the trail and the counters.
    let account = format!("acct:user={}", registered.user.id.get());
    assert_eq!(count(db, &account).await, i64::try_from(checked).unwrap());
    assert_eq!(audited(db, "login_failed").await, checked);
});

/// A throttle with `secret` that lets 2 failures per address and account through a window.
fn with_secret(secret: &str) -> AuthConfig {
    config(ThrottleConfig {
        ip_account_max_failures: 2,
        key_secret: ThrottleKeySecret::new(secret.to_owned().into()),
        ..ThrottleConfig::default()
    })
}

fn by_email_from(email: &str) -> LoginInput {
    LoginInput::parse(Some(email), None, "wrong password".to_owned().into()).unwrap()
}

db_test!(async fn throttle_keys_hold_no_identifier_or_address(db) {
    let auth = service_with(db.pool().clone(), clock(), with_secret("s3cret-for-this-test"));
    register(&auth).await;
    // An unknown identifier and an existing account, by email and by username.
    for input in [
        by_email_from("ann.other@example.com"),
        by_email_from("Ann@Example.com"),
        by_username("ann", "wrong password"),
    ] {
        let refused = auth.login(&at("203.0.113.9"), input).await.unwrap_err();
        assert_eq!(kind(&Err::<(), _>(refused)), "InvalidCredentials");
    }
    let keys = throttles::keys(db.pool()).await.unwrap();
    assert!(keys.len() >= 4, "{keys:?}");
    for key in &keys {
        let lower = key.to_lowercase();
        for raw in ["ann", "example", "203.0.113", "203.0.113.0"] {
            assert!(!lower.contains(raw), "{key} holds {raw}");
        }
    }
});

db_test!(async fn replicas_with_one_secret_share_counters_and_another_secret_does_not(db) {
    let pool = db.pool().clone();
    let first = service_with(pool.clone(), clock(), with_secret("shared-secret-of-the-replicas"));
    let second = service_with(pool.clone(), clock(), with_secret("shared-secret-of-the-replicas"));
    let other = service_with(pool, clock(), with_secret("a-different-secret-altogether"));
    let attempt = |auth: &AuthService| {
        let auth = auth.clone();
        async move { auth.login(&at("203.0.113.9"), by_email_from("Nobody@Example.com")).await }
    };
    assert_eq!(kind(&attempt(&first).await), "InvalidCredentials");
    assert_eq!(kind(&attempt(&second).await), "InvalidCredentials");
    // The third failure of the pair, on either replica, is over the limit.
    assert_eq!(kind(&attempt(&first).await), "RateLimited", "counted together");
    // Another secret names the same identifier differently: a counter of its own.
    assert_eq!(kind(&attempt(&other).await), "InvalidCredentials", "no collision");
});
