//! Every database call passes through the circuit breaker, within the pool's deadline; only
//! outages (a call past the deadline is one) trip it.

use std::future::Future;

use auth_persistence::{DbPool, RepoError};
use auth_resilience::CircuitBreaker;
use futures::FutureExt as _;

use crate::error::{DbError, Fault};

/// Runs a repository call on `pool` through `breaker`, abandoned past the pool's deadline
/// ([`DbPool::bounded`]). An open breaker or an outage becomes a fault; a conflict or a
/// missing row is an answer, not a failure, and does not count against it.
pub(crate) fn guarded<'a, T: 'a>(
    breaker: &'a CircuitBreaker,
    pool: &'a DbPool,
    call: impl Future<Output = Result<T, RepoError>> + 'a,
) -> impl Future<Output = Result<T, DbError>> + 'a {
    // Not an `async fn`, which would store `call` once more as its argument.
    breaker
        .call(pool.bounded(call), RepoError::is_outage)
        .map(|result| result.map_err(DbError::from))
}

/// As [`guarded`], for a call that may rightly outlast the pool's deadline because it bounds
/// each of its own statements with it (a retention purge of many batches).
pub(crate) fn guarded_stepwise<'a, T: 'a>(
    breaker: &'a CircuitBreaker,
    call: impl Future<Output = Result<T, RepoError>> + 'a,
) -> impl Future<Output = Result<T, DbError>> + 'a {
    breaker
        .call(call, RepoError::is_outage)
        .map(|result| result.map_err(DbError::from))
}

/// Refuses at once, as a call through `breaker` would be refused, when it lets no call
/// through now: work whose only use is a database write (hashing a new password) is not
/// started while the database is known to be down.
pub(crate) fn refuse_if_open(breaker: &CircuitBreaker) -> Result<(), Fault> {
    match breaker.snapshot().retry_after {
        Some(retry_after) => Err(Fault::CircuitOpen { retry_after }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use auth_persistence::{DbConfig, DbPool, RepoError};
    use auth_resilience::{BreakerConfig, CircuitBreaker};

    use super::{guarded, guarded_stepwise};
    use crate::error::{DbError, Fault};

    /// A SQLite pool whose calls may take 40 ms (20 ms acquire + 20 ms busy timeout).
    fn quick_pool(dir: &tempfile::TempDir) -> DbPool {
        let path = dir.path().join("guard.db");
        let mut config = DbConfig::new(format!("sqlite://{}", path.display())).unwrap();
        config.acquire_timeout = Duration::from_millis(20);
        config.sqlite_busy_timeout = Duration::from_millis(20);
        assert_eq!(config.call_deadline(), Some(Duration::from_millis(40)));
        DbPool::new(&config).unwrap()
    }

    #[tokio::test]
    async fn a_call_past_the_deadline_is_an_outage_the_breaker_counts() {
        let dir = tempfile::tempdir().unwrap();
        let pool = quick_pool(&dir);
        let breaker = CircuitBreaker::new("database", BreakerConfig::default());
        let hung = std::future::pending::<Result<(), RepoError>>();
        let outcome = guarded(&breaker, &pool, hung).await;
        assert!(
            matches!(outcome, Err(DbError::Fault(Fault::Unavailable(_)))),
            "{outcome:?}"
        );
        assert_eq!(breaker.snapshot().consecutive_failures, 1);
    }

    #[tokio::test]
    async fn answers_within_the_deadline_pass_through_and_only_outages_count() {
        let dir = tempfile::tempdir().unwrap();
        let pool = quick_pool(&dir);
        let breaker = CircuitBreaker::new("database", BreakerConfig::default());
        let answer = guarded(&breaker, &pool, async { Ok::<_, RepoError>(7) }).await;
        assert!(matches!(answer, Ok(7)), "{answer:?}");
        let conflict = guarded(&breaker, &pool, async { Err::<(), _>(RepoError::Conflict) }).await;
        assert!(matches!(conflict, Err(DbError::Conflict)), "{conflict:?}");
        let snapshot = breaker.snapshot();
        assert_eq!((snapshot.total_successes, snapshot.total_failures), (2, 0));
    }

    #[tokio::test]
    async fn a_stepwise_call_may_outlast_the_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let pool = quick_pool(&dir);
        let breaker = CircuitBreaker::new("database", BreakerConfig::default());
        let long = || async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            Ok::<_, RepoError>(())
        };
        let bounded = guarded(&breaker, &pool, long()).await;
        assert!(bounded.is_err(), "{bounded:?}");
        let stepwise = guarded_stepwise(&breaker, long()).await;
        assert!(stepwise.is_ok(), "{stepwise:?}");
    }
}
