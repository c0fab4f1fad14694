//! The seed's ten breaker cases, plus the failure predicate and the shrinking retry-after,
//! through the public API with a manual clock.

use std::cell::Cell;
use std::time::Duration;

use auth_resilience::{CircuitError, CircuitState, HALF_OPEN_RETRY_AFTER};
use futures::executor::block_on;

use crate::support::{DbError, THRESHOLD, TIMEOUT, answer, breaker, half_open, is_down, trip};

#[test]
fn a_new_breaker_is_closed_with_zero_counts() {
    let (breaker, _) = breaker();
    let snap = breaker.snapshot();
    assert_eq!(breaker.name(), "db");
    assert_eq!(snap.state, CircuitState::Closed);
    assert_eq!((snap.consecutive_failures, snap.total_failures), (0, 0));
    assert_eq!((snap.total_successes, snap.total_rejections), (0, 0));
    assert_eq!(snap.retry_after, None);
}

#[test]
fn a_closed_breaker_lets_every_call_through() {
    let (breaker, _) = breaker();
    let ran = Cell::new(0);
    for i in 0..20 {
        let result = if i % 2 == 0 {
            Ok(1)
        } else {
            Err(DbError::Down)
        };
        let outcome = block_on(breaker.call(
            async {
                ran.set(ran.get() + 1);
                result
            },
            is_down,
        ));
        assert!(!matches!(outcome, Err(CircuitError::Open { .. })));
    }
    assert_eq!(ran.get(), 20);
    assert_eq!(breaker.state(), CircuitState::Closed);
}

#[test]
fn reaching_the_failure_threshold_opens_the_circuit() {
    let (breaker, _) = breaker();
    for _ in 1..THRESHOLD {
        assert!(matches!(
            answer(&breaker, Err(DbError::Down)),
            Err(CircuitError::Inner(DbError::Down))
        ));
        assert_eq!(breaker.state(), CircuitState::Closed);
    }
    let _ = answer(&breaker, Err(DbError::Down));
    assert_eq!(breaker.state(), CircuitState::Open);
}

#[test]
fn an_open_breaker_rejects_calls_without_running_them() {
    let (breaker, _) = breaker();
    trip(&breaker);
    let ran = Cell::new(false);
    let outcome = block_on(breaker.call(
        async {
            ran.set(true);
            Ok::<_, DbError>(1)
        },
        is_down,
    ));
    assert!(matches!(outcome, Err(CircuitError::Open { retry_after }) if retry_after == TIMEOUT));
    let outcome = breaker.call_sync(
        || {
            ran.set(true);
            Ok::<_, DbError>(1)
        },
        is_down,
    );
    assert!(outcome.unwrap_err().is_open());
    assert!(!ran.get());
    assert_eq!(breaker.snapshot().total_rejections, 2);
}

#[test]
fn an_open_breaker_turns_half_open_once_the_timeout_has_passed() {
    let (breaker, clock) = breaker();
    trip(&breaker);
    clock.advance(TIMEOUT.saturating_sub(Duration::from_millis(1)));
    assert_eq!(breaker.state(), CircuitState::Open);
    clock.advance(Duration::from_millis(1));
    assert_eq!(breaker.state(), CircuitState::HalfOpen);
    assert_eq!(breaker.snapshot().retry_after, None);
}

#[test]
fn a_half_open_breaker_lets_exactly_one_call_through() {
    let (breaker, _) = half_open();
    let nested_ran = Cell::new(false);
    let trial = breaker.call_sync(
        || {
            let nested = breaker.call_sync(
                || {
                    nested_ran.set(true);
                    Ok::<_, DbError>(2)
                },
                is_down,
            );
            assert!(matches!(nested, Err(CircuitError::Open { retry_after })
                if retry_after == HALF_OPEN_RETRY_AFTER));
            assert_eq!(breaker.snapshot().retry_after, Some(HALF_OPEN_RETRY_AFTER));
            Ok(1)
        },
        is_down,
    );
    assert_eq!(trial.unwrap(), 1);
    assert!(!nested_ran.get());
}

