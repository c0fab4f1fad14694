//! The databases under the processes, and reading them directly (through the data layer's
//! public queries) to check what a crash or a shutdown left behind.

use std::collections::HashMap;

use auth_crypto::sha256_hex;
use auth_persistence::audit::{self, AuditRecord};
use auth_persistence::sessions::{self, SessionRecord};
use auth_persistence::test_support::TestDb;
use auth_persistence::users::{self, UserRecord};
use auth_persistence::{DbPool, accounts};
use time::OffsetDateTime;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in a temporary directory.
    Sqlite,
    /// A database of its own on the server named by `TEST_DATABASE_URL`.
    Postgres,
}

/// A fresh, migrated database of `backend`, dropped with the value.
pub async fn fresh(backend: Backend) -> TestDb {
    match backend {
        Backend::Sqlite => TestDb::sqlite().await,
        Backend::Postgres => TestDb::postgres().await,
    }
}

/// A PostgreSQL database of its own with nothing in it: not even the migrations' table.
pub async fn empty_postgres() -> TestDb {
    let db = TestDb::postgres().await;
    db.batch_execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        .await;
    db
}

/// The `DATABASE_URL` of `db`.
pub fn url(db: &TestDb) -> String {
    db.config().url().to_owned()
}

/// Every user whose id is below `below` (ids are handed out in increasing order, so a user
/// registered after the others bounds them all).
pub async fn users_below(pool: &DbPool, below: i64) -> Vec<UserRecord> {
    let mut found = Vec::new();
    for id in 1..below {
        if let Some(user) = users::find_by_id(pool, id).await.expect("find user") {
            found.push(user);
        }
    }
    found
}

/// Every audit row, oldest first.
pub async fn audit_rows(pool: &DbPool) -> Vec<AuditRecord> {
    let mut rows = audit::recent(pool, 1_000_000).await.expect("audit rows");
    rows.reverse();
    rows
}

/// How many audit rows of `event` each user has.
pub fn events_per_user(rows: &[AuditRecord], event: &str) -> HashMap<i64, usize> {
    let mut counts = HashMap::new();
    for row in rows.iter().filter(|row| row.event == event) {
        *counts
            .entry(row.user_id.expect("a user on a state-change row"))
            .or_default() += 1;
    }
    counts
}

/// The user's sessions that are not revoked, expired or idle.
pub async fn live_sessions(pool: &DbPool, user_id: i64) -> Vec<SessionRecord> {
    let now = OffsetDateTime::now_utc();
    accounts::live_sessions(pool, user_id, now, now - time::Duration::days(1))
        .await
        .expect("sessions")
}

/// The session (refresh chain) `sid`.
pub async fn session(pool: &DbPool, sid: &str) -> SessionRecord {
    sessions::find(pool, sid)
        .await
        .expect("find session")
        .unwrap_or_else(|| panic!("session {sid} is missing"))
}

/// The stored form of a token id.
pub fn jti_hash(jti: &str) -> String {
    sha256_hex(jti)
}
