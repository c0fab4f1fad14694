//! Every database call passes through the circuit breaker; only outages trip it.

use std::future::Future;

use auth_persistence::RepoError;
use auth_resilience::CircuitBreaker;

use crate::error::{DbError, Fault};

/// Runs a repository call through `breaker`. An open breaker or an outage becomes a fault; a
/// conflict or a missing row is an answer, not a failure, and does not count against it.
pub(crate) async fn guarded<T>(
    breaker: &CircuitBreaker,
    call: impl Future<Output = Result<T, RepoError>>,
) -> Result<T, DbError> {
    breaker
        .call(call, RepoError::is_outage)
        .await
        .map_err(DbError::from)
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
