//! Schema migrations, embedded in the binary and applied at start.
//!
//! Diesel's migration harness is synchronous, so it runs on the blocking pool: on PostgreSQL
//! through diesel-async's `AsyncConnectionWrapper` (no libpq), on SQLite through a plain
//! `SqliteConnection`. That works on any Tokio runtime, current-thread included. On PostgreSQL
//! an advisory lock serialises instances that start at the same moment.

use diesel::{Connection as _, RunQueryDsl as _, SqliteConnection};
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::{Backend, DbConfig, RepoError, email_nfc};

const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// Arbitrary key of the advisory lock held while migrating PostgreSQL.
const MIGRATION_LOCK_KEY: i64 = 0x0061_7574_686d_6967; // "authmig"

/// Applies every pending migration and returns the versions it applied (empty when the schema
/// is current), then the data migrations written in Rust (stored emails brought to Unicode
/// NFC, once). Safe to call on every start, and from several instances at once.
///
/// # Errors
///
/// [`RepoError::Unavailable`] when the database cannot be reached, [`RepoError::Migration`]
/// when a migration fails (the failed one is rolled back), also when two stored emails are the
/// same once normalised (the message names their ids; nothing is changed); [`RepoError::Tls`]
/// when the TLS handshake `sslmode` asks for fails.
pub async fn run_migrations(config: &DbConfig) -> Result<Vec<String>, RepoError> {
    let config = config.clone();
    tokio::task::spawn_blocking(move || match config.backend() {
        Backend::Postgres => migrate_postgres(connect_postgres(&config)?),
        Backend::Sqlite => {
            // Migrations open the database first: create it owner-only before SQLite does.
            config
                .create_sqlite_file()
                .map_err(RepoError::unavailable)?;
            migrate_sqlite(config.sqlite_path())
        }
    })
    .await
    .map_err(RepoError::unavailable)?
}

/// The versions of the migrations this build would apply, oldest first (empty when the
/// schema is current). Reads only: nothing is applied, no lock is taken.
///
/// # Errors
///
/// [`RepoError::Unavailable`] when the database cannot be reached, [`RepoError::Migration`]
/// when the applied versions cannot be read.
pub async fn pending_migrations(config: &DbConfig) -> Result<Vec<String>, RepoError> {
    let config = config.clone();
    tokio::task::spawn_blocking(move || match config.backend() {
        Backend::Postgres => pending(&mut connect_postgres(&config)?, POSTGRES),
        Backend::Sqlite => {
            config
                .create_sqlite_file()
                .map_err(RepoError::unavailable)?;
            let mut conn = SqliteConnection::establish(config.sqlite_path())
                .map_err(RepoError::unavailable)?;
            pending(&mut conn, SQLITE)
        }
    })
    .await
    .map_err(RepoError::unavailable)?
}

fn pending<C>(conn: &mut C, migrations: EmbeddedMigrations) -> Result<Vec<String>, RepoError>
where
    C: MigrationHarness<C::Backend> + diesel::Connection,
{
    let pending = conn
        .pending_migrations(migrations)
        .map_err(RepoError::Migration)?;
    Ok(pending
        .iter()
        .map(|m| m.name().version().to_string())
        .collect())
}

/// A blocking connection for the migration harness, with the TLS `sslmode` asks for. Called
/// on the blocking pool: the wrapper blocks on this runtime's handle, as the connection is
/// opened here.
fn connect_postgres(
    config: &DbConfig,
) -> Result<AsyncConnectionWrapper<AsyncPgConnection>, RepoError> {
    let conn = tokio::runtime::Handle::current()
        .block_on(crate::pg::connect(config.postgres_target()?))?;
    Ok(AsyncConnectionWrapper::from(conn))
}
fn migrate_postgres(
    mut conn: AsyncConnectionWrapper<AsyncPgConnection>,
) -> Result<Vec<String>, RepoError> {
    diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
        .execute(&mut conn)?;
    let applied = apply(&mut conn, POSTGRES)
        .and_then(|applied| email_nfc::on_postgres(&mut conn, now()).map(|_| applied));
    // The lock also ends with the session; unlocking early lets a waiting instance go on.
    let unlocked = diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
        .execute(&mut conn);
    let applied = applied?;
    unlocked?;
    Ok(applied)
}

fn migrate_sqlite(path: &str) -> Result<Vec<String>, RepoError> {
    let mut conn = SqliteConnection::establish(path).map_err(RepoError::unavailable)?;
    diesel::sql_query("PRAGMA busy_timeout = 5000").execute(&mut conn)?;
    // WAL is a property of the file: set once here, while nothing else has the database open,
    // it is already in place when the pool's connections open. Switching a file to WAL takes
    // an exclusive lock, which a pool connection opening beside a running write transaction
    // could be refused at once (SQLite's deadlock rule skips the busy handler there).
    diesel::sql_query("PRAGMA journal_mode = WAL").execute(&mut conn)?;
    let applied = apply(&mut conn, SQLITE)?;
    email_nfc::on_sqlite(&mut conn, now())?;
    Ok(applied)
}

fn now() -> time::PrimitiveDateTime {
    crate::db_time::to_db(time::OffsetDateTime::now_utc())
}