#[test]
fn a_successful_trial_closes_the_circuit_and_clears_the_count() {
    let (breaker, _) = half_open();
    assert_eq!(answer(&breaker, Ok(1)).unwrap(), 1);
    assert_eq!(breaker.state(), CircuitState::Closed);
    assert_eq!(breaker.snapshot().consecutive_failures, 0);
    for _ in 1..THRESHOLD {
        let _ = answer(&breaker, Err(DbError::Down));
    }
    assert_eq!(
        breaker.state(),
        CircuitState::Closed,
        "needs a full threshold again"
    );
}

#[test]
fn a_failed_trial_reopens_the_circuit_for_a_fresh_timeout() {
    let (breaker, clock) = half_open();
    let _ = answer(&breaker, Err(DbError::Down));
    assert_eq!(breaker.state(), CircuitState::Open);
    assert_eq!(breaker.snapshot().retry_after, Some(TIMEOUT));
    clock.advance(TIMEOUT.saturating_sub(Duration::from_secs(1)));
    assert_eq!(breaker.state(), CircuitState::Open);
    clock.advance(Duration::from_secs(1));
    assert_eq!(breaker.state(), CircuitState::HalfOpen);
}

#[test]
fn failures_successes_and_rejections_are_counted() {
    let (breaker, _) = breaker();
    let _ = answer(&breaker, Err(DbError::Down));
    let _ = answer(&breaker, Err(DbError::Down));
    assert_eq!(breaker.snapshot().consecutive_failures, 2);
    let _ = answer(&breaker, Ok(1));
    assert_eq!(breaker.snapshot().consecutive_failures, 0);
    trip(&breaker);
    let _ = answer(&breaker, Ok(1));
    let snap = breaker.snapshot();
    assert_eq!(snap.consecutive_failures, THRESHOLD);
    assert_eq!(snap.total_failures, 2 + u64::from(THRESHOLD));
    assert_eq!((snap.total_successes, snap.total_rejections), (1, 1));
}

#[test]
fn a_manual_reset_closes_the_circuit_and_clears_the_counts() {
    let (breaker, _) = breaker();
    trip(&breaker);
    let _ = answer(&breaker, Ok(1));
    breaker.reset();
    let snap = breaker.snapshot();
    assert_eq!(snap.state, CircuitState::Closed);
    assert_eq!((snap.consecutive_failures, snap.total_failures), (0, 0));
    assert_eq!((snap.total_successes, snap.total_rejections), (0, 0));
    assert_eq!(answer(&breaker, Ok(5)).unwrap(), 5);
}

#[test]
fn errors_the_predicate_does_not_count_are_successes_that_never_trip_it() {
    let (breaker, _) = breaker();
    for _ in 0..10 {
        let outcome = answer(&breaker, Err(DbError::Duplicate));
        assert!(matches!(
            outcome,
            Err(CircuitError::Inner(DbError::Duplicate))
        ));
    }
    let _ = answer(&breaker, Err(DbError::Down));
    let _ = answer(&breaker, Err(DbError::Down));
    let _ = answer(&breaker, Err(DbError::Duplicate));
    let snap = breaker.snapshot();
    assert_eq!(
        (snap.state, snap.consecutive_failures),
        (CircuitState::Closed, 0)
    );
    assert_eq!((snap.total_successes, snap.total_failures), (11, 2));

    let (breaker, _) = half_open();
    let _ = answer(&breaker, Err(DbError::Duplicate));
    assert_eq!(
        breaker.state(),
        CircuitState::Closed,
        "the database answered the trial"
    );
}

#[test]
fn retry_after_shrinks_as_the_clock_advances() {
    let (breaker, clock) = breaker();
    trip(&breaker);
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(answer(&breaker, Ok(1)).unwrap_err().retry_after().unwrap());
        clock.advance(Duration::from_secs(25));
    }
    assert_eq!(
        seen,
        [TIMEOUT, Duration::from_secs(35), Duration::from_secs(10)]
    );
}
