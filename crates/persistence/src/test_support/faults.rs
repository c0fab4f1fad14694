//! Faults a test makes on purpose: a lock held from a connection of its own, a statement
//! run on every connection of a server's pool, and counts that check nothing was half-written.

use diesel::{Connection as _, QueryableByName, SqliteConnection};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use tokio::sync::oneshot;

use super::{Guard, TestDb};
use crate::DbPool;
use crate::conn::on_conn;

/// A transaction held open on a connection outside every pool, until released or dropped;
/// then it is rolled back.
#[must_use = "the lock is released when this is dropped"]
pub struct HeldLock {
    release: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HeldLock {
    /// Rolls the transaction back and waits for its connection to close.
    pub fn release(mut self) {
        self.finish();
    }

    fn finish(&mut self) {
        drop(self.release.take());
        if let Some(thread) = self.thread.take() {
            thread.join().expect("the lock holder did not panic");
        }
    }
}

impl Drop for HeldLock {
    fn drop(&mut self) {
        self.finish();
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

impl TestDb {
    /// Runs `begin` (statements that open a transaction and take a lock, such as
    /// `BEGIN EXCLUSIVE` on SQLite or `BEGIN; LOCK TABLE users` on PostgreSQL) on a connection
    /// of its own, on a thread of its own, and keeps the transaction open until the returned
    /// guard is released or dropped. Returns once the lock is held.
    ///
    /// # Panics
    ///
    /// If the connection cannot be opened or `begin` fails.
    pub fn hold(&self, begin: &str) -> HeldLock {
        let (release, released) = oneshot::channel::<()>();
        let (held, is_held) = std::sync::mpsc::channel::<()>();
        let begin = begin.to_owned();
        let thread = match &self.guard {
            Guard::Sqlite(_) => {
                let path = self.config.sqlite_path().to_owned();
                std::thread::spawn(move || {
                    let mut conn = SqliteConnection::establish(&path).expect("a side connection");
                    diesel::connection::SimpleConnection::batch_execute(&mut conn, &begin)
                        .expect("the lock is taken");
                    held.send(()).expect("the test waits");
                    let _ = released.blocking_recv();
                    let _ =
                        diesel::connection::SimpleConnection::batch_execute(&mut conn, "ROLLBACK");
                })
            }
            Guard::Postgres { .. } => {
                let url = self.config.url().to_owned();
                std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("a runtime");
                    runtime.block_on(async {
                        let mut conn = AsyncPgConnection::establish(&url)
                            .await
                            .expect("a side connection");
                        conn.batch_execute(&begin).await.expect("the lock is taken");
                        held.send(()).expect("the test waits");
                        let _ = released.await;
                        let _ = conn.batch_execute("ROLLBACK").await;
                    });
                })
            }
        };
        is_held.recv().expect("the lock holder started");
        HeldLock {
            release: Some(release),
            thread: Some(thread),
        }
    }

    /// The single number `sql` selects as a column named `n` (`SELECT COUNT(*) AS n …`).
    ///
    /// # Panics
    ///
    /// If the query fails.
    pub async fn count(&self, sql: &str) -> i64 {
        let mut pooled = self.pool.get().await.expect("connection");
        on_conn!(pooled.conn(), |c| diesel::sql_query(sql)
            .get_result::<Count>(c)
            .await)
        .expect("a count")
        .n
    }
}

/// Runs `sql` on every connection `pool` may hold, all checked out at once so none is
/// missed: for per-connection settings such as SQLite's `PRAGMA max_page_count`. The pool
/// must be otherwise idle. Connections the pool opens later do not get it.
///
/// # Panics
///
/// If a connection cannot be had or `sql` fails.
pub async fn on_every_connection(pool: &DbPool, sql: &str) {
    let mut held = Vec::new();
    for _ in 0..pool.status().max_size {
        held.push(pool.get().await.expect("connection"));
    }
    for pooled in &mut held {
        on_conn!(pooled.conn(), |c| c.batch_execute(sql).await).expect("SQL");
    }
}
