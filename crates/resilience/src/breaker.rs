//! The circuit breaker callers share: admission, outcome accounting and state-change logs
//! around the [`Machine`].

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use crate::breaker_metrics::BreakerMetrics;
use crate::call::Call;
use crate::machine::{Machine, Transition};
use crate::permit::{Permit, classify};
use crate::{
    BreakerConfig, BreakerSnapshot, CircuitError, CircuitState, MonotonicClock,
    SystemMonotonicClock,
};

/// Stops calling a dependency that keeps failing, and probes it again later.
///
/// - **Closed**: every call runs. `failure_threshold` consecutive failures open the circuit.
/// - **Open**: calls are refused at once with [`CircuitError::Open`], whose `retry_after` is
///   the time left of `recovery_timeout`; the operation is never run (a future is dropped
///   unpolled).
/// - **Half-open**: once `recovery_timeout` has passed, exactly one trial call runs; everyone
///   else is refused with [`HALF_OPEN_RETRY_AFTER`](crate::HALF_OPEN_RETRY_AFTER). A trial
///   success closes the circuit and clears the count; a trial failure opens it for a fresh
///   `recovery_timeout`. A trial that is cancelled or panics frees its slot for the next caller.
///
/// What counts as a failure is the caller's `is_failure` predicate. An error it rejects (a
/// duplicate user, a missing row) is an answer from a working dependency and is counted as a
/// success: it clears the consecutive failures and can close a half-open circuit.
///
/// The move from open to half-open happens lazily, on the first [`call`](Self::call),
/// [`state`](Self::state) or [`snapshot`](Self::snapshot) after the timeout. State sits in a
/// `std::sync::Mutex` that is never held across an `.await` and survives poisoning.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use auth_resilience::{BreakerConfig, CircuitBreaker, CircuitError, CircuitState, ManualMonotonicClock};
///
/// let clock = ManualMonotonicClock::new();
/// let config = BreakerConfig { failure_threshold: 1, recovery_timeout: Duration::from_secs(10) };
/// let breaker = CircuitBreaker::with_clock("db", config, Arc::new(clock.clone()));
///
/// let down = breaker.call_sync(|| Err::<(), _>("refused"), |_| true);
/// assert!(matches!(down, Err(CircuitError::Inner("refused"))));
/// assert_eq!(breaker.state(), CircuitState::Open);
///
/// clock.advance(Duration::from_secs(10));
/// assert_eq!(breaker.state(), CircuitState::HalfOpen);
/// assert_eq!(breaker.call_sync(|| Ok::<_, &str>(42), |_| true).unwrap(), 42);
/// assert_eq!(breaker.state(), CircuitState::Closed);
/// ```
#[derive(Debug)]
pub struct CircuitBreaker {
    name: String,
    clock: Arc<dyn MonotonicClock>,
    machine: Mutex<Machine>,
    metrics: BreakerMetrics,
}

impl CircuitBreaker {
    /// A closed breaker on the system clock; `name` labels its log lines.
    pub fn new(name: impl Into<String>, config: BreakerConfig) -> Self {
        Self::with_clock(name, config, Arc::new(SystemMonotonicClock))
    }

    /// A closed breaker that reads time from `clock`, such as a
    /// [`ManualMonotonicClock`](crate::ManualMonotonicClock) in tests.
    ///
    /// Its state and transitions are recorded through the `metrics` facade, as
    /// `auth_circuit_breaker_state` and `auth_circuit_breaker_transitions_total` labelled with
    /// `name`, in the recorder in force now (none: nothing is recorded).
    pub fn with_clock(
        name: impl Into<String>,
        config: BreakerConfig,
        clock: Arc<dyn MonotonicClock>,
    ) -> Self {
        let name = name.into();
        Self {
            metrics: BreakerMetrics::register(&name),
            name,
            clock,
            machine: Mutex::new(Machine::new(config)),
        }
    }

    /// The name given at creation.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `op` if the circuit lets it through, and counts its outcome.
    ///
    /// `is_failure` says which errors mean the dependency is unhealthy; any other error counts
    /// as a success. If the returned future is dropped while `op` runs, nothing is counted and
    /// a half-open trial slot is given back.
    ///
    /// # Errors
    ///
    /// [`CircuitError::Open`] without running `op` when the circuit is open, or half-open with
    /// its trial already running; [`CircuitError::Inner`] with `op`'s own error otherwise.
    pub fn call<T, E, Fut, F>(&self, op: Fut, is_failure: F) -> Call<'_, Fut, F>
    where
        Fut: Future<Output = Result<T, E>>,
        F: Fn(&E) -> bool,
    {
        Call {
            breaker: self,
            op,
            is_failure,
            permit: None,
            admitted: false,
        }
    }

