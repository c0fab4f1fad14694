//! The breaker's state machine, free of locks, clocks and logging, so each transition can be
//! tested alone. [`CircuitBreaker`](crate::CircuitBreaker) wraps it in a mutex.

use std::time::{Duration, Instant};

use crate::{BreakerConfig, BreakerSnapshot, CircuitState};

/// The wait reported to callers turned away while a half-open breaker's one trial is running.
///
/// The trial's outcome is not known yet: if it succeeds the circuit closes at once, if it fails
/// it opens for a full recovery timeout. One second is the smallest wait a `Retry-After`
/// header can express, so clients come back soon without hammering the service.
pub const HALF_OPEN_RETRY_AFTER: Duration = Duration::from_secs(1);

/// The phase with the data it needs.
#[derive(Debug, Clone, Copy)]
enum Phase {
    Closed,
    Open { since: Instant },
    HalfOpen { trial_in_flight: bool },
}

/// What an admitted call turned out to be, as the breaker counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The dependency answered.
    Success,
    /// The dependency failed in a way that counts towards tripping.
    Failure,
}

/// Proof that a call was admitted; handed back with its outcome or on cancellation.
///
/// The generation ties it to the phase it was admitted in (each trial gets its own), so results
/// that arrive after the breaker has moved on only update the totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ticket {
    generation: u64,
    trial: bool,
}

/// A change of state worth logging.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transition {
    /// Closed → open after `failures` consecutive failures.
    Opened { failures: u32 },
    /// Open → half-open once the recovery timeout passed.
    HalfOpened,
    /// Half-open → open because the trial failed.
    Reopened { failures: u32 },
    /// Half-open → closed because the trial succeeded.
    Closed,
    /// Manually reset to closed from another state.
    Reset,
}

/// The state and counters of one breaker.
#[derive(Debug)]
pub(crate) struct Machine {
    config: BreakerConfig,
    phase: Phase,
    generation: u64,
    consecutive_failures: u32,
    total_failures: u64,
    total_successes: u64,
    total_rejections: u64,
}

impl Machine {
    /// A closed breaker with zeroed counters.
    pub(crate) fn new(config: BreakerConfig) -> Self {
        Self {
            config,
            phase: Phase::Closed,
            generation: 0,
            consecutive_failures: 0,
            total_failures: 0,
            total_successes: 0,
            total_rejections: 0,
        }
    }

    /// Moves open to half-open once the recovery timeout has passed. Run before every other
    /// method that reads the phase, so the half-open transition is made lazily but never missed.
    pub(crate) fn tick(&mut self, now: Instant) -> Option<Transition> {
        match self.phase {
            Phase::Open { since } if self.remaining(since, now).is_zero() => {
                self.enter(Phase::HalfOpen {
                    trial_in_flight: false,
                });
                Some(Transition::HalfOpened)
            }
            _ => None,
        }
    }

    /// Lets a call through, or refuses it with the time to wait.
    pub(crate) fn admit(&mut self, now: Instant) -> Result<Ticket, Duration> {
        let retry_after = match self.phase {
            Phase::Closed => {
                return Ok(Ticket {
                    generation: self.generation,
                    trial: false,
                });
            }
            Phase::HalfOpen {
                trial_in_flight: false,
            } => {
                self.enter(Phase::HalfOpen {
                    trial_in_flight: true,
                });
                return Ok(Ticket {
                    generation: self.generation,
                    trial: true,
                });
            }
            Phase::HalfOpen { .. } => HALF_OPEN_RETRY_AFTER,
            Phase::Open { since } => self.remaining(since, now),
        };
        self.total_rejections = self.total_rejections.saturating_add(1);
        Err(retry_after)
    }

    /// Counts the outcome of an admitted call and moves the state if it decides anything.
    pub(crate) fn record(
        &mut self,
        ticket: Ticket,
        outcome: Outcome,
        now: Instant,
    ) -> Option<Transition> {
        match outcome {
            Outcome::Success => self.total_successes = self.total_successes.saturating_add(1),
            Outcome::Failure => self.total_failures = self.total_failures.saturating_add(1),
        }
        if ticket.generation != self.generation {
            return None;
        }
        match (self.phase, outcome) {
            (Phase::Closed, Outcome::Success) => {
                self.consecutive_failures = 0;
                None
            }
            (Phase::Closed, Outcome::Failure) => {
                self.consecutive_failures = self.consecutive_failures.saturating_add(1);
                let threshold = self.config.failure_threshold.max(1);
                (self.consecutive_failures >= threshold).then(|| {
                    self.enter(Phase::Open { since: now });
                    Transition::Opened {
                        failures: self.consecutive_failures,
                    }
                })
            }
            (Phase::HalfOpen { .. }, Outcome::Success) if ticket.trial => {
                self.consecutive_failures = 0;
                self.enter(Phase::Closed);
                Some(Transition::Closed)
            }
            (Phase::HalfOpen { .. }, Outcome::Failure) if ticket.trial => {
                self.consecutive_failures = self.consecutive_failures.saturating_add(1);
                self.enter(Phase::Open { since: now });
                Some(Transition::Reopened {
                    failures: self.consecutive_failures,
                })
            }
            _ => None,
        }
    }

    /// Gives back the slot of a trial that ended without an outcome (cancelled or panicked).
    /// Returns whether a slot was freed.
    pub(crate) fn release(&mut self, ticket: Ticket) -> bool {
        let current = ticket.trial && ticket.generation == self.generation;
        if current {
            self.enter(Phase::HalfOpen {
                trial_in_flight: false,
            });
        }
        current
    }

