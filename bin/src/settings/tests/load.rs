//! Tests of loading [`Settings`] through a map, never through the process environment.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use auth_crypto::{HashScheme, JwtAlgorithm};
use secrecy::ExposeSecret as _;

use crate::settings::{ConfigError, LogFormat, Settings};

/// Loads settings from `vars` alone.
fn load(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Settings::from_lookup(|key| map.get(key).cloned())
}

#[test]
fn nothing_set_gives_the_documented_defaults() {
    let s = load(&[]).unwrap();
    assert_eq!(s.database.url(), "sqlite://auth.db");
    assert_eq!(s.database_max_connections, None);
    assert_eq!(s.database_acquire_timeout, Duration::from_secs(5));
    assert_eq!(s.database_startup_timeout, Duration::from_secs(30));
    assert!(s.jwt_secret_key.is_none());
    assert_eq!(s.jwt_algorithm, JwtAlgorithm::HS256);
    assert_eq!(s.access_token_ttl, time::Duration::minutes(30));
    assert_eq!(s.refresh_token_ttl, time::Duration::days(7));
    assert_eq!(s.device_token_ttl, time::Duration::days(90));
    assert_eq!(s.session_idle, time::Duration::days(30));
    assert_eq!(s.max_sessions_per_user, 50);
    assert_eq!(s.refresh_reuse_grace, time::Duration::seconds(10));
    assert_eq!(s.jwt_issuer, None);
    assert_eq!(s.jwt_audience, None);
    assert_eq!(s.password_hash_scheme, HashScheme::Argon2id);
    assert!(s.rate_limit_enabled);
    assert!(s.trusted_proxies.is_empty());
    assert_eq!(s.host, IpAddr::V4(Ipv4Addr::LOCALHOST));
    assert_eq!(s.port, 8000);
    assert_eq!(
        s.cors_origins,
        ["http://localhost:3000", "http://localhost:8080"]
    );
    assert_eq!(s.log_level, "info");
    assert_eq!(s.log_format, LogFormat::Json);
    assert_eq!(s.request_id_header, "X-Request-ID");
    assert_eq!(s.api_title, "Auth Service");
    assert_eq!(s.api_description, "Authentication service");
    assert_eq!(s.api_version, "1.0.0");
    assert_eq!(s.max_body_bytes, 16_384);
    assert_eq!(s.request_timeout, Duration::from_secs(5));
    assert_eq!(s.shutdown_timeout, Duration::from_secs(30));
    assert_eq!(s.bind_address().to_string(), "127.0.0.1:8000");
}

