//! One failed field of a request, as listed in a validation error.

use serde::{Deserialize, Serialize};

/// A field that failed validation and why, e.g. `email` / `not a valid email address`.
///
/// The message is written for the client and never echoes the submitted value, so a
/// password can never leak through it.
///
/// ```
/// use auth_errors::FieldError;
///
/// let e = FieldError::new("username", "must be 3 to 32 characters");
/// assert_eq!(e.to_string(), "username: must be 3 to 32 characters");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// The name of the field in the request body, e.g. `email`.
    pub field: String,
    /// What is wrong with it, in plain words.
    pub message: String,
}

impl FieldError {
    /// Builds a field error.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}
