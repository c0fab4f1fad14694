//! Every database call passes through the circuit breaker; only outages trip it.

use std::future::Future;

use auth_errors::AppError;
use auth_persistence::RepoError;
use auth_resilience::CircuitBreaker;

/// Runs a repository call through `breaker`. An open breaker becomes `SERVICE_UNAVAILABLE`;
/// a conflict or a missing row is an answer, not a failure, and does not count against it.
pub(crate) async fn guarded<T>(
    breaker: &CircuitBreaker,
    call: impl Future<Output = Result<T, RepoError>>,
) -> Result<T, AppError> {
    breaker
        .call(call, RepoError::is_outage)
        .await
        .map_err(AppError::from)
}
