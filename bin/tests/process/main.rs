//! Process-level fault tests: the real `auth-service` binary run as child processes, killed
//! with SIGKILL under load, stopped with SIGTERM mid-request, and run as several replicas on
//! one PostgreSQL database, then checked over HTTP and by reading the database directly.
//!
//! A binary of its own (not a module of `http`): these tests start processes and spend
//! seconds of wall time each, so they must not share a process with the in-process tests.
#![cfg(test)]
#![cfg(unix)]

mod client;
mod crash;
mod database;
mod harness;
mod replicas;
mod shutdown;

use auth_persistence::test_support::{postgres_required, postgres_url};

/// Never ignored: without `TEST_DATABASE_URL` the PostgreSQL variants here are only reported
/// as ignored, so this is the test that makes a `REQUIRE_POSTGRES=1` run fail instead.
#[test]
fn require_postgres_has_a_database_url() {
    assert!(
        !postgres_required() || postgres_url().is_some(),
        "REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is unset or empty: \
         the PostgreSQL process tests would be ignored instead of run"
    );
}