#[test]
fn every_variable_takes_a_good_value() {
    let secret = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef!";
    let s = load(&[
        ("DATABASE_URL", "postgres://app:pw@db:5432/auth"),
        ("DATABASE_MAX_CONNECTIONS", "20"),
        ("DATABASE_ACQUIRE_TIMEOUT_SECONDS", "2"),
        ("DATABASE_STARTUP_TIMEOUT_SECONDS", "0"),
        ("JWT_SECRET_KEY", secret),
        ("JWT_ALGORITHM", "hs512"),
        ("ACCESS_TOKEN_EXPIRE_MINUTES", "15"),
        ("REFRESH_TOKEN_EXPIRE_DAYS", "30"),
        ("DEVICE_TOKEN_DAYS", "30"),
        ("SESSION_IDLE_DAYS", "14"),
        ("MAX_SESSIONS_PER_USER", "10"),
        ("REFRESH_REUSE_GRACE_SECONDS", "0"),
        ("JWT_ISSUER", "auth.example.com"),
        ("JWT_AUDIENCE", "example-app"),
        ("PASSWORD_HASH_SCHEME", "BCRYPT"),
        ("RATE_LIMIT_ENABLED", "Off"),
        ("TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.10"),
        ("HOST", "0.0.0.0"),
        ("PORT", "0"),
        ("CORS_ORIGINS", "https://app.example.com"),
        ("LOG_LEVEL", "DEBUG"),
        ("LOG_FORMAT", "Pretty"),
        ("REQUEST_ID_HEADER", "X-Correlation-ID"),
        ("API_TITLE", "My Auth"),
        ("API_DESCRIPTION", "Sign-in for my apps"),
        ("API_VERSION", "2.1.0"),
        ("MAX_BODY_BYTES", "1024"),
        ("REQUEST_TIMEOUT_SECONDS", "3"),
        ("SHUTDOWN_TIMEOUT_SECONDS", "0"),
    ])
    .unwrap();
    assert_eq!(s.database.url(), "postgres://app:pw@db:5432/auth");
    assert_eq!(s.database_max_connections, Some(20));
    assert_eq!(s.database_acquire_timeout, Duration::from_secs(2));
    assert_eq!(s.database_startup_timeout, Duration::ZERO);
    assert_eq!(s.jwt_secret_key.as_ref().unwrap().expose_secret(), secret);
    assert_eq!(s.jwt_algorithm, JwtAlgorithm::HS512);
    assert_eq!(s.access_token_ttl, time::Duration::minutes(15));
    assert_eq!(s.refresh_token_ttl, time::Duration::days(30));
    assert_eq!(s.device_token_ttl, time::Duration::days(30));
    assert_eq!(s.session_idle, time::Duration::days(14));
    assert_eq!(s.max_sessions_per_user, 10);
    assert_eq!(s.refresh_reuse_grace, time::Duration::ZERO);
    assert_eq!(s.jwt_issuer.as_deref(), Some("auth.example.com"));
    assert_eq!(s.jwt_audience.as_deref(), Some("example-app"));
    assert_eq!(s.password_hash_scheme, HashScheme::Bcrypt);
    assert!(!s.rate_limit_enabled);
    let proxies: Vec<String> = s.trusted_proxies.iter().map(ToString::to_string).collect();
    assert_eq!(proxies, ["10.0.0.0/8", "192.168.1.10/32"]);
    assert_eq!(s.bind_address().to_string(), "0.0.0.0:0");
    assert_eq!(s.cors_origins, ["https://app.example.com"]);
    assert_eq!(s.log_level, "debug");
    assert_eq!(s.log_format, LogFormat::Pretty);
    assert_eq!(s.request_id_header, "X-Correlation-ID");
    assert_eq!(s.api_title, "My Auth");
    assert_eq!(s.api_description, "Sign-in for my apps");
    assert_eq!(s.api_version, "2.1.0");
    assert_eq!(s.max_body_bytes, 1024);
    assert_eq!(s.request_timeout, Duration::from_secs(3));
    assert_eq!(s.shutdown_timeout, Duration::ZERO);
}

#[test]
fn every_variable_refuses_a_bad_value_with_one_line_naming_it() {
    let cases = [
        ("DATABASE_URL", "mysql://db/auth"),
        ("DATABASE_URL", "sqlite://"),
        ("DATABASE_MAX_CONNECTIONS", "0"),
        ("DATABASE_MAX_CONNECTIONS", "many"),
        ("DATABASE_ACQUIRE_TIMEOUT_SECONDS", "0"),
        ("DATABASE_STARTUP_TIMEOUT_SECONDS", "-1"),
        ("JWT_SECRET_KEY", "short"),
        ("JWT_ALGORITHM", "RS256"),
        ("JWT_ALGORITHM", "none"),
        ("ACCESS_TOKEN_EXPIRE_MINUTES", "0"),
        ("ACCESS_TOKEN_EXPIRE_MINUTES", "1.5"),
        ("REFRESH_TOKEN_EXPIRE_DAYS", "0"),
        ("DEVICE_TOKEN_DAYS", "0"),
        ("REFRESH_TOKEN_EXPIRE_DAYS", "99999999999"),
        ("REFRESH_REUSE_GRACE_SECONDS", "-5"),
        ("PASSWORD_HASH_SCHEME", "md5"),
        ("RATE_LIMIT_ENABLED", "maybe"),
        ("TRUSTED_PROXIES", "10.0.0.1,proxy.local"),
        ("TRUSTED_PROXIES", "10.0.0.0/33"),
        ("HOST", "example.com"),
        ("PORT", "abc"),
        ("PORT", "65536"),
        ("CORS_ORIGINS", "*"),
        ("CORS_ORIGINS", "http://localhost:3000/"),
        (
            "CORS_ORIGINS",
            "http://ok.example.com,ftp://bad.example.com",
        ),
        ("LOG_LEVEL", "verbose"),
        ("LOG_LEVEL", "auth_service=loud"),
        ("LOG_FORMAT", "xml"),
        ("REQUEST_ID_HEADER", "X Request ID"),
        ("REQUEST_ID_HEADER", "X-Request-ID\nInjected: 1"),
        ("MAX_BODY_BYTES", "0"),
        ("REQUEST_TIMEOUT_SECONDS", "0"),
        ("SHUTDOWN_TIMEOUT_SECONDS", "soon"),
        ("JWT_ALGORITHM", "RS256"),
        ("JWT_ALGORITHM", "ES384"),
        (
            "JWT_PREVIOUS_SECRET_KEYS",
            "0123456789abcdef0123456789abcdef,short",
        ),
        ("JWT_KEY_ENCRYPTION_KEY", "short"),
        ("JWT_KEY_ROTATION_DAYS", "0"),
        ("JWKS_MAX_AGE_SECONDS", "0"),
        ("JWT_KEY_RELOAD_SECONDS", "0"),
    ];
    for (var, value) in cases {
        let err = load(&[(var, value)]).expect_err(var);
        let shown = err.to_string();
        assert_eq!(err.var(), var, "{shown}");
        assert!(shown.contains(var), "{shown}");
        assert!(!shown.contains('\n'), "{shown}");
    }
}

