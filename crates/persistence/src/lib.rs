//! The data layer of the auth service: users and sessions on PostgreSQL or embedded SQLite.
//!
//! One API for both backends, picked by the scheme of the database URL at run time
//! (`postgres://` / `postgresql://` or `sqlite://`). Queries are written once against a
//! portable Diesel schema; diesel-async drives PostgreSQL with its own driver (no libpq) and
//! SQLite on a thread per connection, except the hot writes (refresh rotation, throttle
//! counts, sign-ins), which SQLite runs back to back on a writer thread of the pool. No Diesel type appears in
//! this crate's public API: callers see [`DbPool`], plain records and [`RepoError`].
//!
//! - [`DbConfig`] / [`DbPool`]: settings and the connection pool.
//! - [`run_migrations`]: embedded migrations, applied at start.
//! - [`redact_url`]: a database URL with its passwords hidden, for logs and errors.
//! - [`users`] and [`sessions`]: the repositories. Writes that must not half-happen
//!   (registration, sign-in, deactivation) are single functions that run in a transaction.
//! - [`retention`]: deleting expired sessions, device tokens, idle throttle counters and old
//!   audit events in bounded batches.
//! - [`accounts`]: what a signed-in user does to their own account (sessions, password,
//!   deletion), each write in one transaction.
//!
//! # Example
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), auth_persistence::RepoError> {
//! use auth_persistence::{DbConfig, DbPool, run_migrations, users};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let config = DbConfig::new(format!("sqlite://{}", dir.path().join("auth.db").display()))?;
//! run_migrations(&config).await?;
//! let pool = DbPool::new(&config)?;
//!
//! let now = time::OffsetDateTime::now_utc();
//! let ann = users::NewUser {
//!     email: "Ann@Example.com",
//!     username: "Ann",
//!     hashed_password: "$argon2id$…",
//!     password_normalized: true,
//!     now,
//! };
//! let created = users::insert(&pool, ann).await?;
//! let found = users::find_by_email(&pool, "ann@example.com").await?;
//! assert_eq!(found.map(|u| u.id), Some(created.id));
//! # Ok(()) }
//! ```

pub mod accounts;
pub mod audit;
mod blocking;
mod cached;
mod config;
mod conn;
mod db_time;
pub mod devices;
mod email_nfc;
mod error;
mod migrate;
mod owned;
mod pg;
mod pool;
mod redact;
pub mod retention;
mod schema;
pub mod sessions;
pub mod signing_keys;
mod sqlite_writer;
#[cfg(feature = "test-support")]
pub mod test_support;
pub mod throttles;
mod tls;
pub mod users;

pub use config::{Backend, DbConfig};
pub use error::RepoError;
pub use migrate::{pending_migrations, run_migrations};
pub use pool::{DbPool, PoolStatus};
pub use redact::redact_url;
pub use tls::SslMode;
