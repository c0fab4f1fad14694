//! The business logic of the auth service, usable from any Rust program: no HTTP here.
//!
//! [`AuthService`] registers users, signs them in by email or username, rotates refresh
//! tokens (with a grace window and reuse detection), signs them out and identifies bearers;
//! a signed-in user changes their password, lists and ends their sessions, or deletes the
//! account.
//! Inputs are parsed at the edge into validated types ([`RegisterInput`], [`LoginInput`]);
//! each operation family fails with its own enum ([`RegisterError`], [`LoginError`],
//! [`RefreshError`], [`TokenError`], [`AccountError`], [`AdminError`]) listing exactly what
//! can happen, so a caller can map every case to its transport. [`AdminService`] holds the operator's actions.
//! The domain's vocabulary ([`User`], [`UserId`], [`SessionId`], …) is all a caller sees:
//! no database record, no password hash.
//!
//! Operations that throttle, audit or open sessions take a [`RequestContext`] (request id,
//! client address, user agent).
//!
//! Password hashing runs on a fixed set of threads with a fixed memory budget, behind a bounded
//! queue that sheds sign-ins it cannot serve in time ([`HashingLimits`], [`Fault::Overloaded`]);
//! every database call goes through the circuit breaker, whose open state surfaces as `SERVICE_UNAVAILABLE`, never as a
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
//! use auth_services::{AuthConfig, AuthDeps, AuthService, LoginInput, RegisterInput, RequestContext};
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
//! })?;
//!
//! let pw = || SecretString::from("a long passphrase");
//! let request = RequestContext::default();
//! auth.register(&request, RegisterInput::parse("ann@example.com", "ann", pw())?).await?;
//! let session = auth.login(&request, LoginInput::parse(None, Some("ANN"), pw())?).await?;
//! assert_eq!(session.user.username, "ann");
//! # Ok(()) }
//! ```

mod account;
mod admin;
mod audit;
mod auth;
mod config;
mod context;
mod domain;
mod error;
mod guard;
mod hashing;
mod ids;
mod keys;
mod login;
mod outcomes;
mod output;
mod retention;
mod throttle;
mod throttle_key;
mod tokens;
mod users;

pub use admin::{AdminService, Deactivated, PasswordReset, Unlocked, UserRef};
pub use audit::AuditEvent;
pub use auth::{AuthDeps, AuthService};
pub use config::AuthConfig;
pub use context::{RequestContext, USER_AGENT_MAX_CHARS};
pub use domain::{
    AccountDeletionInput, EMAIL_MAX_LEN, Email, LoginIdentifier, LoginInput, PASSWORD_LEN,
    PASSWORD_MIN_LENGTHS, Password, PasswordChangeInput, RegisterInput, USERNAME_LEN, Username,
    is_common,
};
pub use error::{
    AccountError, AdminError, BoxError, Fault, Invalid, LoginError, RefreshError, RegisterError,
    TokenError,
};
pub use hashing::HashingLimits;
pub use ids::{SessionId, UserId};
pub use keys::{KeyConfig, KeyInfo, KeyService, KeysError};
pub use output::{AuthSession, Principal, Session, User};
pub use retention::{Purged, RetentionConfig, RetentionService};
pub use throttle::ThrottleConfig;
pub use throttle_key::ThrottleKeySecret;

pub use users::UserService;
