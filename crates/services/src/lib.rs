//! The business logic of the auth service, usable from any Rust program: no HTTP here.
//!
//! [`AuthService`] registers users, signs them in by email or username, rotates refresh
//! tokens (with a grace window and reuse detection), signs them out and identifies bearers.
//! Inputs are parsed at the edge into validated types ([`RegisterInput`], [`LoginInput`]);
//! every error is an [`AppError`](auth_errors::AppError) a caller can map to its transport.
//!
//! Password hashing runs on the blocking pool behind a semaphore; every database call goes
//! through the circuit breaker, whose open state surfaces as `SERVICE_UNAVAILABLE`, never as a
//! failed sign-in.
//!
//! # Example
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use auth_crypto::{JwtConfig, PasswordConfig, PasswordHasher, SystemClock, TokenCodec};
//! use auth_persistence::{DbConfig, DbPool, run_migrations};
//! use auth_resilience::{BreakerConfig, CircuitBreaker};
//! use auth_services::{AuthConfig, AuthDeps, AuthService, LoginInput, RegisterInput};
//! use secrecy::SecretString;
//!
//! let dir = tempfile::tempdir()?;
//! let db = DbConfig::new(format!("sqlite://{}", dir.path().join("auth.db").display()))?;
//! run_migrations(&db).await?;
//! let clock = Arc::new(SystemClock);
//! let secret = SecretString::from("an example signing key of 32+ bytes!");
//! let auth = AuthService::new(AuthDeps {
//!     pool: DbPool::new(&db)?,
//!     hasher: PasswordHasher::new(PasswordConfig::for_tests())?,
//!     tokens: TokenCodec::new(JwtConfig::new(secret), clock.clone())?,
//!     breaker: Arc::new(CircuitBreaker::new("database", BreakerConfig::default())),
//!     clock,
//!     config: AuthConfig::default(),
//! });
//!
//! let pw = || SecretString::from("a long passphrase");
//! auth.register(RegisterInput::parse("ann@example.com", "ann", pw())?).await?;
//! let session = auth.login(LoginInput::parse(None, Some("ANN"), pw())?).await?;
//! assert_eq!(session.user.username, "ann");
//! # Ok(()) }
//! ```

mod audit;
mod auth;
mod config;
mod domain;
mod guard;
mod hashing;
mod output;
mod throttle;
mod tokens;
mod users;

pub use audit::{AuditEvent, RequestContext, with_request_context};
pub use auth::{AuthDeps, AuthService};
pub use config::AuthConfig;
pub use domain::{
    EMAIL_MAX_LEN, Email, LoginIdentifier, LoginInput, PASSWORD_LEN, Password, RegisterInput,
    USERNAME_LEN, Username, is_common,
};
pub use output::{AuthSession, Principal, UserProfile};
pub use throttle::{Budget, Throttle, ThrottleConfig};
pub use tokens::successor_jti;
pub use users::UserService;