    /// The blocking twin of [`call`](Self::call): runs `op` if the circuit lets it through.
    ///
    /// # Errors
    ///
    /// As for [`call`](Self::call): [`CircuitError::Open`] without running `op`, or
    /// [`CircuitError::Inner`] with `op`'s own error.
    pub fn call_sync<T, E>(
        &self,
        op: impl FnOnce() -> Result<T, E>,
        is_failure: impl Fn(&E) -> bool,
    ) -> Result<T, CircuitError<E>> {
        let permit = self.acquire()?;
        let result = op();
        permit.settle(classify(&result, &is_failure));
        result.map_err(CircuitError::Inner)
    }

    /// The current state; reports half-open as soon as the recovery timeout has passed.
    pub fn state(&self) -> CircuitState {
        self.with_machine(|machine, _| machine.state())
    }

    /// State and counters, read together.
    pub fn snapshot(&self) -> BreakerSnapshot {
        self.with_machine(|machine, now| machine.snapshot(now))
    }

    /// Closes the circuit by hand and clears every counter.
    ///
    /// Calls still running when it is reset are no longer counted against the new state.
    pub fn reset(&self) {
        let (from, transition) = self.with_machine(|machine, _| (machine.state(), machine.reset()));
        self.log_from(transition, from);
    }

    pub(crate) fn acquire<E>(&self) -> Result<Permit<'_>, CircuitError<E>> {
        match self.with_machine(Machine::admit) {
            Ok(ticket) => Ok(Permit::new(self, ticket)),
            Err(retry_after) => {
                tracing::debug!(breaker = %self.name, ?retry_after, "circuit breaker refused a call");
                Err(CircuitError::Open { retry_after })
            }
        }
    }

    /// Runs `f` under the lock after bringing the state up to date, then logs that update.
    pub(crate) fn with_machine<R>(&self, f: impl FnOnce(&mut Machine, Instant) -> R) -> R {
        let (ticked, result) = {
            let mut machine = self.machine.lock().unwrap_or_else(PoisonError::into_inner);
            let now = self.clock.now();
            let ticked = machine.tick(now);
            (ticked, f(&mut machine, now))
        };
        self.log(ticked);
        result
    }

    /// Logs a state change: WARN on opening, INFO on half-opening and closing.
    pub(crate) fn log(&self, transition: Option<Transition>) {
        // Every transition but a reset says where it came from.
        self.log_from(transition, CircuitState::Closed);
    }

    /// Logs a state change from `from` and records it in the breaker's metrics.
    fn log_from(&self, transition: Option<Transition>, from: CircuitState) {
        let name = self.name.as_str();
        if let Some(transition) = transition {
            self.metrics.record(transition, from);
        }
        match transition {
            None => {}
            Some(Transition::Opened { failures }) => {
                tracing::warn!(breaker = name, failures, "circuit breaker opened");
            }
            Some(Transition::Reopened { failures }) => {
                tracing::warn!(
                    breaker = name,
                    failures,
                    "circuit breaker trial failed; reopened"
                );
            }
            Some(Transition::HalfOpened) => {
                tracing::info!(
                    breaker = name,
                    "circuit breaker half-open; allowing one trial"
                );
            }
            Some(Transition::Closed) => {
                tracing::info!(breaker = name, "circuit breaker closed; trial succeeded");
            }
            Some(Transition::Reset) => {
                tracing::info!(breaker = name, "circuit breaker closed by manual reset");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Instant;

    use super::CircuitBreaker;
    use crate::{BreakerConfig, CircuitState, MonotonicClock};

    /// A clock whose first reading panics, poisoning the breaker's lock mid-update.
    #[derive(Debug, Default)]
    struct FaultyClock {
        failed_once: AtomicBool,
    }

    impl MonotonicClock for FaultyClock {
        fn now(&self) -> Instant {
            assert!(
                self.failed_once.swap(true, Ordering::SeqCst),
                "clock failed"
            );
            Instant::now()
        }
    }

    #[test]
    fn a_poisoned_lock_does_not_make_the_breaker_panic() {
        let clock = Arc::new(FaultyClock::default());
        let breaker = CircuitBreaker::with_clock("db", BreakerConfig::default(), clock);
        assert!(catch_unwind(AssertUnwindSafe(|| breaker.state())).is_err());
        assert!(breaker.machine.is_poisoned());
        assert_eq!(breaker.state(), CircuitState::Closed);
        assert_eq!(breaker.call_sync(|| Ok::<_, ()>(1), |()| true).unwrap(), 1);
    }

    #[test]
    fn breakers_and_their_call_futures_can_cross_threads() {
        fn is_send_sync<T: Send + Sync>(_: &T) {}
        fn is_send<T: Send>(_: &T) {}
        let breaker = CircuitBreaker::new("db", BreakerConfig::default());
        is_send_sync(&breaker);
        is_send(&breaker.call(async { Ok::<_, ()>(()) }, |(): &()| true));
        assert_eq!(breaker.name(), "db");
    }
}
