//! `GET /health` (liveness, touches nothing) and `GET /health/ready` (the database answers
//! and its circuit breaker lets requests through).

use actix_web::{HttpResponse, web};
use auth_errors::ErrorBody;
use auth_resilience::{BreakerSnapshot, CircuitState};
use auth_services::Fault;

use crate::dto::{HealthResponse, ReadyChecks, ReadyResponse};
use crate::error::ApiError;
use crate::state::AppState;

/// Liveness: the process serves requests. Cheap; touches nothing.
#[utoipa::path(get, path = "/health", tag = "health",
    responses((status = 200, description = "Alive", body = HealthResponse)))]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(HealthResponse {
        status: "healthy".to_owned(),
        timestamp: time::OffsetDateTime::now_utc(),
    })
}

/// Readiness: the database answers a query in time, and the database circuit breaker is not
/// open. A 503's detail says which, and the breaker's state.
#[utoipa::path(get, path = "/health/ready", tag = "health",
    responses(
        (status = 200, description = "Ready", body = ReadyResponse),
        (status = 503, description = "SERVICE_UNAVAILABLE: the database does not answer, or its \
            circuit breaker is open; the detail names the breaker's state", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
pub async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    // The probe runs outside the breaker, so it sees the database itself.
    let probe = state.auth.check_database().await;
    let breaker = state.auth.database_breaker();
    if let Err(fault) = probe {
        tracing::warn!(error = ?fault, breaker = %breaker.state, "readiness check failed");
        let detail = format!(
            "The database does not answer (circuit breaker {})",
            breaker.state
        );
        return Err(ApiError::from(fault).with_detail(detail));
    }
    if let Some(refused) = refused_by(&breaker) {
        return Err(refused);
    }
    Ok(HttpResponse::Ok().json(ReadyResponse {
        status: "ready".to_owned(),
        checks: ReadyChecks {
            database: "ok".to_owned(),
        },
    }))
}

/// The answer while the breaker refuses database calls although the probe got through: the
/// service is not ready until a trial call has closed it.
fn refused_by(breaker: &BreakerSnapshot) -> Option<ApiError> {
    let retry_after = breaker.retry_after?;
    if breaker.state == CircuitState::Closed {
        return None;
    }
    let detail = format!(
        "The database answers but its circuit breaker is {}",
        breaker.state
    );
    Some(ApiError::from(Fault::CircuitOpen { retry_after }).with_detail(detail))
}
