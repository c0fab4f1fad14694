//! Resilience helpers of the auth service: a circuit breaker and a bounded retry.
//!
//! - [`CircuitBreaker`] stops calling a dependency (the database) after repeated
//!   infrastructure failures, refuses calls with [`CircuitError::Open`] for a while, then lets
//!   one trial call probe it. `Open` converts into [`auth_errors::AppError::CircuitOpen`], a
//!   503 with `Retry-After`. [`CircuitBreaker::state`] feeds readiness checks.
//! - [`retry`] repeats an operation with capped exponential backoff within a time budget, for
//!   the bounded wait on the database at start-up.
//! - [`Clock`] makes time injectable: [`ManualClock`] drives the breaker in tests, no sleeps.
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
//! use auth_errors::AppError;
//! use auth_resilience::{BreakerConfig, CircuitBreaker, CircuitState};
//!
//! #[derive(Debug)]
//! enum RepoError { Unavailable, Conflict }
//!
//! impl From<RepoError> for AppError {
//!     fn from(err: RepoError) -> Self {
//!         match err {
//!             RepoError::Unavailable => AppError::database_unavailable("pool timed out"),
//!             RepoError::Conflict => AppError::UserExists,
//!         }
//!     }
//! }
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
//!     assert_eq!(AppError::from(err).status(), 409);
//!
//!     for _ in 0..2 {
//!         let _ = breaker.call(insert_user(Err(RepoError::Unavailable)), trips).await;
//!     }
//!     assert_eq!(breaker.state(), CircuitState::Open);
//!
//!     // Now calls are refused without running, as a 503 with Retry-After.
//!     let err: AppError = breaker.call(insert_user(Ok(7)), trips).await.unwrap_err().into();
//!     assert_eq!(err.status(), 503);
//!     assert!(err.retry_after().is_some());
//! });
//! ```

mod breaker;
mod clock;
mod error;
mod machine;
mod permit;
mod retry;
mod state;

pub use breaker::CircuitBreaker;
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::CircuitError;
pub use machine::HALF_OPEN_RETRY_AFTER;
pub use retry::{RetryPolicy, retry};
pub use state::{BreakerConfig, BreakerSnapshot, CircuitState};