fn apply<C>(conn: &mut C, migrations: EmbeddedMigrations) -> Result<Vec<String>, RepoError>
where
    C: MigrationHarness<C::Backend> + diesel::Connection,
{
    let versions = conn
        .run_pending_migrations(migrations)
        .map_err(RepoError::Migration)?;
    let versions: Vec<String> = versions.iter().map(ToString::to_string).collect();
    if !versions.is_empty() {
        tracing::info!(migrations = ?versions, "applied database migrations");
    }
    Ok(versions)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use diesel::{Connection as _, SqliteConnection};
    use diesel_migrations::MigrationHarness as _;

    use super::{SQLITE, apply};

    fn folder_names(backend: &str) -> BTreeSet<String> {
        let dir = format!("{}/../../migrations/{backend}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn both_backends_have_the_same_migrations() {
        let postgres = folder_names("postgres");
        assert!(!postgres.is_empty());
        assert_eq!(postgres, folder_names("sqlite"));
    }

    #[test]
    fn sqlite_migrations_go_up_down_and_up_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        assert_eq!(
            apply(&mut conn, SQLITE).unwrap().len(),
            folder_names("sqlite").len()
        );
        assert!(
            apply(&mut conn, SQLITE).unwrap().is_empty(),
            "second run applies nothing"
        );
        assert!(super::pending(&mut conn, SQLITE).unwrap().is_empty());
        conn.revert_all_migrations(SQLITE).unwrap();
        assert_eq!(
            super::pending(&mut conn, SQLITE).unwrap().len(),
            folder_names("sqlite").len(),
            "all pending once reverted"
        );
        assert_eq!(
            apply(&mut conn, SQLITE).unwrap().len(),
            folder_names("sqlite").len()
        );
    }

    /// The rebuild of `users` (`AUTOINCREMENT`) runs with foreign keys off: with them on,
    /// dropping the old table would cascade to every session.
    #[test]
    fn the_users_rebuild_keeps_sessions_and_never_reuses_ids() {
        use diesel::RunQueryDsl as _;
        use diesel::connection::SimpleConnection as _;

        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let count = |conn: &mut SqliteConnection, sql: &str| {
            diesel::sql_query(sql).get_result::<Count>(conn).unwrap().n
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        // Every migration before the rebuild.
        let before = folder_names("sqlite")
            .iter()
            .take_while(|name| !name.ends_with("_user_ids_never_reused"))
            .count();
        for _ in 0..before {
            conn.run_next_migration(SQLITE).unwrap();
        }
        conn.batch_execute(
            "PRAGMA foreign_keys = ON;
             INSERT INTO users (email, email_normalized, username, username_normalized,
                 hashed_password, created_at, updated_at)
             VALUES ('a@x.io', 'a@x.io', 'a', 'a', 'h', '2024-01-01', '2024-01-01'),
                    ('b@x.io', 'b@x.io', 'b', 'b', 'h', '2024-01-01', '2024-01-01');
             INSERT INTO sessions (id, user_id, current_jti_hash, created_at, last_used_at,
                 expires_at)
             VALUES ('s', 2, 'h', '2024-01-01', '2024-01-01', '2024-01-08');
             INSERT INTO audit_events (occurred_at, event, user_id)
             VALUES ('2024-01-01', 'account_deleted', 7);",
        )
        .unwrap();
        assert!(!apply(&mut conn, SQLITE).unwrap().is_empty());
        assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM sessions"), 1);
        assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM users"), 2);
        conn.batch_execute(
            "PRAGMA foreign_keys = ON;
             DELETE FROM users WHERE id = 2;
             INSERT INTO users (email, email_normalized, username, username_normalized,
                 hashed_password, created_at, updated_at)
             VALUES ('c@x.io', 'c@x.io', 'c', 'c', 'h', '2024-01-01', '2024-01-01');",
        )
        .unwrap();
        assert_eq!(
            count(&mut conn, "SELECT COUNT(*) AS n FROM sessions"),
            0,
            "cascades again"
        );
        assert_eq!(
            count(&mut conn, "SELECT MAX(id) AS n FROM users"),
            8,
            "past every id the audit trail names"
        );
    }

    #[tokio::test]
    async fn a_migrated_sqlite_file_is_in_wal_mode_before_any_pool_opens_it() {
        #[derive(diesel::QueryableByName)]
        struct Mode {
            #[diesel(sql_type = diesel::sql_types::Text)]
            journal_mode: String,
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wal.db");
        let config = crate::DbConfig::new(format!("sqlite://{}", path.display())).unwrap();
        super::run_migrations(&config).await.unwrap();
        let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        let mode: Mode =
            diesel::RunQueryDsl::get_result(diesel::sql_query("PRAGMA journal_mode"), &mut conn)
                .unwrap();
        assert_eq!(mode.journal_mode, "wal");
    }

    #[cfg(unix)]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_new_sqlite_database_and_its_wal_and_shm_are_owner_only() {
        use std::os::unix::fs::PermissionsExt as _;

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("private.db");
        let config = crate::DbConfig::new(format!("sqlite://{}", path.display())).unwrap();
        super::run_migrations(&config).await.unwrap();
        let pool = crate::DbPool::new(&config).unwrap();
        // A read in WAL mode opens the -wal and -shm files.
        assert!(crate::users::find_by_id(&pool, 1).await.unwrap().is_none());
        for suffix in ["", "-wal", "-shm"] {
            let file = format!("{}{suffix}", path.display());
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{file}");
        }
        pool.close();
    }
}
