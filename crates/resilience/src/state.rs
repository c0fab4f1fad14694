//! The breaker's vocabulary: its configuration, its three states and a point-in-time snapshot.

use std::fmt;
use std::time::Duration;

/// How a [`CircuitBreaker`](crate::CircuitBreaker) trips and recovers.
///
/// The defaults follow the seed service: five consecutive failures open the circuit, and it
/// stays open for 60 seconds before a trial call is let through.
///
/// ```
/// use std::time::Duration;
/// use auth_resilience::BreakerConfig;
///
/// let config = BreakerConfig { failure_threshold: 3, ..BreakerConfig::default() };
/// assert_eq!(config.recovery_timeout, Duration::from_secs(60));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive failures that open a closed circuit. Default 5; 0 behaves as 1.
    pub failure_threshold: u32,
    /// How long an open circuit rejects calls before letting one trial through. Default 60 s.
    pub recovery_timeout: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            recovery_timeout: Duration::from_secs(60),
        }
    }
}

/// Where a circuit breaker stands.
///
/// ```
/// use auth_resilience::CircuitState;
///
/// assert_eq!(CircuitState::HalfOpen.to_string(), "half_open");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CircuitState {
    /// Healthy: every call goes through and failures are counted.
    Closed,
    /// Tripped: calls are rejected at once until the recovery timeout has passed.
    Open,
    /// Recovering: one trial call decides between closing and opening again.
    HalfOpen,
}

impl CircuitState {
    /// The lower-case name used in logs and health reports: `closed`, `open` or `half_open`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half_open",
        }
    }
}

impl fmt::Display for CircuitState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A consistent view of a breaker's state and counters at one instant, for health checks.
///
/// Counters are cumulative since creation or the last
/// [`reset`](crate::CircuitBreaker::reset). A success is any call where the dependency
/// answered: an `Ok`, or an error the caller's predicate does not count as a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerSnapshot {
    /// The state, with an elapsed recovery timeout already reported as half-open.
    pub state: CircuitState,
    /// Failures since the last success (or reset); what the threshold is compared with.
    pub consecutive_failures: u32,
    /// Every call that failed.
    pub total_failures: u64,
    /// Every call that got an answer from the dependency.
    pub total_successes: u64,
    /// Every call rejected without running because the circuit was open or on trial.
    pub total_rejections: u64,
    /// How long a call made now would be told to wait; `None` when it would be let through.
    pub retry_after: Option<Duration>,
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{BreakerConfig, CircuitState};

    #[test]
    fn default_config_is_five_failures_and_sixty_seconds() {
        let config = BreakerConfig::default();
        assert_eq!(config.failure_threshold, 5);
        assert_eq!(config.recovery_timeout, Duration::from_secs(60));
    }

    #[test]
    fn states_display_as_their_snake_case_names() {
        let names: Vec<String> = [
            CircuitState::Closed,
            CircuitState::Open,
            CircuitState::HalfOpen,
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        assert_eq!(names, ["closed", "open", "half_open"]);
    }
}