#[test]
fn a_bad_port_reads_as_documented() {
    let err = load(&[("PORT", "abc")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"invalid PORT="abc": expected an integer from 0 to 65535"#
    );
}

#[test]
fn a_short_secret_is_refused_without_showing_it() {
    let err = load(&[("JWT_SECRET_KEY", "hunter2-secret")]).unwrap_err();
    let shown = err.to_string();
    assert_eq!(
        shown,
        "invalid JWT_SECRET_KEY: must be at least 32 bytes (got 14)"
    );
    assert!(!format!("{err:?}").contains("hunter2"));
}

#[test]
fn a_secret_is_kept_exactly_as_given() {
    let secret = "  spaces-at-both-ends-are-part-of-the-key  ";
    let s = load(&[("JWT_SECRET_KEY", secret)]).unwrap();
    assert_eq!(s.jwt_secret_key.unwrap().expose_secret(), secret);
}

#[test]
fn a_bad_database_url_is_shown_without_its_password() {
    let err = load(&[("DATABASE_URL", "mysql://app:s3cret@db/auth")]).unwrap_err();
    let shown = err.to_string();
    assert!(shown.contains("DATABASE_URL"), "{shown}");
    assert!(shown.contains("mysql://app:***@db/auth"), "{shown}");
    assert!(!shown.contains("s3cret"), "{shown}");
}

#[test]
fn debug_shows_neither_the_secret_nor_the_database_password() {
    let secret = "a-very-secret-signing-key-of-40-bytes!!!";
    let s = load(&[
        ("JWT_SECRET_KEY", secret),
        ("DATABASE_URL", "postgres://app:db-pass-123@db/auth"),
    ])
    .unwrap();
    let shown = format!("{s:?}");
    assert!(!shown.contains(secret), "{shown}");
    assert!(!shown.contains("db-pass-123"), "{shown}");
    assert!(shown.contains("postgres://app:***@db/auth"), "{shown}");
    assert!(shown.contains("REDACTED"), "{shown}");
}

#[test]
fn empty_and_blank_values_count_as_unset() {
    let s = load(&[
        ("DATABASE_URL", ""),
        ("JWT_SECRET_KEY", ""),
        ("JWT_ISSUER", "   "),
        ("JWT_AUDIENCE", ""),
        ("PORT", " "),
        ("LOG_LEVEL", ""),
        ("API_TITLE", ""),
    ])
    .unwrap();
    assert_eq!(s.database.url(), "sqlite://auth.db");
    assert!(s.jwt_secret_key.is_none());
    assert_eq!(s.jwt_issuer, None);
    assert_eq!(s.jwt_audience, None);
    assert_eq!(s.port, 8000);
    assert_eq!(s.log_level, "info");
    assert_eq!(s.api_title, "Auth Service");
}

#[test]
fn surrounding_white_space_is_trimmed() {
    let s = load(&[
        ("PORT", " 9000\n"),
        ("HOST", " localhost "),
        ("JWT_ISSUER", " issuer "),
        ("DATABASE_URL", " sqlite://data.db "),
    ])
    .unwrap();
    assert_eq!(s.bind_address().to_string(), "127.0.0.1:9000");
    assert_eq!(s.jwt_issuer.as_deref(), Some("issuer"));
    assert_eq!(s.database.url(), "sqlite://data.db");
}

#[test]
fn an_empty_cors_list_allows_no_origin() {
    assert!(
        load(&[("CORS_ORIGINS", "")])
            .unwrap()
            .cors_origins
            .is_empty()
    );
}

#[test]
fn rate_limiting_reads_every_spelling_of_a_boolean() {
    for (text, expected) in [
        ("true", true),
        ("TRUE", true),
        ("1", true),
        ("yes", true),
        ("On", true),
        ("false", false),
        ("0", false),
        ("No", false),
        ("off", false),
    ] {
        let s = load(&[("RATE_LIMIT_ENABLED", text)]).unwrap();
        assert_eq!(s.rate_limit_enabled, expected, "{text}");
    }
}

#[test]
fn a_log_filter_directive_is_kept_as_given() {
    let filter = "info,auth_service=debug,actix_web=warn";
    assert_eq!(load(&[("LOG_LEVEL", filter)]).unwrap().log_level, filter);
    assert_eq!(load(&[("LOG_LEVEL", "Warn")]).unwrap().log_level, "warn");
}

#[test]
fn ipv6_hosts_bind_with_brackets() {
    let s = load(&[("HOST", "::1"), ("PORT", "8443")]).unwrap();
    assert_eq!(s.bind_address().to_string(), "[::1]:8443");
}

#[test]
fn test_settings_use_a_free_port_and_a_fixed_key() {
    let s = Settings::for_tests();
    assert_eq!(s.port, 0);
    assert!(s.jwt_secret_key.as_ref().unwrap().expose_secret().len() >= 32);
    assert_eq!(s.log_format, LogFormat::Pretty);
    assert!(s.rate_limit_enabled);
    assert_eq!(s.database.url(), "sqlite://auth.db");
}

#[test]
fn throttling_limits_default_to_the_documented_values_and_can_be_changed() {
    let defaults = load(&[]).unwrap().throttle;
    assert_eq!(defaults.ip_account_max_failures, 5);
    assert_eq!(defaults.ip_account_window, time::Duration::minutes(15));
    assert_eq!(defaults.account_delay_after, 10);
    assert_eq!(defaults.account_lock_after, 100);
    assert_eq!(
        (
            defaults.ip_login_budget,
            defaults.ip_register_budget,
            defaults.ip_refresh_budget
        ),
        (300, 100, 1500)
    );
    assert_eq!(defaults.ip_budget_window, time::Duration::minutes(5));
    let s = load(&[
        ("RATE_LIMIT_LOGIN_FAILURES_PER_IP_ACCOUNT", "3"),
        ("RATE_LIMIT_LOGIN_FAILURE_WINDOW_SECONDS", "60"),
        ("RATE_LIMIT_ACCOUNT_DELAY_AFTER", "20"),
        ("RATE_LIMIT_ACCOUNT_LOCK_AFTER", "50"),
        ("RATE_LIMIT_IP_LOGINS", "7"),
        ("RATE_LIMIT_IP_REGISTRATIONS", "8"),
        ("RATE_LIMIT_IP_REFRESHES", "9"),
        ("RATE_LIMIT_IP_WINDOW_SECONDS", "30"),
        ("RATE_LIMIT_BACKOFF_SECONDS", "2"),
        ("RATE_LIMIT_MAX_BACKOFF_SECONDS", "600"),
        ("RATE_LIMIT_ACCOUNT_MAX_DELAY_SECONDS", "120"),
    ])
    .unwrap()
    .throttle;
    assert_eq!(s.ip_account_max_failures, 3);
    assert_eq!(s.ip_account_window, time::Duration::minutes(1));
    assert_eq!((s.account_delay_after, s.account_lock_after), (20, 50));
    assert_eq!(
        (s.ip_login_budget, s.ip_register_budget, s.ip_refresh_budget),
        (7, 8, 9)
    );
    assert_eq!(s.ip_budget_window, time::Duration::seconds(30));
    assert_eq!(s.ip_account_backoff, time::Duration::seconds(2));
    assert_eq!(s.ip_account_max_backoff, time::Duration::minutes(10));
    assert_eq!(s.account_max_delay, time::Duration::minutes(2));
}

#[test]
fn bad_throttling_limits_name_their_variable() {
    for var in [
        "RATE_LIMIT_LOGIN_FAILURES_PER_IP_ACCOUNT",
        "RATE_LIMIT_LOGIN_FAILURE_WINDOW_SECONDS",
        "RATE_LIMIT_ACCOUNT_DELAY_AFTER",
        "RATE_LIMIT_ACCOUNT_LOCK_AFTER",
        "RATE_LIMIT_IP_LOGINS",
        "RATE_LIMIT_IP_REGISTRATIONS",
        "RATE_LIMIT_IP_REFRESHES",
        "RATE_LIMIT_IP_WINDOW_SECONDS",
        "RATE_LIMIT_BACKOFF_SECONDS",
        "RATE_LIMIT_MAX_BACKOFF_SECONDS",
        "RATE_LIMIT_ACCOUNT_MAX_DELAY_SECONDS",
    ] {
        for bad in ["0", "-1", "many"] {
            let err = load(&[(var, bad)]).unwrap_err();
            assert!(
                err.to_string().starts_with(&format!("invalid {var}=")),
                "{err}"
            );
        }
    }
}

#[test]
fn a_request_timeout_not_below_the_reuse_grace_is_refused() {
    for (timeout, grace) in [("10", None), ("10", Some("10")), ("30", Some("20"))] {
        let mut vars = vec![("REQUEST_TIMEOUT_SECONDS", timeout)];
        vars.extend(grace.map(|g| ("REFRESH_REUSE_GRACE_SECONDS", g)));
        let err = load(&vars).unwrap_err();
        let shown = err.to_string();
        assert_eq!(err.var(), "REQUEST_TIMEOUT_SECONDS", "{shown}");
        assert!(shown.contains("REFRESH_REUSE_GRACE_SECONDS"), "{shown}");
        assert!(!shown.contains('\n'), "{shown}");
    }
    assert_eq!(
        load(&[
            ("REQUEST_TIMEOUT_SECONDS", "10"),
            ("REFRESH_REUSE_GRACE_SECONDS", "10")
        ])
        .unwrap_err()
        .to_string(),
        "REQUEST_TIMEOUT_SECONDS must be below REFRESH_REUSE_GRACE_SECONDS: 10s is not below \
         10s, so a refresh retried after a timeout could miss the grace"
    );
    let fine = load(&[("REQUEST_TIMEOUT_SECONDS", "9")]).unwrap();
    assert_eq!(fine.request_timeout, Duration::from_secs(9));
    let no_grace = load(&[
        ("REQUEST_TIMEOUT_SECONDS", "30"),
        ("REFRESH_REUSE_GRACE_SECONDS", "0"),
    ]);
    assert!(
        no_grace.is_ok(),
        "without a grace there is nothing to retry into"
    );
}

#[test]
fn hs384_and_hs512_refuse_keys_shorter_than_their_hash() {
    let key = |n: usize| "k".repeat(n);
    for (algorithm, min) in [("HS384", 48), ("HS512", 64)] {
        let short = key(min - 1);
        let err = load(&[("JWT_ALGORITHM", algorithm), ("JWT_SECRET_KEY", &short)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "invalid JWT_SECRET_KEY: must be at least {min} bytes for JWT_ALGORITHM={algorithm} \
                 (got {})",
                min - 1
            )
        );
        let long = key(min);
        let s = load(&[("JWT_ALGORITHM", algorithm), ("JWT_SECRET_KEY", &long)]).unwrap();
        assert_eq!(s.jwt_secret_key.unwrap().expose_secret().len(), min);
    }
    assert!(
        load(&[("JWT_SECRET_KEY", &key(32))]).is_ok(),
        "HS256 takes 32 bytes"
    );
}

#[test]
fn account_locks_last_an_hour_by_default_and_zero_keeps_them_until_an_unlock() {
    let defaults = load(&[]).unwrap().throttle;
    assert_eq!(
        defaults.account_lock_duration,
        Some(time::Duration::hours(1))
    );
    let var = "RATE_LIMIT_ACCOUNT_LOCK_SECONDS";
    let s = load(&[(var, "90")]).unwrap().throttle;
    assert_eq!(s.account_lock_duration, Some(time::Duration::seconds(90)));
    assert_eq!(
        load(&[(var, "0")]).unwrap().throttle.account_lock_duration,
        None
    );
    for bad in ["-1", "31536001", "soon"] {
        let err = load(&[(var, bad)]).unwrap_err();
        assert!(
            err.to_string().starts_with(&format!("invalid {var}=")),
            "{err}"
        );
    }
}

#[test]
fn network_budgets_default_to_ten_times_the_address_ones() {
    let defaults = load(&[]).unwrap().throttle;
    assert_eq!(
        (
            defaults.network_login_budget,
            defaults.network_register_budget,
            defaults.network_refresh_budget
        ),
        (3000, 1000, 15_000)
    );
    let s = load(&[
        ("RATE_LIMIT_NETWORK_LOGINS", "70"),
        ("RATE_LIMIT_NETWORK_REGISTRATIONS", "80"),
        ("RATE_LIMIT_NETWORK_REFRESHES", "90"),
    ])
    .unwrap()
    .throttle;
    assert_eq!(
        (
            s.network_login_budget,
            s.network_register_budget,
            s.network_refresh_budget
        ),
        (70, 80, 90)
    );
    for var in [
        "RATE_LIMIT_NETWORK_LOGINS",
        "RATE_LIMIT_NETWORK_REGISTRATIONS",
        "RATE_LIMIT_NETWORK_REFRESHES",
    ] {
        let err = load(&[(var, "0")]).unwrap_err();
        assert!(
            err.to_string().starts_with(&format!("invalid {var}=")),
            "{err}"
        );
    }
}

#[test]
fn password_min_length_defaults_to_8_and_accepts_8_to_64() {
    assert_eq!(load(&[]).unwrap().password_min_length, 8);
    let var = "PASSWORD_MIN_LENGTH";
    assert_eq!(load(&[(var, "15")]).unwrap().password_min_length, 15);
    assert_eq!(load(&[(var, "64")]).unwrap().password_min_length, 64);
    for bad in ["7", "65", "0", "long"] {
        let err = load(&[(var, bad)]).unwrap_err();
        assert!(
            err.to_string().starts_with(&format!("invalid {var}=")),
            "{err}"
        );
    }
}

#[test]
fn argon2_parameters_default_to_owasp_and_refuse_anything_weaker() {
    let s = load(&[]).unwrap();
    assert_eq!(
        (s.argon2.m_cost_kib, s.argon2.t_cost, s.argon2.p_cost),
        (19_456, 2, 1)
    );
    assert_eq!(s.hashing_max_memory_kib, 65_536);
    let s = load(&[
        ("ARGON2_MEMORY_KIB", "7168"),
        ("ARGON2_ITERATIONS", "5"),
        ("ARGON2_PARALLELISM", "2"),
    ])
    .unwrap();
    assert_eq!(
        (s.argon2.m_cost_kib, s.argon2.t_cost, s.argon2.p_cost),
        (7_168, 5, 2)
    );
    for (vars, var) in [
        (&[("ARGON2_MEMORY_KIB", "7167")][..], "ARGON2_MEMORY_KIB"),
        (&[("ARGON2_ITERATIONS", "0")][..], "ARGON2_ITERATIONS"),
        (&[("ARGON2_PARALLELISM", "0")][..], "ARGON2_PARALLELISM"),
        // 7168 KiB needs 5 passes to reach OWASP's minimum work.
        (
            &[("ARGON2_MEMORY_KIB", "7168"), ("ARGON2_ITERATIONS", "4")][..],
            "ARGON2_ITERATIONS",
        ),
        (&[("ARGON2_ITERATIONS", "1")][..], "ARGON2_ITERATIONS"),
    ] {
        let err = load(vars).unwrap_err();
        assert!(
            err.to_string().starts_with(&format!("invalid {var}=")),
            "{err}"
        );
    }
    let err = load(&[("ARGON2_MEMORY_KIB", "70000")]).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("ARGON2_MEMORY_KIB must be below HASHING_MAX_MEMORY_KIB"),
        "{err}"
    );
    let s = load(&[
        ("ARGON2_MEMORY_KIB", "70000"),
        ("HASHING_MAX_MEMORY_KIB", "70000"),
    ])
    .unwrap();
    assert_eq!(s.hashing_max_memory_kib, 70_000);
}

