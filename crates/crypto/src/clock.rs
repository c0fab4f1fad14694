//! The wall clock that stamps token times, injected so tests can set it instead of sleeping.

use std::sync::{Arc, Mutex, PoisonError};

use time::{Duration, OffsetDateTime};

/// A source of the current time, in UTC.
///
/// [`TokenCodec`](crate::TokenCodec) reads it for `iat`, `nbf` and `exp`. Production code
/// uses [`SystemClock`]; tests use [`ManualClock`] to issue tokens "in the past" or "in the
/// future" without sleeping.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time.
    fn now(&self) -> OffsetDateTime;
}

/// The operating system's clock.
///
/// ```
/// use auth_crypto::{Clock, SystemClock};
///
/// let before = time::OffsetDateTime::now_utc();
/// assert!(SystemClock.now() >= before);
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that only moves when told to; clones share the same time.
///
/// ```
/// use auth_crypto::{Clock, ManualClock};
/// use time::{Duration, macros::datetime};
///
/// let clock = ManualClock::new(datetime!(2024-01-15 10:00 UTC));
/// let shared = clock.clone();
/// clock.advance(Duration::minutes(5));
/// assert_eq!(shared.now(), datetime!(2024-01-15 10:05 UTC));
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<OffsetDateTime>>,
}

impl ManualClock {
    /// A clock showing `start` until it is set or advanced.
    pub fn new(start: OffsetDateTime) -> Self {
        Self {
            now: Arc::new(Mutex::new(start)),
        }
    }

    /// Moves the clock (and every clone of it) to `at`, forwards or backwards.
    pub fn set(&self, at: OffsetDateTime) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = at;
    }

    /// Moves the clock (and every clone of it) by `by`; a negative duration goes back.
    ///
    /// # Panics
    ///
    /// Panics if the result is outside the range `OffsetDateTime` can represent.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use time::Duration;
    use time::macros::datetime;

    use super::{Clock, ManualClock, SystemClock};

    #[test]
    fn manual_clock_stays_where_it_is_set() {
        let clock = ManualClock::new(datetime!(2024-01-15 10:00 UTC));
        assert_eq!(clock.now(), datetime!(2024-01-15 10:00 UTC));
        clock.set(datetime!(2020-02-29 23:59:59 UTC));
        assert_eq!(clock.now(), datetime!(2020-02-29 23:59:59 UTC));
    }

    #[test]
    fn manual_clock_advances_both_ways_and_clones_share_the_time() {
        let clock = ManualClock::new(datetime!(2024-01-15 10:00 UTC));
        let as_trait: Arc<dyn Clock> = Arc::new(clock.clone());
        clock.advance(Duration::hours(2));
        assert_eq!(as_trait.now(), datetime!(2024-01-15 12:00 UTC));
        clock.advance(Duration::minutes(-30));
        assert_eq!(as_trait.now(), datetime!(2024-01-15 11:30 UTC));
    }

    #[test]
    fn system_clock_follows_the_operating_system() {
        let before = time::OffsetDateTime::now_utc();
        let now = SystemClock.now();
        let after = time::OffsetDateTime::now_utc();
        assert!(before <= now && now <= after);
    }
}
