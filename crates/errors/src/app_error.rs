//! The classified error: what every crate's failure becomes before it reaches a client.

use std::borrow::Cow;
use std::time::Duration;

use crate::{ErrorCode, FieldError};

/// Any error kept as the cause of an [`AppError`], for logs only.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// How long a client should wait after a database outage when nothing more precise is known.
const UNAVAILABLE_RETRY_AFTER: Duration = Duration::from_secs(5);

/// A failure, classified by what a client may be told about it.
///
/// Every variant maps to one [`ErrorCode`] and thus one HTTP status. [`detail`](Self::detail)
/// is written for clients and never includes the text of an inner cause; the cause is kept as
/// [`source`](std::error::Error::source) so logs can show the whole chain.
///
/// ```
/// use auth_errors::{AppError, ErrorCode, FieldError};
///
/// let err = AppError::Validation(vec![FieldError::new("email", "not a valid email address")]);
/// assert_eq!(err.error_code(), ErrorCode::ValidationError);
/// assert_eq!(err.status(), 400);
/// assert_eq!(err.field_errors().len(), 1);
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// Sign-in failed: unknown user, wrong password, inactive or locked account alike.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The email or username is already registered.
    #[error("user already exists")]
    UserExists,
    /// The token is past its expiry.
    #[error("token expired")]
    TokenExpired,
    /// The token is missing, malformed, tampered with, of the wrong kind or revoked.
    #[error("invalid token")]
    InvalidToken,
    /// The request failed validation; one entry per failing field.
    #[error("validation failed: {}", join_fields(.0))]
    Validation(Vec<FieldError>),
    /// The database cannot be reached (refused connection, pool timeout, …).
    #[error("database unavailable")]
    DatabaseUnavailable(#[source] BoxError),
    /// The database answered with an unexpected error.
    #[error("database error")]
    Database(#[source] BoxError),
    /// A circuit breaker is open and refuses calls for `retry_after` more.
    #[error("circuit breaker open")]
    CircuitOpen {
        /// Time until the breaker lets a trial call through.
        retry_after: Duration,
    },
    /// Too many attempts; the client may retry after `retry_after`.
    #[error("rate limited")]
    RateLimited {
        /// Time until the next attempt may succeed.
        retry_after: Duration,
    },
    /// The request body is over the size limit.
    #[error("payload too large")]
    PayloadTooLarge,
    /// The request body is not JSON.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// The route exists, but not for this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// No such route or resource.
    #[error("not found")]
    NotFound,
    /// Anything else; the cause goes to logs only.
    #[error("internal error")]
    Internal(#[source] BoxError),
}

impl AppError {
    /// A database that cannot be reached right now (503).
    pub fn database_unavailable(cause: impl Into<BoxError>) -> Self {
        Self::DatabaseUnavailable(cause.into())
    }

    /// A database failure that is not an outage (500).
    pub fn database(cause: impl Into<BoxError>) -> Self {
        Self::Database(cause.into())
    }

    /// An unexpected failure (500).
    pub fn internal(cause: impl Into<BoxError>) -> Self {
        Self::Internal(cause.into())
    }

    /// A validation failure of a single field (400).
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    /// The stable code a client sees.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            Self::InvalidCredentials => ErrorCode::InvalidCredentials,
            Self::UserExists => ErrorCode::UserExists,
            Self::TokenExpired => ErrorCode::TokenExpired,
            Self::InvalidToken => ErrorCode::InvalidToken,
            Self::Validation(_) => ErrorCode::ValidationError,
            Self::DatabaseUnavailable(_) | Self::CircuitOpen { .. } => {
                ErrorCode::ServiceUnavailable
            }
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::PayloadTooLarge => ErrorCode::PayloadTooLarge,
            Self::UnsupportedMediaType => ErrorCode::UnsupportedMediaType,
            Self::MethodNotAllowed => ErrorCode::MethodNotAllowed,
            Self::NotFound => ErrorCode::NotFound,
            Self::Database(_) | Self::Internal(_) => ErrorCode::InternalError,
        }
    }

    /// The HTTP status of [`error_code`](Self::error_code).
    pub fn status(&self) -> u16 {
        self.error_code().status()
    }

    /// The client-facing message. Never contains the text of an inner cause.
    pub fn detail(&self) -> Cow<'static, str> {
        match self {
            Self::Validation(fields) if !fields.is_empty() => Cow::Owned(join_fields(fields)),
            other => Cow::Borrowed(other.error_code().default_detail()),
        }
    }

    /// The failing fields of a validation error; empty for every other variant.
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            Self::Validation(fields) => fields,
            _ => &[],
        }
    }

    /// How long the client should wait before retrying, for 429 and 503 answers.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::CircuitOpen { retry_after } | Self::RateLimited { retry_after } => {
                Some(*retry_after)
            }
            Self::DatabaseUnavailable(_) => Some(UNAVAILABLE_RETRY_AFTER),
            _ => None,
        }
    }
}

