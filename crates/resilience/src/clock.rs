//! Monotonic time behind a trait, so the breaker can be driven by tests without sleeping.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A source of monotonic time.
///
/// The breaker reads its clock to decide when an open circuit may try again. Production code
/// uses [`SystemMonotonicClock`]; tests use [`ManualMonotonicClock`] and move time forward by hand.
///
/// ```
/// use std::time::Duration;
/// use auth_resilience::{MonotonicClock, ManualMonotonicClock};
///
/// let clock = ManualMonotonicClock::new();
/// let start = clock.now();
/// clock.advance(Duration::from_secs(3));
/// assert_eq!(clock.now() - start, Duration::from_secs(3));
/// ```
pub trait MonotonicClock: Send + Sync + std::fmt::Debug {
    /// The current instant. Successive calls never go backwards.
    fn now(&self) -> Instant;
}

/// The real monotonic clock, [`Instant::now`].
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemMonotonicClock;

impl MonotonicClock for SystemMonotonicClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that only moves when told to, for tests.
///
/// Clones share one time: advancing a clone advances every copy, so a test can keep one
/// handle and give another to the code under test.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use auth_resilience::{MonotonicClock, ManualMonotonicClock};
///
/// let clock = ManualMonotonicClock::new();
/// let shared: Arc<dyn MonotonicClock> = Arc::new(clock.clone());
/// let before = shared.now();
/// clock.advance(Duration::from_millis(250));
/// assert_eq!(shared.now() - before, Duration::from_millis(250));
/// ```
#[derive(Debug, Clone)]
pub struct ManualMonotonicClock {
    now: Arc<Mutex<Instant>>,
}

impl ManualMonotonicClock {
    /// A clock stopped at the real [`Instant::now`] of its creation.
    pub fn new() -> Self {
        Self {
            now: Arc::new(Mutex::new(Instant::now())),
        }
    }

    /// Moves time forward by `by`, for this clock and all its clones.
    ///
    /// An advance that would overflow [`Instant`] is ignored rather than panicking.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(later) = now.checked_add(by) {
            *now = later;
        }
    }
}

impl Default for ManualMonotonicClock {
    fn default() -> Self {
        Self::new()
    }
}

impl MonotonicClock for ManualMonotonicClock {
    fn now(&self) -> Instant {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{ManualMonotonicClock, MonotonicClock, SystemMonotonicClock};

    #[test]
    fn manual_clock_stands_still_until_advanced() {
        let clock = ManualMonotonicClock::new();
        let start = clock.now();
        assert_eq!(clock.now(), start);
        clock.advance(Duration::from_secs(2));
        clock.advance(Duration::from_millis(500));
        assert_eq!(clock.now() - start, Duration::from_millis(2500));
    }

    #[test]
    fn manual_clock_clones_share_one_time() {
        let clock = ManualMonotonicClock::new();
        let other = clock.clone();
        other.advance(Duration::from_secs(9));
        assert_eq!(clock.now(), other.now());
    }

    #[test]
    fn manual_clock_ignores_an_advance_that_would_overflow() {
        let clock = ManualMonotonicClock::default();
        let start = clock.now();
        clock.advance(Duration::MAX);
        assert_eq!(clock.now(), start);
    }

    #[test]
    fn system_clock_never_goes_backwards() {
        let first = SystemMonotonicClock.now();
        assert!(SystemMonotonicClock.now() >= first);
    }
}
