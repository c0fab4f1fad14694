//! Resilience helpers of the auth service: a circuit breaker and a bounded retry.
//!
//! - [`CircuitBreaker`] stops calling a dependency (the database) after repeated
//!   infrastructure failures, refuses calls with [`CircuitError::Open`] for a while, then lets
//!   one trial call probe it. A transport answers `Open` as "unavailable, retry after
//!   [`CircuitError::retry_after`]". [`CircuitBreaker::state`] feeds readiness checks.
//! - [`retry`] repeats an operation with capped exponential backoff within a time budget, for
//!   the bounded wait on the database at start-up.
//! - [`MonotonicClock`] makes time injectable: [`ManualMonotonicClock`] drives the breaker in
//!   tests, no sleeps. (It is monotonic time, unlike the wall clock tokens are stamped with.)
//!
//! The crate must not depend on I/O, HTTP or database crates: callers wrap their own calls
//! and tell the breaker, through a predicate, which of their errors mean "the dependency is
//! down". tokio is used only for its timer, in [`retry`].
//!
//! # Example
//!
//! A repository call from another crate, where only outages trip the breaker:
//!
//! ```
//! use auth_resilience::{BreakerConfig, CircuitBreaker, CircuitError, CircuitState};
//!
//! #[derive(Debug)]
//! enum RepoError { Unavailable, Conflict }
//!
//! async fn insert_user(answer: Result<u64, RepoError>) -> Result<u64, RepoError> {
//!     answer
//! }
//!
//! let config = BreakerConfig { failure_threshold: 2, ..BreakerConfig::default() };
//! let breaker = CircuitBreaker::new("database", config);
//! let trips = |err: &RepoError| matches!(err, RepoError::Unavailable);
//!
//! futures::executor::block_on(async {
//!     // A conflict is an answer from a healthy database: it never trips the breaker.
//!     let err = breaker.call(insert_user(Err(RepoError::Conflict)), trips).await.unwrap_err();
//!     assert!(matches!(err, CircuitError::Inner(RepoError::Conflict)));
//!
//!     for _ in 0..2 {
//!         let _ = breaker.call(insert_user(Err(RepoError::Unavailable)), trips).await;
//!     }
//!     assert_eq!(breaker.state(), CircuitState::Open);
//!
//!     // Now calls are refused without running, with the time until a trial may run.
//!     let err = breaker.call(insert_user(Ok(7)), trips).await.unwrap_err();
//!     assert!(err.is_open());
//!     assert!(err.retry_after().is_some());
//! });
//! ```

mod breaker;
mod breaker_metrics;
mod call;
mod clock;
mod error;
mod machine;
mod permit;
mod retry;
mod state;

pub use breaker::CircuitBreaker;
pub use call::Call;
pub use clock::{ManualMonotonicClock, MonotonicClock, SystemMonotonicClock};
pub use error::CircuitError;
pub use machine::HALF_OPEN_RETRY_AFTER;
pub use retry::{RetryPolicy, retry};
pub use state::{BreakerConfig, BreakerSnapshot, CircuitState};