fn join_fields(fields: &[FieldError]) -> String {
    let parts: Vec<String> = fields.iter().map(ToString::to_string).collect();
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;
    use std::time::Duration;

    use super::{AppError, ErrorCode, FieldError};

    const SECRET: &str = "password=hunter2 at db.internal:5432";

    fn every_variant() -> Vec<(AppError, ErrorCode, u16, &'static str)> {
        let secs = Duration::from_secs(7);
        vec![
            (
                AppError::InvalidCredentials,
                ErrorCode::InvalidCredentials,
                401,
                "Invalid credentials",
            ),
            (
                AppError::UserExists,
                ErrorCode::UserExists,
                409,
                "A user with this email or username already exists",
            ),
            (
                AppError::TokenExpired,
                ErrorCode::TokenExpired,
                401,
                "Token has expired",
            ),
            (
                AppError::InvalidToken,
                ErrorCode::InvalidToken,
                401,
                "Invalid token",
            ),
            (
                AppError::invalid_field("email", "not a valid email address"),
                ErrorCode::ValidationError,
                400,
                "email: not a valid email address",
            ),
            (
                AppError::Validation(vec![]),
                ErrorCode::ValidationError,
                400,
                "Request validation failed",
            ),
            (
                AppError::database_unavailable(std::io::Error::other(SECRET)),
                ErrorCode::ServiceUnavailable,
                503,
                "Service temporarily unavailable",
            ),
            (
                AppError::database(std::io::Error::other(SECRET)),
                ErrorCode::InternalError,
                500,
                "Internal server error",
            ),
            (
                AppError::CircuitOpen { retry_after: secs },
                ErrorCode::ServiceUnavailable,
                503,
                "Service temporarily unavailable",
            ),
            (
                AppError::RateLimited { retry_after: secs },
                ErrorCode::RateLimited,
                429,
                "Too many requests",
            ),
            (
                AppError::PayloadTooLarge,
                ErrorCode::PayloadTooLarge,
                413,
                "Request body is too large",
            ),
            (
                AppError::UnsupportedMediaType,
                ErrorCode::UnsupportedMediaType,
                415,
                "Content-Type must be application/json",
            ),
            (
                AppError::MethodNotAllowed,
                ErrorCode::MethodNotAllowed,
                405,
                "Method not allowed",
            ),
            (AppError::NotFound, ErrorCode::NotFound, 404, "Not found"),
            (
                AppError::internal(std::io::Error::other(SECRET)),
                ErrorCode::InternalError,
                500,
                "Internal server error",
            ),
        ]
    }

    #[test]
    fn every_variant_has_its_code_status_and_detail() {
        for (err, code, status, detail) in every_variant() {
            assert_eq!(err.error_code(), code, "{err:?}");
            assert_eq!(err.status(), status, "{err:?}");
            assert_eq!(err.detail(), detail, "{err:?}");
        }
    }

    #[test]
    fn causes_reach_source_but_never_detail_or_display() {
        for (err, ..) in every_variant() {
            assert!(!err.detail().contains("hunter2"), "{err:?}");
            assert!(!err.to_string().contains("hunter2"), "{err:?}");
        }
        let err = AppError::database(std::io::Error::other(SECRET));
        assert_eq!(err.source().unwrap().to_string(), SECRET);
        let err = AppError::database_unavailable(std::io::Error::other(SECRET));
        assert_eq!(err.source().unwrap().to_string(), SECRET);
    }

    #[test]
    fn retry_after_is_given_for_429_and_503_only() {
        for (err, ..) in every_variant() {
            let expected = matches!(err.status(), 429 | 503);
            assert_eq!(err.retry_after().is_some(), expected, "{err:?}");
        }
        let open = AppError::CircuitOpen {
            retry_after: Duration::from_millis(1500),
        };
        assert_eq!(open.retry_after(), Some(Duration::from_millis(1500)));
    }

    #[test]
    fn only_validation_errors_carry_fields() {
        for (err, ..) in every_variant() {
            let has_fields = !err.field_errors().is_empty();
            let is_field_validation =
                matches!(&err, AppError::Validation(fields) if !fields.is_empty());
            assert_eq!(has_fields, is_field_validation, "{err:?}");
        }
        let err = AppError::Validation(vec![
            FieldError::new("email", "required"),
            FieldError::new("password", "too short"),
        ]);
        assert_eq!(err.detail(), "email: required; password: too short");
    }
}