#[test]
fn hashing_threads_set_the_default_queue_and_each_limit_can_be_set() {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let s = load(&[]).unwrap();
    assert_eq!(s.hashing.threads, cores);
    assert_eq!(s.hashing.queue_depth, 64 * cores);
    assert_eq!(s.hashing.queue_timeout, Duration::from_secs(2));
    let s = load(&[("HASHING_THREADS", "3")]).unwrap();
    assert_eq!((s.hashing.threads, s.hashing.queue_depth), (3, 192));
    let s = load(&[
        ("HASHING_THREADS", "1"),
        ("HASHING_QUEUE_DEPTH", "0"),
        ("HASHING_QUEUE_TIMEOUT_MS", "250"),
    ])
    .unwrap();
    assert_eq!(s.hashing.threads, 1);
    assert_eq!(s.hashing.queue_depth, 0);
    assert_eq!(s.hashing.queue_timeout, Duration::from_millis(250));
    for (var, bad) in [
        ("HASHING_THREADS", "0"),
        ("HASHING_THREADS", "many"),
        ("HASHING_QUEUE_DEPTH", "-1"),
        ("HASHING_QUEUE_TIMEOUT_MS", "0"),
    ] {
        let err = load(&[(var, bad)]).unwrap_err();
        assert!(
            err.to_string().starts_with(&format!("invalid {var}=")),
            "{err}"
        );
    }
}

