//! The error vocabulary shared by every crate of the auth service.
//!
//! It defines *what went wrong* in terms a client can rely on, and nothing about how it
//! travels: no HTTP framework, database or runtime types appear here (a status code is a
//! plain `u16`), so any Rust program can use it.
//!
//! - [`ErrorCode`]: the stable, `SCREAMING_SNAKE` codes of the HTTP contract, each with its
//!   status and a safe default message.
//! - [`AppError`]: the classified error that domain crates convert their own errors into.
//!   Its [`detail`](AppError::detail) is always safe to show; its
//!   [`source`](std::error::Error::source) keeps the cause for logs.
//! - [`ErrorBody`]: the JSON envelope every non-2xx response carries.
//! - [`timestamp`]: the one RFC 3339 format (UTC, milliseconds, `Z`) used on the wire.
//!
//! # Example
//!
//! ```
//! use auth_errors::{AppError, ErrorBody, ErrorCode};
//!
//! // A lower layer failed; the client must not learn why.
//! let io = std::io::Error::other("connection to 10.0.0.7:5432 refused");
//! let err = AppError::database_unavailable(io);
//! assert_eq!(err.error_code(), ErrorCode::ServiceUnavailable);
//! assert_eq!(err.status(), 503);
//! assert!(!err.detail().contains("10.0.0.7"));
//!
//! // The envelope a server sends for it.
//! let body = ErrorBody::from_error(&err, "req-1", time::OffsetDateTime::UNIX_EPOCH);
//! assert_eq!(body.error_code, ErrorCode::ServiceUnavailable);
//! assert_eq!(body.request_id, "req-1");
//! ```

mod app_error;
mod body;
mod code;
mod field;
pub mod timestamp;

pub use app_error::{AppError, BoxError};
pub use body::ErrorBody;
pub use code::ErrorCode;
pub use field::FieldError;
