//! Private, self-cleaning databases for tests (feature `test-support`).
//!
//! [`TestDb::sqlite`] makes a migrated SQLite file in a temporary directory.
//! [`TestDb::postgres`] creates a migrated database of its own on the server named by
//! `TEST_DATABASE_URL` and drops it when the value is dropped; leftovers of crashed runs older
//! than an hour are swept on first use. Without `TEST_DATABASE_URL` it panics: a test that asks
//! for PostgreSQL fails rather than passing without having run.
//! [`db_test!`](crate::db_test) writes one test per backend from one body; its PostgreSQL
//! variant is compiled as ignored unless `TEST_DATABASE_URL` was set for the build.
//!
//! `REQUIRE_POSTGRES=1` says a run must include PostgreSQL: a test of this module that is
//! never ignored then fails when `TEST_DATABASE_URL` is unset or empty.

#![expect(
    clippy::expect_used,
    reason = "test support: failing loudly is the point"
)]
#![expect(
    clippy::print_stderr,
    reason = "test support: cleanup failures go to the test output"
)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

use crate::{DbConfig, DbPool, RepoError, run_migrations};

mod faults;

pub use faults::{HeldLock, on_every_connection};

/// Names of per-test PostgreSQL databases start with this.
const PREFIX: &str = "authtest_";
/// Leftover test databases older than this are dropped.
const SWEEP_AFTER_SECS: u64 = 3600;

static SWEPT: AtomicBool = AtomicBool::new(false);

/// A migrated database that belongs to one test and disappears with it.
pub struct TestDb {
    config: DbConfig,
    pool: DbPool,
    guard: Guard,
}

enum Guard {
    Sqlite(#[expect(dead_code, reason = "held for its Drop")] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    /// A fresh, migrated SQLite database in a temporary file.
    ///
    /// # Panics
    ///
    /// If the file cannot be created or migrated.
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("test.db");
        let config = DbConfig::new(format!("sqlite://{}", path.display())).expect("sqlite url");
        Self::migrated(config, Guard::Sqlite(dir)).await
    }

    /// A fresh, migrated PostgreSQL database on the server named by `TEST_DATABASE_URL`.
    ///
    /// # Panics
    ///
    /// If `TEST_DATABASE_URL` is unset or empty, or the server refuses: a PostgreSQL test
    /// fails rather than passing without having run.
    pub async fn postgres() -> Self {
        let admin_url =
            postgres_url().expect("TEST_DATABASE_URL is not set: this PostgreSQL test cannot run");
        let mut admin = admin_connection(&admin_url)
            .await
            .expect("TEST_DATABASE_URL does not answer");
        if !SWEPT.swap(true, Ordering::SeqCst) {
            sweep(&mut admin).await;
        }
        let name = format!("{PREFIX}{}_{}", unix_now(), uuid::Uuid::new_v4().simple());
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .await
            .expect("CREATE DATABASE");
        let config = DbConfig::new(with_database(&admin_url, &name)).expect("postgres url");
        Self::migrated(config, Guard::Postgres { admin_url, name }).await
    }

    async fn migrated(config: DbConfig, guard: Guard) -> Self {
        run_migrations(&config).await.expect("migrations");
        let pool = DbPool::new(&config).expect("pool");
        Self {
            config,
            pool,
            guard,
        }
    }

    /// The pool of this database.
    pub fn pool(&self) -> &DbPool {
        &self.pool
    }

    /// Runs `sql` (one or more statements) directly: for states the repositories cannot
    /// reach, such as rows written by an older version.
    ///
    /// # Panics
    ///
    /// If a statement fails.
    pub async fn batch_execute(&self, sql: &str) {
        let mut pooled = self.pool.get().await.expect("connection");
        crate::conn::on_conn!(pooled.conn(), |c| c.batch_execute(sql).await).expect("SQL");
    }

    /// The settings of this database (its URL, for a server under test).
    pub fn config(&self) -> &DbConfig {
        &self.config
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        self.pool.close();
        if let Guard::Postgres { admin_url, name } = &self.guard {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop may run inside a runtime that must not block on itself: use a thread with
            // a runtime of its own.
            let dropped = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                runtime.block_on(async {
                    let mut admin = admin_connection(&admin_url).await?;
                    admin
                        .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                        .await?;
                    Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
                })
            })
            .join();
            if !matches!(dropped, Ok(Ok(()))) {
                eprintln!("could not drop a test database; the next run sweeps it");
            }
        }
    }
}

