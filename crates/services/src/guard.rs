//! Every database call passes through the circuit breaker; only outages trip it.

use std::future::Future;

use auth_persistence::RepoError;
use auth_resilience::CircuitBreaker;

use crate::error::DbError;

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
