//! `ApiError`: how an [`AppError`] becomes an HTTP response.
//!
//! The status and body come from the error's classification. 401s for tokens carry
//! `WWW-Authenticate: Bearer`, 429 and 503 carry `Retry-After`. The envelope middleware later
//! fills in the request id; the cause chain goes to the log, never to the client.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use auth_errors::{AppError, ErrorBody, ErrorCode};

/// An [`AppError`] on its way to a client.
pub struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(err: E) -> Self {
        Self(err.into())
    }
}

impl ApiError {
    /// The classified error inside.
    pub fn app_error(&self) -> &AppError {
        &self.0
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.detail())
    }
}

/// The code and the whole cause chain, for logs.
impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.0.error_code(), self.0)?;
        let mut source = std::error::Error::source(&self.0);
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        add_error_headers(&self.0, &mut response);
        response.json(ErrorBody::from_error(
            &self.0,
            "",
            time::OffsetDateTime::now_utc(),
        ))
    }
}

/// Adds the headers an error's status calls for: `WWW-Authenticate` on token failures,
/// `Retry-After` (whole seconds, at least 1) on 429 and 503.
pub(crate) fn add_error_headers(err: &AppError, response: &mut actix_web::HttpResponseBuilder) {
    match err.error_code() {
        ErrorCode::InvalidToken | ErrorCode::TokenExpired => {
            let description = err.detail();
            let value =
                format!(r#"Bearer error="invalid_token", error_description="{description}""#);
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.insert_header((header::WWW_AUTHENTICATE, value));
            }
        }
        _ => {}
    }
    if let Some(wait) = err.retry_after() {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        response.insert_header((header::RETRY_AFTER, secs.max(1)));
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use actix_web::ResponseError as _;
    use actix_web::http::header;
    use auth_errors::AppError;

    use super::ApiError;

    #[test]
    fn token_failures_ask_for_a_bearer_token() {
        for err in [AppError::InvalidToken, AppError::TokenExpired] {
            let response = ApiError(err).error_response();
            assert_eq!(response.status(), 401);
            let challenge = response.headers().get(header::WWW_AUTHENTICATE).unwrap();
            assert!(challenge.to_str().unwrap().starts_with("Bearer"));
        }
        let response = ApiError(AppError::InvalidCredentials).error_response();
        assert!(response.headers().get(header::WWW_AUTHENTICATE).is_none());
    }

    #[test]
    fn retry_after_is_rounded_up_to_whole_seconds() {
        let open = AppError::CircuitOpen {
            retry_after: Duration::from_millis(1500),
        };
        let response = ApiError(open).error_response();
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "2");
        let limited = AppError::RateLimited {
            retry_after: Duration::ZERO,
        };
        let response = ApiError(limited).error_response();
        assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "1");
    }

    #[test]
    fn debug_shows_the_cause_chain_and_display_only_the_safe_detail() {
        let err = ApiError(AppError::internal(std::io::Error::other("disk on fire")));
        assert_eq!(err.to_string(), "Internal server error");
        assert!(format!("{err:?}").contains("disk on fire"));
    }
}
