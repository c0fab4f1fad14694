//! Error responses shared by the operations, for the OpenAPI document. Every one of them
//! carries the `ErrorBody` envelope.

use auth_errors::ErrorBody;
use utoipa::IntoResponses;

/// Errors of any operation that reads a JSON body.
#[derive(IntoResponses)]
pub enum BodyErrors {
    /// A field is missing or invalid, or the body is not JSON.
    #[response(
        status = 400,
        description = "VALIDATION_ERROR: a field is missing or invalid, or the body is not valid JSON"
    )]
    Validation(ErrorBody),
    /// Body over the limit.
    #[response(
        status = 413,
        description = "PAYLOAD_TOO_LARGE: the body is over the limit (16 KiB by default)"
    )]
    TooLarge(ErrorBody),
    /// Not JSON.
    #[response(
        status = 415,
        description = "UNSUPPORTED_MEDIA_TYPE: Content-Type is not application/json"
    )]
    MediaType(ErrorBody),
    /// Too many attempts.
    #[response(status = 429, description = "RATE_LIMITED: too many attempts", headers(("Retry-After" = u64, description = "Seconds to wait")))]
    RateLimited(ErrorBody),
    /// Anything unexpected.
    #[response(status = 500, description = "INTERNAL_ERROR")]
    Internal(ErrorBody),
    /// Database down or breaker open.
    #[response(status = 503, description = "SERVICE_UNAVAILABLE: the database is unavailable", headers(("Retry-After" = u64, description = "Seconds to wait")))]
    Unavailable(ErrorBody),
}

/// Errors of an operation that needs a bearer access token.
#[derive(IntoResponses)]
pub enum BearerErrors {
    /// Missing, malformed, expired, revoked or wrong-kind token.
    #[response(status = 401, description = "INVALID_TOKEN or TOKEN_EXPIRED", headers(("WWW-Authenticate" = String, description = "Bearer challenge")))]
    Unauthorized(ErrorBody),
    /// Anything unexpected.
    #[response(status = 500, description = "INTERNAL_ERROR")]
    Internal(ErrorBody),
    /// Database down or breaker open.
    #[response(status = 503, description = "SERVICE_UNAVAILABLE: the database is unavailable", headers(("Retry-After" = u64, description = "Seconds to wait")))]
    Unavailable(ErrorBody),
}

/// Errors of an operation that needs a bearer access token and proves the request with the
/// account's password (checked as a sign-in).
#[derive(IntoResponses)]
pub enum PasswordCheckErrors {
    /// A field is missing or invalid, or the body is not JSON.
    #[response(
        status = 400,
        description = "VALIDATION_ERROR: a field is missing or invalid (a new password that breaks the rules or equals the current one names `new_password`), or the body is not valid JSON"
    )]
    Validation(ErrorBody),
    /// Wrong password, or a bad token.
    #[response(status = 401, description = "INVALID_CREDENTIALS: wrong password or locked account, counted as a failed sign-in; or INVALID_TOKEN / TOKEN_EXPIRED for the access token, with a Bearer challenge", headers(("WWW-Authenticate" = String, description = "Bearer challenge, on INVALID_TOKEN and TOKEN_EXPIRED")))]
    Unauthorized(ErrorBody),
    /// Body over the limit.
    #[response(
        status = 413,
        description = "PAYLOAD_TOO_LARGE: the body is over the limit (16 KiB by default)"
    )]
    TooLarge(ErrorBody),
    /// Not JSON.
    #[response(
        status = 415,
        description = "UNSUPPORTED_MEDIA_TYPE: Content-Type is not application/json"
    )]
    MediaType(ErrorBody),
    /// Too many password attempts.
    #[response(status = 429, description = "RATE_LIMITED: too many password attempts (the sign-in throttling)", headers(("Retry-After" = u64, description = "Seconds to wait")))]
    RateLimited(ErrorBody),
    /// Anything unexpected.
    #[response(status = 500, description = "INTERNAL_ERROR")]
    Internal(ErrorBody),
    /// Database down or breaker open.
    #[response(status = 503, description = "SERVICE_UNAVAILABLE: the database is unavailable", headers(("Retry-After" = u64, description = "Seconds to wait")))]
    Unavailable(ErrorBody),
}
