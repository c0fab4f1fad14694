//! Shared fixtures: a breaker on a manual clock and a fake repository error.

use std::sync::Arc;
use std::time::Duration;

use auth_resilience::{BreakerConfig, CircuitBreaker, CircuitError, ManualMonotonicClock};

/// The recovery timeout of every test breaker.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(60);
/// The failure threshold of every test breaker.
pub(crate) const THRESHOLD: u32 = 3;

/// A stand-in for a repository error.
#[derive(Debug, PartialEq)]
pub(crate) enum DbError {
    /// An outage: trips the breaker.
    Down,
    /// An answer from a healthy database: never trips it.
    Duplicate,
}

/// The predicate a repository caller would pass: only outages count as failures.
pub(crate) fn is_down(err: &DbError) -> bool {
    matches!(err, DbError::Down)
}

/// A closed breaker named `db` and the manual clock it reads.
pub(crate) fn breaker() -> (CircuitBreaker, ManualMonotonicClock) {
    let clock = ManualMonotonicClock::new();
    let config = BreakerConfig {
        failure_threshold: THRESHOLD,
        recovery_timeout: TIMEOUT,
    };
    let breaker = CircuitBreaker::with_clock("db", config, Arc::new(clock.clone()));
    (breaker, clock)
}

/// One synchronous call that returns `result` if admitted.
pub(crate) fn answer(
    breaker: &CircuitBreaker,
    result: Result<u8, DbError>,
) -> Result<u8, CircuitError<DbError>> {
    breaker.call_sync(|| result, is_down)
}

/// Opens the breaker with exactly `THRESHOLD` outages.
pub(crate) fn trip(breaker: &CircuitBreaker) {
    for _ in 0..THRESHOLD {
        let _ = answer(breaker, Err(DbError::Down));
    }
}

/// A breaker whose recovery timeout has just passed.
pub(crate) fn half_open() -> (CircuitBreaker, ManualMonotonicClock) {
    let (breaker, clock) = breaker();
    trip(&breaker);
    clock.advance(TIMEOUT);
    (breaker, clock)
}
