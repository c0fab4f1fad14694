//! The stable error codes of the HTTP contract and the status each maps to.

use serde::{Deserialize, Serialize};

/// A machine-readable error code, serialised as its `SCREAMING_SNAKE` name.
///
/// Clients branch on these codes, so they never change meaning. Each maps to one HTTP status,
/// given as a plain `u16` so this crate stays free of HTTP libraries.
///
/// ```
/// use auth_errors::ErrorCode;
///
/// assert_eq!(ErrorCode::InvalidToken.as_str(), "INVALID_TOKEN");
/// assert_eq!(ErrorCode::InvalidToken.status(), 401);
/// assert_eq!(serde_json::to_string(&ErrorCode::UserExists).unwrap(), "\"USER_EXISTS\"");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// A field is missing or invalid, or the body is not valid JSON (400).
    ValidationError,
    /// Sign-in failed, whatever the reason (401).
    InvalidCredentials,
    /// A token is missing, malformed, tampered with, of the wrong kind or revoked (401).
    InvalidToken,
    /// A token is past its `exp` (401).
    TokenExpired,
    /// No such route (404).
    NotFound,
    /// The route exists but not for this method (405).
    MethodNotAllowed,
    /// The email or username is taken (409).
    UserExists,
    /// The body is over the size limit (413).
    PayloadTooLarge,
    /// The body is not `application/json` (415).
    UnsupportedMediaType,
    /// Too many attempts; retry later (429).
    RateLimited,
    /// A dependency is down or the service is overloaded; retry later (503).
    ServiceUnavailable,
    /// Anything else (500).
    InternalError,
}

impl ErrorCode {
    /// Every code, in the order of the contract's table.
    pub const ALL: [Self; 12] = [
        Self::ValidationError,
        Self::InvalidCredentials,
        Self::InvalidToken,
        Self::TokenExpired,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::UserExists,
        Self::PayloadTooLarge,
        Self::UnsupportedMediaType,
        Self::RateLimited,
        Self::ServiceUnavailable,
        Self::InternalError,
    ];

    /// The code as it appears on the wire, e.g. `"INVALID_CREDENTIALS"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ValidationError => "VALIDATION_ERROR",
            Self::InvalidCredentials => "INVALID_CREDENTIALS",
            Self::InvalidToken => "INVALID_TOKEN",
            Self::TokenExpired => "TOKEN_EXPIRED",
            Self::NotFound => "NOT_FOUND",
            Self::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            Self::UserExists => "USER_EXISTS",
            Self::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Self::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            Self::RateLimited => "RATE_LIMITED",
            Self::ServiceUnavailable => "SERVICE_UNAVAILABLE",
            Self::InternalError => "INTERNAL_ERROR",
        }
    }

    /// The HTTP status this code is sent with.
    pub const fn status(self) -> u16 {
        match self {
            Self::ValidationError => 400,
            Self::InvalidCredentials | Self::InvalidToken | Self::TokenExpired => 401,
            Self::NotFound => 404,
            Self::MethodNotAllowed => 405,
            Self::UserExists => 409,
            Self::PayloadTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::RateLimited => 429,
            Self::ServiceUnavailable => 503,
            Self::InternalError => 500,
        }
    }

    /// A short, client-safe message for this code.
    pub const fn default_detail(self) -> &'static str {
        match self {
            Self::ValidationError => "Request validation failed",
            Self::InvalidCredentials => "Invalid credentials",
            Self::InvalidToken => "Invalid token",
            Self::TokenExpired => "Token has expired",
            Self::NotFound => "Not found",
            Self::MethodNotAllowed => "Method not allowed",
            Self::UserExists => "A user with this email or username already exists",
            Self::PayloadTooLarge => "Request body is too large",
            Self::UnsupportedMediaType => "Content-Type must be application/json",
            Self::RateLimited => "Too many requests",
            Self::ServiceUnavailable => "Service temporarily unavailable",
            Self::InternalError => "Internal server error",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn every_code_has_the_status_of_the_contract_table() {
        let table = [
            (ErrorCode::ValidationError, 400, "VALIDATION_ERROR"),
            (ErrorCode::InvalidCredentials, 401, "INVALID_CREDENTIALS"),
            (ErrorCode::InvalidToken, 401, "INVALID_TOKEN"),
            (ErrorCode::TokenExpired, 401, "TOKEN_EXPIRED"),
            (ErrorCode::NotFound, 404, "NOT_FOUND"),
            (ErrorCode::MethodNotAllowed, 405, "METHOD_NOT_ALLOWED"),
            (ErrorCode::UserExists, 409, "USER_EXISTS"),
            (ErrorCode::PayloadTooLarge, 413, "PAYLOAD_TOO_LARGE"),
            (
                ErrorCode::UnsupportedMediaType,
                415,
                "UNSUPPORTED_MEDIA_TYPE",
            ),
            (ErrorCode::RateLimited, 429, "RATE_LIMITED"),
            (ErrorCode::ServiceUnavailable, 503, "SERVICE_UNAVAILABLE"),
            (ErrorCode::InternalError, 500, "INTERNAL_ERROR"),
        ];
        assert_eq!(table.len(), ErrorCode::ALL.len());
        for (code, status, name) in table {
            assert_eq!(code.status(), status, "{name}");
            assert_eq!(code.as_str(), name);
            assert_eq!(code.to_string(), name);
            assert_eq!(serde_json::to_value(code).unwrap(), serde_json::json!(name));
            let back: ErrorCode = serde_json::from_value(serde_json::json!(name)).unwrap();
            assert_eq!(back, code);
            assert!(!code.default_detail().is_empty());
        }
    }

    #[test]
    fn codes_are_distinct() {
        let mut names: Vec<_> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ErrorCode::ALL.len());
    }
}