    /// Back to closed with every counter cleared; calls still running no longer count.
    pub(crate) fn reset(&mut self) -> Option<Transition> {
        let was_closed = matches!(self.phase, Phase::Closed);
        *self = Self {
            generation: self.generation.wrapping_add(1),
            ..Self::new(self.config)
        };
        (!was_closed).then_some(Transition::Reset)
    }

    /// The current state; run [`tick`](Self::tick) first.
    pub(crate) fn state(&self) -> CircuitState {
        match self.phase {
            Phase::Closed => CircuitState::Closed,
            Phase::Open { .. } => CircuitState::Open,
            Phase::HalfOpen { .. } => CircuitState::HalfOpen,
        }
    }

    /// State and counters at `now`; run [`tick`](Self::tick) first.
    pub(crate) fn snapshot(&self, now: Instant) -> BreakerSnapshot {
        let retry_after = match self.phase {
            Phase::Open { since } => Some(self.remaining(since, now)),
            Phase::HalfOpen {
                trial_in_flight: true,
            } => Some(HALF_OPEN_RETRY_AFTER),
            Phase::Closed | Phase::HalfOpen { .. } => None,
        };
        BreakerSnapshot {
            state: self.state(),
            consecutive_failures: self.consecutive_failures,
            total_failures: self.total_failures,
            total_successes: self.total_successes,
            total_rejections: self.total_rejections,
            retry_after,
        }
    }

    fn remaining(&self, since: Instant, now: Instant) -> Duration {
        let elapsed = now.saturating_duration_since(since);
        self.config.recovery_timeout.saturating_sub(elapsed)
    }

    fn enter(&mut self, phase: Phase) {
        self.phase = phase;
        self.generation = self.generation.wrapping_add(1);
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::{HALF_OPEN_RETRY_AFTER, Machine, Outcome, Transition};
    use crate::{BreakerConfig, CircuitState};

    const TIMEOUT: Duration = Duration::from_secs(30);

    fn machine(failure_threshold: u32) -> Machine {
        Machine::new(BreakerConfig {
            failure_threshold,
            recovery_timeout: TIMEOUT,
        })
    }

    fn fail(m: &mut Machine, now: Instant) -> Option<Transition> {
        let ticket = m.admit(now).unwrap();
        m.record(ticket, Outcome::Failure, now)
    }

    #[test]
    fn a_threshold_of_zero_behaves_as_one() {
        let (mut m, now) = (machine(0), Instant::now());
        assert_eq!(fail(&mut m, now), Some(Transition::Opened { failures: 1 }));
    }

    #[test]
    fn open_turns_half_open_exactly_when_the_timeout_has_passed() {
        let (mut m, now) = (machine(1), Instant::now());
        fail(&mut m, now);
        assert_eq!(
            m.tick(now + TIMEOUT.saturating_sub(Duration::from_nanos(1))),
            None
        );
        assert_eq!(
            m.admit(now + TIMEOUT.saturating_sub(Duration::from_secs(1))),
            Err(Duration::from_secs(1))
        );
        assert_eq!(m.tick(now + TIMEOUT), Some(Transition::HalfOpened));
        assert_eq!(m.tick(now + TIMEOUT), None);
        assert_eq!(m.state(), CircuitState::HalfOpen);
    }

    #[test]
    fn late_results_of_calls_admitted_before_opening_only_update_totals() {
        let (mut m, now) = (machine(1), Instant::now());
        let early = m.admit(now).unwrap();
        fail(&mut m, now);
        assert_eq!(m.record(early, Outcome::Success, now), None);
        assert_eq!(m.state(), CircuitState::Open);
        let snap = m.snapshot(now);
        assert_eq!((snap.total_successes, snap.consecutive_failures), (1, 1));
    }

    #[test]
    fn a_released_trial_frees_the_slot_for_the_next_caller() {
        let (mut m, now) = (machine(1), Instant::now());
        fail(&mut m, now);
        m.tick(now + TIMEOUT);
        let trial = m.admit(now + TIMEOUT).unwrap();
        assert_eq!(m.admit(now + TIMEOUT), Err(HALF_OPEN_RETRY_AFTER));
        assert!(m.release(trial));
        assert!(
            !m.release(trial),
            "a second release must not free another slot"
        );
        assert!(m.admit(now + TIMEOUT).is_ok());
    }

    #[test]
    fn a_trial_from_before_a_reset_cannot_decide_a_later_half_open() {
        let (mut m, now) = (machine(1), Instant::now());
        fail(&mut m, now);
        m.tick(now + TIMEOUT);
        let stale = m.admit(now + TIMEOUT).unwrap();
        assert_eq!(m.reset(), Some(Transition::Reset));
        assert_eq!(m.reset(), None);
        let later = now + TIMEOUT;
        fail(&mut m, later);
        m.tick(later + TIMEOUT);
        let trial = m.admit(later + TIMEOUT).unwrap();
        assert!(!m.release(stale));
        assert_eq!(m.record(stale, Outcome::Success, later + TIMEOUT), None);
        assert_eq!(m.state(), CircuitState::HalfOpen);
        assert_eq!(
            m.record(trial, Outcome::Failure, later + TIMEOUT),
            Some(Transition::Reopened { failures: 2 })
        );
    }
}
