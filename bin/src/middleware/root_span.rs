//! The root span of every request, carrying our request id (tracing-actix-web would make its
//! own and ignore the incoming header). Its fields appear on every log line of the request.
//! Documentation and health routes get a DEBUG span, so they log nothing at INFO.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage as _};
use tracing::{Level, Span};
use tracing_actix_web::RootSpanBuilder;

use super::path::is_under;
use super::request_id::RequestId;

/// Paths whose requests are logged at DEBUG only.
pub const QUIET_PREFIXES: [&str; 4] = ["/health", "/docs", "/redoc", "/openapi.json"];

/// Whether requests to `path` are logged at DEBUG only.
pub fn is_quiet(path: &str) -> bool {
    QUIET_PREFIXES.iter().any(|prefix| is_under(path, prefix))
}

/// Builds the request span: `request_id`, `method`, `path` (the matched route pattern when
/// there is one, so ids in paths stay out of logs), and later `status_code` and `user_id`.
#[derive(Debug, Clone, Copy)]
pub struct AppRootSpan;

impl RootSpanBuilder for AppRootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(|id| id.0.clone())
            .unwrap_or_default();
        let method = request.method().as_str().to_owned();
        let path = request
            .match_pattern()
            .unwrap_or_else(|| request.path().to_owned());
        macro_rules! span_at {
            ($level:expr) => {
                tracing::span!(
                    $level,
                    "request",
                    request_id = %request_id,
                    method = %method,
                    path = %path,
                    status_code = tracing::field::Empty,
                    user_id = tracing::field::Empty,
                )
            };
        }
        if is_quiet(request.path()) {
            span_at!(Level::DEBUG)
        } else {
            span_at!(Level::INFO)
        }
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let status = match outcome {
            Ok(response) => response.status(),
            Err(error) => error.as_response_error().status_code(),
        };
        span.record("status_code", status.as_u16());
    }
}

#[cfg(test)]
mod tests {
    use super::is_quiet;

    #[test]
    fn docs_and_health_are_quiet_and_business_routes_are_not() {
        for quiet in [
            "/health",
            "/health/ready",
            "/docs",
            "/docs/index.html",
            "/redoc",
            "/openapi.json",
        ] {
            assert!(is_quiet(quiet), "{quiet}");
        }
        for loud in ["/", "/auth/login", "/healthz", "/documents"] {
            assert!(!is_quiet(loud), "{loud}");
        }
    }
}
