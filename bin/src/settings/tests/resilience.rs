//! Tests of the settings that decide how the service meets a failing database: the circuit
//! breaker and PostgreSQL's statement timeout.

use std::time::Duration;

use crate::settings::Settings;

/// Loads settings with `vars` set and nothing else.
fn load(vars: &[(&str, &str)]) -> Result<Settings, String> {
    Settings::from_lookup(|key| {
        vars.iter()
            .find(|(name, _)| *name == key)
            .map(|(_, value)| (*value).to_owned())
    })
    .map_err(|err| err.to_string())
}

#[test]
fn the_breaker_and_statement_timeout_defaults_are_documented_ones() {
    let s = load(&[]).unwrap();
    assert_eq!(s.db_breaker_failures, 5);
    assert_eq!(s.db_breaker_recovery, Duration::from_secs(10));
    assert_eq!(s.database_statement_timeout, Some(Duration::from_secs(3)));
}

#[test]
fn the_breaker_and_statement_timeout_take_good_values() {
    let s = load(&[
        ("DB_BREAKER_FAILURES", "2"),
        ("DB_BREAKER_RECOVERY_SECONDS", "1"),
        ("DATABASE_STATEMENT_TIMEOUT_MS", "250"),
    ])
    .unwrap();
    assert_eq!(s.db_breaker_failures, 2);
    assert_eq!(s.db_breaker_recovery, Duration::from_secs(1));
    assert_eq!(
        s.database_statement_timeout,
        Some(Duration::from_millis(250))
    );
}

#[test]
fn a_zero_statement_timeout_means_none() {
    let s = load(&[("DATABASE_STATEMENT_TIMEOUT_MS", "0")]).unwrap();
    assert_eq!(s.database_statement_timeout, None);
}

#[test]
fn bad_breaker_and_statement_timeout_values_are_refused_by_name() {
    for (var, value) in [
        ("DB_BREAKER_FAILURES", "0"),
        ("DB_BREAKER_FAILURES", "five"),
        ("DB_BREAKER_RECOVERY_SECONDS", "0"),
        ("DB_BREAKER_RECOVERY_SECONDS", "3601"),
        ("DATABASE_STATEMENT_TIMEOUT_MS", "-1"),
        ("DATABASE_STATEMENT_TIMEOUT_MS", "1.5"),
    ] {
        let err = load(&[(var, value)]).unwrap_err();
        assert!(
            err.starts_with(&format!("invalid {var}=\"{value}\"")),
            "{var}={value}: {err}"
        );
    }
}
