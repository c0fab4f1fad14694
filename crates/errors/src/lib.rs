//! The wire format of the auth service's errors, usable by any service that speaks it.
//!
//! It defines *what a client is told*, and nothing about how it travels or what caused it:
//! no HTTP framework, database or runtime types appear here (a status code is a plain `u16`),
//! and no crate's failure is classified here — each layer has its own error type, and the
//! transport maps those onto these codes.
//!
//! - [`ErrorCode`]: the stable, `SCREAMING_SNAKE` codes of the HTTP contract, each with its
//!   status and a safe default message.
//! - [`FieldError`]: one failing field of a request.
//! - [`ErrorBody`]: the JSON envelope every non-2xx response carries.
//! - [`timestamp`]: the one RFC 3339 format (UTC, milliseconds, `Z`) used on the wire.
//!
//! # Example
//!
//! ```
//! use auth_errors::{ErrorBody, ErrorCode};
//!
//! let body = ErrorBody::from_code(ErrorCode::ServiceUnavailable, "req-1", time::OffsetDateTime::UNIX_EPOCH);
//! assert_eq!(body.error_code.status(), 503);
//! assert_eq!(body.detail, "Service temporarily unavailable");
//! assert_eq!(body.request_id, "req-1");
//! ```

mod body;
mod code;
mod field;
pub mod timestamp;

pub use body::{ErrorBody, join_fields};
pub use code::ErrorCode;
pub use field::FieldError;
