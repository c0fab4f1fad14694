//! Support for the black-box tests of the auth service (the `api` test binary).
//!
//! The tests start the real server — `auth_service::startup::Application`, as `main` does —
//! on a free port with a private database, and talk to it over real HTTP with `reqwest`.
//! Nothing here reaches into the server's internals: fixtures go through the public API, and
//! the only direct database writes are for states the API cannot reach (an inactive user).
//!
//! - [`TestServer`]: a running server (or, with `APP_BASE_URL`, a deployment) and a client.
//! - [`Reply`]: a response read in full, so status, headers and body can all be checked.
//! - [`TestUser`], [`Tokens`], [`User`], [`Sessions`]: fixtures and the contract's bodies,
//!   decoded strictly.
//! - [`assert_error`], [`assert_timestamp`], [`assert_wire_time`]: the contract's error
//!   envelope and time format.
//! - [`FaultyProxy`]: a TCP relay to PostgreSQL that a test cuts or slows down ([`Link`]).
//! - [`Traffic`]: steady mixed requests from a few tasks, each answer timed ([`Sample`]).
//! - [`api_test!`]: one test per backend (SQLite always; PostgreSQL with `TEST_DATABASE_URL`,
//!   reported as ignored without it).
//!
//! This crate depends on the binary's library and on `auth-persistence`'s test support; it
//! is never published.
//!
//! # Example
//!
//! ```no_run
//! use auth_tests::{TestUser, api_test};
//!
//! api_test!(async fn a_new_user_can_sign_in(server: &TestServer) {
//!     let ann = TestUser::unique("ann");
//!     ann.register(server).await;
//!     assert_eq!(ann.login(server).await.user.username, ann.username);
//! });
//! # fn main() {}
//! ```

#![expect(
    clippy::expect_used,
    clippy::missing_panics_doc,
    reason = "test support: failing loudly, with a message, is the point"
)]

mod assert;
mod macros;
mod proxy;
mod reply;
mod server;
mod session;
mod traffic;
mod user;

pub use assert::{assert_error, assert_json, assert_timestamp, assert_wire_time};
pub use macros::run;
pub use proxy::{FaultyProxy, Link};
pub use reply::Reply;
pub use server::TestServer;
pub use session::{Session, Sessions};
pub use traffic::{Sample, Traffic, percentile};
pub use user::{PASSWORD, TestUser, Tokens, User};

/// The per-test database, re-exported for [`api_test!`] bodies.
pub use auth_persistence::test_support::TestDb;
