//! Typed configuration of the binary, read once at start from environment variables (which
//! `main` fills from `.env` first), with one clear error line naming any bad variable.
//!
//! Nothing here is global: `main` builds a [`Settings`] and passes it down, and tests build
//! one with [`Settings::from_lookup`] over a map or `Settings::for_tests` (feature
//! `test-support`), never touching the process environment. Each value is parsed here once
//! into the type its user needs (`DbConfig`, `HeaderName`, [`LogFilter`]…), so nothing later
//! parses it again or has its own error line for it.
//!
//! - `model`: the [`Settings`] struct, its defaults and its redacting `Debug`.
//! - `load`: reading each variable ([`Settings::from_env`], [`Settings::from_lookup`]).
//! - `parse`: parsers for single values (origins, proxies, header names, log filters…).
//! - `log_filter`: [`LogFilter`], the parsed `LOG_LEVEL`.
//! - `secret_key`: the generated JWT key kept beside the SQLite database
//!   ([`Settings::resolve_jwt_secret`]).
//! - `throttle_key`: the secret throttle keys are hashed under
//!   ([`Settings::resolve_throttle_key`]).
//! - `error`: [`ConfigError`].
//!
//! # Example
//!
//! ```
//! use std::collections::HashMap;
//!
//! use auth_service::settings::{LogFormat, Settings};
//!
//! let env = HashMap::from([("PORT", "0"), ("LOG_FORMAT", "pretty")]);
//! let settings = Settings::from_lookup(|key| env.get(key).map(|v| (*v).to_owned()))?;
//! assert_eq!(settings.bind_address().to_string(), "127.0.0.1:0");
//! assert_eq!(settings.log_format, LogFormat::Pretty);
//!
//! let env = HashMap::from([("JWT_SECRET_KEY", "too-short")]);
//! let err = Settings::from_lookup(|key| env.get(key).map(|v| (*v).to_owned())).unwrap_err();
//! assert_eq!(err.to_string(), "invalid JWT_SECRET_KEY: must be at least 32 bytes (got 9)");
//! # Ok::<(), auth_service::settings::ConfigError>(())
//! ```

mod error;
mod load;
mod log_filter;
mod model;
mod parse;
mod secret_key;
#[cfg(test)]
mod tests;
mod throttle_key;

pub use error::ConfigError;
pub use log_filter::LogFilter;
pub use model::{LogFormat, Settings};
pub use secret_key::{KEK_FILE_SUFFIX, KEY_FILE_SUFFIX};
