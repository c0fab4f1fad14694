//! The JSON envelope of every non-2xx response.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{ErrorCode, FieldError};

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
/// use auth_errors::{ErrorBody, ErrorCode};
/// use time::macros::datetime;
///
/// let body = ErrorBody::from_code(ErrorCode::InvalidToken, "abc", datetime!(2024-01-15 10:30:45.123 UTC));
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

    /// The envelope of a validation failure: code `VALIDATION_ERROR`, one entry per failing
    /// field, and a detail that lists them (the default detail when there are none).
    ///
    /// ```
    /// use auth_errors::{ErrorBody, FieldError};
    ///
    /// let fields = vec![FieldError::new("email", "is required")];
    /// let body = ErrorBody::validation(fields, "r", time::OffsetDateTime::UNIX_EPOCH);
    /// assert_eq!(body.detail, "email: is required");
    /// assert_eq!(body.errors.unwrap().len(), 1);
    /// ```
    pub fn validation(
        fields: Vec<FieldError>,
        request_id: impl Into<String>,
        at: OffsetDateTime,
    ) -> Self {
        let mut body = Self::from_code(ErrorCode::ValidationError, request_id, at);
        if !fields.is_empty() {
            body.detail = join_fields(&fields);
            body.errors = Some(fields);
        }
        body
    }
}

/// The fields of a validation failure as one line: `email: is required; password: …`.
pub fn join_fields(fields: &[FieldError]) -> String {
    let parts: Vec<String> = fields.iter().map(ToString::to_string).collect();
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::ErrorBody;
    use crate::{ErrorCode, FieldError};

    #[test]
    fn serialises_to_the_contract_shape() {
        let at = datetime!(2024-01-15 10:30:45.123 UTC);
        let body = ErrorBody::from_code(ErrorCode::InvalidCredentials, "550e8400", at);
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
        let fields = vec![
            FieldError::new("email", "required"),
            FieldError::new("password", "too short"),
        ];
        let body = ErrorBody::validation(fields, "r", at);
        assert_eq!(body.detail, "email: required; password: too short");
        let json = serde_json::to_string(&body).unwrap();
        assert!(
            json.contains(r#""errors":[{"field":"email","message":"required"}"#),
            "{json}"
        );
        let back: ErrorBody = serde_json::from_str(&json).unwrap();
        assert_eq!(back, body);
    }

    #[test]
    fn a_validation_failure_without_fields_keeps_the_default_detail() {
        let body = ErrorBody::validation(Vec::new(), "r", datetime!(2024-01-15 0:00 UTC));
        assert_eq!(body.detail, "Request validation failed");
        assert_eq!(body.errors, None);
    }

    #[test]
    fn from_code_uses_the_default_detail() {
        let body = ErrorBody::from_code(ErrorCode::NotFound, "r", datetime!(2024-01-15 0:00 UTC));
        assert_eq!(body.detail, "Not found");
        assert_eq!(body.errors, None);
    }
}
