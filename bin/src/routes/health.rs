//! `GET /health` (liveness, touches nothing) and `GET /health/ready` (the database answers).

use actix_web::{HttpResponse, web};
use auth_errors::ErrorBody;

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

/// Readiness: the database answers a query in time.
#[utoipa::path(get, path = "/health/ready", tag = "health",
    responses(
        (status = 200, description = "Ready", body = ReadyResponse),
        (status = 503, description = "SERVICE_UNAVAILABLE: the database does not answer", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
pub async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.auth.check_database().await.map_err(|fault| {
        tracing::warn!(error = ?fault, "readiness check failed");
        ApiError::from(fault)
    })?;
    Ok(HttpResponse::Ok().json(ReadyResponse {
        status: "ready".to_owned(),
        checks: ReadyChecks {
            database: "ok".to_owned(),
        },
    }))
}
