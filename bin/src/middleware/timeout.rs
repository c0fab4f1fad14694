//! A bound on how long the app may work on one request (`REQUEST_TIMEOUT_SECONDS`).
//!
//! Past it the request's future is dropped (a pooled connection left inside a transaction is
//! discarded by the pool, never reused) and the client gets 503 `SERVICE_UNAVAILABLE` with
//! `Retry-After`: the service is overloaded or a dependency is slow. The server's own `client_request_timeout`
//! only bounds how long a client may take to send the request head.

use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, ResponseError};
use auth_errors::{ErrorBody, ErrorCode};

/// How long a client should wait before retrying a request that timed out.
pub const RETRY_AFTER: Duration = Duration::from_secs(5);

/// The longest the app may work on one request, registered as app data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestTimeout(pub Duration);

impl Default for RequestTimeout {
    /// The default of `REQUEST_TIMEOUT_SECONDS`: 5 s.
    fn default() -> Self {
        Self(Duration::from_secs(5))
    }
}

/// The middleware function. Sits inside the error envelope, which renders [`TimedOut`] as the
/// contract's 503 body and keeps its `Retry-After`.
///
/// # Errors
///
/// Those of the inner service, and [`TimedOut`] when it runs past the [`RequestTimeout`].
pub async fn timeout(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let limit = req
        .app_data::<RequestTimeout>()
        .copied()
        .unwrap_or_default()
        .0;
    match tokio::time::timeout(limit, next.call(req)).await {
        Ok(outcome) => outcome,
        Err(_elapsed) => Err(TimedOut { limit }.into()),
    }
}

/// The request ran past its time limit.
#[derive(Debug, thiserror::Error)]
#[error("request timed out after {limit:?}")]
pub struct TimedOut {
    /// The limit it ran past.
    pub limit: Duration,
}

impl ResponseError for TimedOut {
    fn status_code(&self) -> StatusCode {
        StatusCode::SERVICE_UNAVAILABLE
    }

    /// The envelope without a request id (the envelope middleware adds it), and `Retry-After`.
    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code())
            .insert_header((header::RETRY_AFTER, RETRY_AFTER.as_secs()))
            .json(ErrorBody::from_code(
                ErrorCode::ServiceUnavailable,
                "",
                time::OffsetDateTime::now_utc(),
            ))
    }
}

#[cfg(test)]
mod tests {
    use actix_web::ResponseError as _;
    use actix_web::http::header;

    use super::{RequestTimeout, TimedOut};

    #[test]
    fn a_timed_out_request_is_503_with_retry_after() {
        let response = TimedOut {
            limit: RequestTimeout::default().0,
        }
        .error_response();
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "5");
    }
}