/// A connection to the server of `TEST_DATABASE_URL`, with the TLS its `sslmode` asks for.
async fn admin_connection(admin_url: &str) -> Result<AsyncPgConnection, RepoError> {
    let config = DbConfig::new(admin_url)?;
    Ok(crate::pg::connect(config.postgres_target()?).await?)
}

/// The PostgreSQL server for tests: `TEST_DATABASE_URL`, or `None` when it is unset or empty.
pub fn postgres_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
}

/// Whether the run must include PostgreSQL (`REQUIRE_POSTGRES=1`).
pub fn postgres_required() -> bool {
    std::env::var("REQUIRE_POSTGRES").as_deref() == Ok("1")
}

#[derive(QueryableByName)]
struct DatabaseName {
    #[diesel(sql_type = diesel::sql_types::Text)]
    datname: String,
}

async fn sweep(admin: &mut AsyncPgConnection) {
    let Ok(names) = diesel::sql_query(format!(
        "SELECT datname FROM pg_database WHERE datname LIKE '{PREFIX}%'"
    ))
    .load::<DatabaseName>(admin)
    .await
    else {
        return;
    };
    let cutoff = unix_now().saturating_sub(SWEEP_AFTER_SECS);
    for DatabaseName { datname } in names {
        let created = datname
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('_').next())
            .and_then(|secs| secs.parse::<u64>().ok());
        // Only names this module makes: nothing that could close the quoted identifier.
        let ours = datname
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if ours && created.is_some_and(|secs| secs < cutoff) {
            let _ = admin
                .batch_execute(&format!(
                    "DROP DATABASE IF EXISTS \"{datname}\" WITH (FORCE)"
                ))
                .await;
        }
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `url` with its database name replaced by `name` (query string kept).
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_and_path = &base[scheme_end..];
    let host = host_and_path.split('/').next().unwrap_or(host_and_path);
    let mut out = format!("{}{host}/{name}", &base[..scheme_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// Writes one test per backend from one body. The body sees `$db: &TestDb`.
///
/// - `NAME::sqlite` always runs.
/// - `NAME::postgres` runs when `TEST_DATABASE_URL` is set, and fails if the server does not
///   answer. Without it the test is reported as ignored (`needs TEST_DATABASE_URL`), so the
///   count of passed tests is the count of tests that ran.
///
/// Whether the variant is ignored is decided when the tests are compiled, by
/// `cfg(postgres_tests)` in the crate where the macro expands: that crate needs a build script
/// that sets it from `TEST_DATABASE_URL` (see this crate's `build.rs`).
///
/// ```text
/// auth_persistence::db_test!(async fn finds_nothing(db) {
///     assert!(auth_persistence::users::find_by_id(db.pool(), 1).await.unwrap().is_none());
/// });
/// ```
#[macro_export]
macro_rules! db_test {
    ($(#[$meta:meta])* async fn $name:ident($db:ident) $body:block) => {
        $(#[$meta])*
        mod $name {
            // A body may or may not use its module's imports; `expect` would fail one way.
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let test_db = $crate::test_support::TestDb::sqlite().await;
                let $db = &test_db;
                $body
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(not(postgres_tests), ignore = "needs TEST_DATABASE_URL")]
            async fn postgres() {
                let test_db = $crate::test_support::TestDb::postgres().await;
                let $db = &test_db;
                $body
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::{postgres_required, postgres_url, with_database};

    /// Never ignored: without `TEST_DATABASE_URL` the PostgreSQL variants are only reported
    /// as ignored, so this is the test that makes `REQUIRE_POSTGRES=1` fail such a run.
    #[test]
    fn require_postgres_has_a_database_url() {
        assert!(
            !postgres_required() || postgres_url().is_some(),
            "REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is unset or empty: \
             the PostgreSQL tests would be ignored instead of run"
        );
    }

    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(with_database("postgres://h", "t1"), "postgres://h/t1");
        assert_eq!(
            with_database("postgres://h/db?sslmode=disable", "t"),
            "postgres://h/t?sslmode=disable"
        );
    }
}
