//! The JSON envelope of every non-2xx response.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{AppError, ErrorCode, FieldError};

/// The body of every error response:
///
/// ```json
/// {"detail": "Invalid credentials", "error_code": "INVALID_CREDENTIALS",
///  "timestamp": "2024-01-15T10:30:45.123Z", "request_id": "550e8400-…"}
/// ```
///
/// `errors` is present only for validation failures. It deserialises too, so clients and tests
/// can decode it with the same type.
///
/// ```
/// use auth_errors::{AppError, ErrorBody};
/// use time::macros::datetime;
///
/// let body = ErrorBody::from_error(&AppError::InvalidToken, "abc", datetime!(2024-01-15 10:30:45.123 UTC));
/// let json = serde_json::to_value(&body).unwrap();
/// assert_eq!(json["error_code"], "INVALID_TOKEN");
/// assert_eq!(json["timestamp"], "2024-01-15T10:30:45.123Z");
/// assert!(json.get("errors").is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// A human-readable, client-safe message.
    #[cfg_attr(feature = "openapi", schema(example = "Invalid credentials"))]
    pub detail: String,
    /// The stable machine-readable code.
    pub error_code: ErrorCode,
    /// When the error happened: RFC 3339, UTC, milliseconds.
    #[serde(with = "crate::timestamp")]
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = String, format = DateTime, example = "2024-01-15T10:30:45.123Z")
    )]
    pub timestamp: OffsetDateTime,
    /// The request id, also sent in the `X-Request-ID` response header.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "550e8400-e29b-41d4-a716-446655440000")
    )]
    pub request_id: String,
    /// The failing fields, for validation errors only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

impl ErrorBody {
    /// Builds the envelope for `error`, as seen by request `request_id` at `at`.
    pub fn from_error(error: &AppError, request_id: impl Into<String>, at: OffsetDateTime) -> Self {
        let fields = error.field_errors();
        Self {
            detail: error.detail().into_owned(),
            error_code: error.error_code(),
            timestamp: at,
            request_id: request_id.into(),
            errors: (!fields.is_empty()).then(|| fields.to_vec()),
        }
    }

    /// Builds the envelope for a bare code with its default message.
    pub fn from_code(code: ErrorCode, request_id: impl Into<String>, at: OffsetDateTime) -> Self {
        Self {
            detail: code.default_detail().to_owned(),
            error_code: code,
            timestamp: at,
            request_id: request_id.into(),
            errors: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::ErrorBody;
    use crate::{AppError, ErrorCode, FieldError};

    #[test]
    fn serialises_to_the_contract_shape() {
        let at = datetime!(2024-01-15 10:30:45.123 UTC);
        let body = ErrorBody::from_error(&AppError::InvalidCredentials, "550e8400", at);
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "detail": "Invalid credentials",
                "error_code": "INVALID_CREDENTIALS",
                "timestamp": "2024-01-15T10:30:45.123Z",
                "request_id": "550e8400",
            })
        );
    }

    #[test]
    fn validation_errors_list_their_fields_and_round_trip() {
        let at = datetime!(2024-01-15 10:30:45.123 UTC);
        let err = AppError::Validation(vec![FieldError::new("email", "required")]);
        let body = ErrorBody::from_error(&err, "r", at);
        let json = serde_json::to_string(&body).unwrap();
        assert!(
            json.contains(r#""errors":[{"field":"email","message":"required"}]"#),
            "{json}"
        );
        let back: ErrorBody = serde_json::from_str(&json).unwrap();
        assert_eq!(back, body);
    }

    #[test]
    fn from_code_uses_the_default_detail() {
        let body = ErrorBody::from_code(ErrorCode::NotFound, "r", datetime!(2024-01-15 0:00 UTC));
        assert_eq!(body.detail, "Not found");
        assert_eq!(body.errors, None);
    }
}