#[test]
fn session_idle_days_and_max_sessions_per_user_take_their_ranges() {
    let s = load(&[("SESSION_IDLE_DAYS", "7"), ("MAX_SESSIONS_PER_USER", "3")]).unwrap();
    assert_eq!(s.session_idle, time::Duration::days(7));
    assert_eq!(s.max_sessions_per_user, 3);
    for (var, bad) in [
        ("SESSION_IDLE_DAYS", "0"),
        ("SESSION_IDLE_DAYS", "3651"),
        ("SESSION_IDLE_DAYS", "a month"),
        ("MAX_SESSIONS_PER_USER", "0"),
        ("MAX_SESSIONS_PER_USER", "10001"),
        ("MAX_SESSIONS_PER_USER", "-1"),
    ] {
        let err = load(&[(var, bad)]).unwrap_err();
        assert!(
            err.to_string().starts_with(&format!("invalid {var}=")),
            "{err}"
        );
    }
}

#[test]
fn signing_key_settings_take_good_values() {
    let old = "0123456789abcdef0123456789abcdef";
    let other = "fedcba9876543210fedcba9876543210";
    let s = load(&[
        ("JWT_ALGORITHM", "eddsa"),
        ("JWT_PREVIOUS_SECRET_KEYS", &format!("{old}, {other}")),
        (
            "JWT_KEY_ENCRYPTION_KEY",
            "a key-encryption key of 32+ bytes!",
        ),
        ("JWT_KEY_ROTATION_DAYS", "7"),
        ("JWKS_MAX_AGE_SECONDS", "60"),
        ("JWT_KEY_RELOAD_SECONDS", "30"),
    ])
    .unwrap();
    assert_eq!(s.jwt_algorithm, JwtAlgorithm::EdDSA);
    let previous: Vec<_> = s
        .jwt_previous_secret_keys
        .iter()
        .map(|k| k.expose_secret().to_owned())
        .collect();
    assert_eq!(previous, [old, other]);
    assert!(s.jwt_key_encryption_key.is_some());
    assert_eq!(s.jwt_key_rotation, time::Duration::days(7));
    assert_eq!(s.jwks_max_age, time::Duration::seconds(60));
    assert_eq!(s.jwt_key_reload, time::Duration::seconds(30));
    assert_eq!(
        load(&[("JWT_ALGORITHM", "ES256")]).unwrap().jwt_algorithm,
        JwtAlgorithm::ES256
    );
    let defaults = load(&[]).unwrap();
    assert!(defaults.jwt_previous_secret_keys.is_empty());
    assert_eq!(defaults.jwt_key_rotation, time::Duration::days(30));
    assert_eq!(defaults.jwks_max_age, time::Duration::seconds(300));
    assert_eq!(defaults.jwt_key_reload, time::Duration::seconds(60));
    let shown = format!("{s:?}");
    assert!(
        !shown.contains(old) && !shown.contains("key-encryption key of"),
        "{shown}"
    );
}

#[test]
fn a_reload_slower_than_the_publication_delay_is_refused() {
    let err = load(&[
        ("JWKS_MAX_AGE_SECONDS", "10"),
        ("JWT_KEY_RELOAD_SECONDS", "21"),
    ])
    .unwrap_err();
    assert_eq!(err.var(), "JWT_KEY_RELOAD_SECONDS", "{err}");
    assert!(
        load(&[
            ("JWKS_MAX_AGE_SECONDS", "10"),
            ("JWT_KEY_RELOAD_SECONDS", "20")
        ])
        .is_ok()
    );
}
