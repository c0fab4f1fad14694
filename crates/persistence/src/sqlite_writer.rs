//! The SQLite writer thread: queued writes run back to back on one thread.
//!
//! SQLite lets one writer in at a time, so the time each write holds the write lock bounds
//! the write throughput of the whole process. A write run from an async task pays thread
//! switches inside that window: the connection's thread wakes to run each statement, the task
//! wakes to send the next one, and the next queued writer wakes only after the connection is
//! back. The writer thread takes the writer's turn once for every write waiting, runs their
//! statements in place (see [`run_inline`]) and wakes each caller with its answer, outside
//! the window.
//!
//! A write whose caller stopped waiting (a cancelled request) is skipped if it has not started,
//! and one that waited longer than the pool's acquire timeout fails as unavailable without
//! running, as a write waiting for its turn in the pool would.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use diesel_async::pooled_connection::deadpool::Pool;
use futures::FutureExt as _;
use futures::future::BoxFuture;
use tokio::sync::{Mutex, oneshot};

use crate::RepoError;
use crate::blocking::{is_inline, run_inline};
use crate::conn::{PooledConn, SqliteConn, SqliteHandle};

/// The most writes run in one turn, so writers that still take the turn one by one (see
/// `DbPool::writer`) get theirs.
const MOST_PER_TURN: usize = 64;

/// A write for the writer thread: a closure that runs its statements on the connection it is
/// given (in a transaction of its own if it needs one) and returns their result.
pub(crate) trait WriteFn<R>:
    for<'a> FnOnce(&'a mut PooledConn) -> BoxFuture<'a, Result<R, RepoError>> + Send + 'static
{
}

impl<R, F> WriteFn<R> for F where
    F: for<'a> FnOnce(&'a mut PooledConn) -> BoxFuture<'a, Result<R, RepoError>> + Send + 'static
{
}

/// The handle writes are queued through. Cheap to clone; the thread ends once every handle is
/// gone.
#[derive(Clone)]
pub(crate) struct SqliteWriter {
    jobs: mpsc::Sender<Box<dyn Job>>,
}

impl SqliteWriter {
    /// Starts the thread. It opens no connection until the first write arrives.
    pub(crate) fn start(
        pool: Pool<SqliteConn>,
        turn: Arc<Mutex<()>>,
        timeout: Duration,
    ) -> Result<Self, RepoError> {
        let (jobs, queue) = mpsc::channel();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .map_err(RepoError::unavailable)?;
        let thread = WriterThread {
            pool,
            turn,
            timeout,
            queue,
            own: None,
        };
        std::thread::Builder::new()
            .name("sqlite-writer".to_owned())
            .spawn(move || thread.run(&runtime))
            .map_err(RepoError::unavailable)?;
        Ok(Self { jobs })
    }

    /// Queues `write` and waits for its result.
    pub(crate) async fn write<R: Send + 'static>(
        &self,
        write: impl WriteFn<R>,
    ) -> Result<R, RepoError> {
        // From inside a write this would wait for itself.
        debug_assert!(!is_inline(), "a write queued from the writer thread");
        let (reply, answer) = oneshot::channel();
        let job = Box::new(Pending {
            write,
            reply,
            queued_at: Instant::now(),
        });
        self.jobs
            .send(job)
            .map_err(|_| RepoError::unavailable("the SQLite writer has stopped"))?;
        answer
            .await
            .map_err(|_| RepoError::unavailable("the SQLite write failed"))?
    }
}

/// A queued write, its result type erased.
trait Job: Send {
    /// Whether its caller stopped waiting.
    fn abandoned(&self) -> bool;
    /// When it was queued.
    fn queued_at(&self) -> Instant;
    /// Answers without running.
    fn fail(self: Box<Self>, error: RepoError);
    /// Runs it on `conn` and answers with its result.
    fn run(self: Box<Self>, conn: &mut PooledConn) -> BoxFuture<'_, ()>;
}

/// A write and the channel its answer goes back on.
struct Pending<F, R> {
    write: F,
    reply: oneshot::Sender<Result<R, RepoError>>,
    queued_at: Instant,
}

impl<F: WriteFn<R>, R: Send + 'static> Job for Pending<F, R> {
    fn abandoned(&self) -> bool {
        self.reply.is_closed()
    }

    fn queued_at(&self) -> Instant {
        self.queued_at
    }

    fn fail(self: Box<Self>, error: RepoError) {
        // The caller may be gone; then nobody needs the answer.
        let _ = self.reply.send(Err(error));
    }

    fn run(self: Box<Self>, conn: &mut PooledConn) -> BoxFuture<'_, ()> {
        let Self { write, reply, .. } = *self;
        async move {
            let result = write(conn).await;
            let _ = reply.send(result);
        }
        .boxed()
    }
}

struct WriterThread {
    pool: Pool<SqliteConn>,
    turn: Arc<Mutex<()>>,
    timeout: Duration,
    queue: mpsc::Receiver<Box<dyn Job>>,
    /// The thread's own connection, opened at the first write and kept between turns.
    ///
    /// In WAL mode a connection empties its page cache whenever another connection wrote
    /// since its last transaction. Writes taking pooled connections in turn would each find
    /// their connection's cache stale and read every page they touch again; a connection that
    /// makes nearly every write keeps its cache from one write to the next.
    own: Option<PooledConn>,
}

impl WriterThread {
    /// Serves writes until every handle is gone. The thread outlives any failure of a turn:
    /// a panic outside a write (none is expected) is logged, and the next write is served.
    fn run(mut self, runtime: &tokio::runtime::Runtime) {
        // Everything this thread does is SQLite work, so its queries run in place.
        run_inline(|| {
            while let Ok(first) = self.queue.recv() {
                let turn = AssertUnwindSafe(self.turn_of(first)).catch_unwind();
                if runtime.block_on(turn).is_err() {
                    tracing::error!("the SQLite writer recovered from a panic");
                }
            }
        });
    }

    /// Runs `first` and the writes queued behind it, up to [`MOST_PER_TURN`], in one turn of
    /// the writer and on the thread's connection. Waiting for the turn (and opening the
    /// connection, the first time) ends at `first`'s deadline, so no write waits longer than
    /// the acquire timeout to start.
    async fn turn_of(&mut self, first: Box<dyn Job>) {
        if first.abandoned() {
            return;
        }
        let deadline = tokio::time::Instant::from_std(first.queued_at() + self.timeout);
        let (pool, turn, own) = (&self.pool, &self.turn, &mut self.own);
        let ready = tokio::time::timeout_at(deadline, async {
            let turn = turn.clone().lock_owned().await;
            let conn = match own.take() {
                Some(conn) => conn,
                None => open(pool).await?,
            };
            Ok::<_, RepoError>((turn, conn))
        });
        let (_turn, mut conn) = match ready.await {
            Ok(Ok(ready)) => ready,
            Ok(Err(error)) => return first.fail(error),
            Err(_) => {
                return first.fail(RepoError::unavailable(
                    "timed out waiting for the SQLite writer",
                ));
            }
        };
        let mut next = Some(first);
        let mut ran = 0;
        while let Some(job) = next.take() {
            match (job.abandoned(), job.queued_at().elapsed() > self.timeout) {
                // Its caller is gone: nobody wants this write any more.
                (true, _) => {}
                (false, true) => job.fail(RepoError::unavailable(
                    "timed out waiting for the SQLite writer",
                )),
                (false, false) => {
                    let ran = AssertUnwindSafe(job.run(&mut conn)).catch_unwind().await;
                    // After a panic (the caller learns of it from its dropped reply), or a
                    // write that left a transaction open or its state unknown, the next write
                    // must not run inside that transaction: the connection is closed, and the
                    // next turn opens another.
                    if ran.is_err() || conn.is_broken() {
                        return;
                    }
                }
            }
            ran += 1;
            if ran < MOST_PER_TURN {
                next = self.queue.try_recv().ok();
            }
        }
        self.own = Some(conn);
    }
}

/// Opens the writer thread's connection with the pool's settings, outside the pool: the
/// pool's connections stay free for reads and for the writes that take the turn themselves.
async fn open(pool: &Pool<SqliteConn>) -> Result<PooledConn, RepoError> {
    use deadpool::managed::Manager as _;
    let conn = pool
        .manager()
        .create()
        .await
        .map_err(RepoError::unavailable)?;
    Ok(PooledConn::Sqlite {
        conn: SqliteHandle::Own(Box::new(conn)),
        _turn: None,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use futures::FutureExt as _;
    use futures::future::BoxFuture;

    use crate::conn::PooledConn;
    use crate::{DbConfig, DbPool, RepoError};

    fn pool(dir: &tempfile::TempDir, acquire_timeout: Duration) -> DbPool {
        let path = dir.path().join("writer.db");
        let mut config = DbConfig::new(format!("sqlite://{}", path.display())).unwrap();
        config.acquire_timeout = acquire_timeout;
        DbPool::new(&config).unwrap()
    }

    /// Queues a write that records that it ran.
    async fn marking_write(pool: &DbPool, ran: &Arc<AtomicBool>) -> Result<(), RepoError> {
        let ran = ran.clone();
        pool.write(move |_: &mut PooledConn| {
            async move {
                ran.store(true, Ordering::SeqCst);
                Ok(())
            }
            .boxed()
        })
        .await
    }

    #[tokio::test]
    async fn a_write_waits_for_a_writer_holding_the_turn_then_runs() {
        let dir = tempfile::tempdir().unwrap();
        let pool = pool(&dir, Duration::from_secs(5));
        let held = pool.writer().await.unwrap();
        let ran = Arc::new(AtomicBool::new(false));
        let write = tokio::spawn({
            let (pool, ran) = (pool.clone(), ran.clone());
            async move { marking_write(&pool, &ran).await }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            !ran.load(Ordering::SeqCst),
            "ran while another writer held the turn"
        );
        drop(held);
        write.await.unwrap().unwrap();
        assert!(ran.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn a_write_whose_caller_left_before_its_turn_is_not_made() {
        let dir = tempfile::tempdir().unwrap();
        let pool = pool(&dir, Duration::from_secs(5));
        let held = pool.writer().await.unwrap();
        let ran = Arc::new(AtomicBool::new(false));
        let mut abandoned = Box::pin(marking_write(&pool, &ran));
        assert!(futures::poll!(&mut abandoned).is_pending(), "queued");
        drop(abandoned);
        drop(held);
        // Writes run in order: once a later one answered, the abandoned one was seen.
        marking_write(&pool, &Arc::new(AtomicBool::new(false)))
            .await
            .unwrap();
        assert!(!ran.load(Ordering::SeqCst), "the abandoned write ran");
    }

    #[tokio::test]
    async fn a_write_kept_waiting_past_the_acquire_timeout_fails_without_running() {
        let dir = tempfile::tempdir().unwrap();
        let pool = pool(&dir, Duration::from_millis(200));
        let held = pool.writer().await.unwrap();
        let ran = Arc::new(AtomicBool::new(false));
        let refused = marking_write(&pool, &ran).await;
        drop(held);
        assert!(
            matches!(refused, Err(RepoError::Unavailable(_))),
            "{refused:?}"
        );
        assert!(!ran.load(Ordering::SeqCst));
        marking_write(&pool, &ran).await.unwrap();
        assert!(ran.load(Ordering::SeqCst), "the writer serves again");
    }

    #[tokio::test]
    async fn a_panicking_write_fails_as_unavailable_and_the_next_one_runs() {
        let dir = tempfile::tempdir().unwrap();
        let pool = pool(&dir, Duration::from_secs(5));
        let failed: Result<(), _> = pool
            .write(|_: &mut PooledConn| async { panic!("a bug in a write") }.boxed())
            .await;
        assert!(
            matches!(failed, Err(RepoError::Unavailable(_))),
            "{failed:?}"
        );
        let ran = Arc::new(AtomicBool::new(false));
        marking_write(&pool, &ran).await.unwrap();
        assert!(ran.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn a_write_that_leaves_a_transaction_open_does_not_pull_the_next_one_into_it() {
        use diesel::sql_types::BigInt;
        use diesel_async::{
            AsyncConnection, RunQueryDsl as _, SimpleAsyncConnection as _, TransactionManager as _,
        };

        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        fn sqlite(pooled: &mut PooledConn) -> &mut crate::conn::SqliteConn {
            match pooled {
                PooledConn::Sqlite { conn, .. } => conn,
                PooledConn::Postgres(_) => unreachable!("a SQLite pool"),
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let pool = pool(&dir, Duration::from_secs(5));
        pool.write(|pooled: &mut PooledConn| {
            async move {
                Ok(sqlite(pooled)
                    .batch_execute("CREATE TABLE t (x INTEGER)")
                    .await?)
            }
            .boxed()
        })
        .await
        .unwrap();
        // Both writes queue while another writer holds the turn, so they share the next one.
        let held = pool.writer().await.unwrap();
        let careless = tokio::spawn({
            let pool = pool.clone();
            async move {
                pool.write(|pooled: &mut PooledConn| {
                    async move {
                        let conn = sqlite(pooled);
                        // A bug: a transaction begun and never ended.
                        <crate::conn::SqliteConn as AsyncConnection>::TransactionManager::begin_transaction(conn)
                            .await?;
                        conn.batch_execute("INSERT INTO t VALUES (1)").await?;
                        Ok(())
                    }
                    .boxed()
                })
                .await
            }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let counting = tokio::spawn({
            let pool = pool.clone();
            async move {
                pool.write(|pooled: &mut PooledConn| {
                    async move {
                        let count: Count = diesel::sql_query("SELECT COUNT(*) AS n FROM t")
                            .get_result(sqlite(pooled))
                            .await?;
                        Ok(count.n)
                    }
                    .boxed()
                })
                .await
            }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        drop(held);
        careless.await.unwrap().unwrap();
        let seen = counting.await.unwrap().unwrap();
        assert_eq!(seen, 0, "the next write ran inside the open transaction");
    }

    #[tokio::test]
    async fn consecutive_writes_share_the_writer_threads_connection() {
        use diesel_async::SimpleAsyncConnection as _;
        fn statement(
            sql: &'static str,
        ) -> impl for<'a> FnOnce(&'a mut PooledConn) -> BoxFuture<'a, Result<(), RepoError>> + Send
        {
            move |pooled: &mut PooledConn| {
                async move {
                    let PooledConn::Sqlite { conn, .. } = pooled else {
                        unreachable!("a SQLite pool")
                    };
                    Ok(conn.batch_execute(sql).await?)
                }
                .boxed()
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let pool = pool(&dir, Duration::from_secs(5));
        // A temporary table exists only on the connection that created it.
        pool.write(statement("CREATE TEMP TABLE mark (x INTEGER)"))
            .await
            .unwrap();
        // A read in between takes a pooled connection, never the writer's.
        let reading = pool.get().await.unwrap();
        pool.write(statement("INSERT INTO temp.mark VALUES (1)"))
            .await
            .expect("the second write ran on the connection of the first");
        drop(reading);
    }

    #[tokio::test]
    async fn the_writer_thread_needs_no_connection_from_the_pool() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("writer.db");
        let mut config = DbConfig::new(format!("sqlite://{}", path.display())).unwrap();
        config.max_connections = 1;
        config.acquire_timeout = Duration::from_millis(500);
        let pool = DbPool::new(&config).unwrap();
        // A read holds the pool's only connection; a queued write still runs.
        let reading = pool.get().await.unwrap();
        let ran = Arc::new(AtomicBool::new(false));
        marking_write(&pool, &ran).await.unwrap();
        assert!(ran.load(Ordering::SeqCst));
        drop(reading);
    }

    #[tokio::test]
    async fn writes_run_on_the_writer_thread_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let pool = pool(&dir, Duration::from_secs(5));
        let thread = pool
            .write(|_: &mut PooledConn| {
                async { Ok(std::thread::current().name().map(str::to_owned)) }.boxed()
            })
            .await
            .unwrap();
        assert_eq!(thread.as_deref(), Some("sqlite-writer"));
        let inline = pool
            .write(|pooled: &mut PooledConn| {
                async move {
                    use diesel_async::RunQueryDsl as _;
                    let PooledConn::Sqlite { conn, .. } = pooled else {
                        unreachable!("a SQLite pool")
                    };
                    diesel::sql_query("CREATE TABLE t (x INTEGER)")
                        .execute(&mut **conn)
                        .now_or_never()
                        .expect("the statement ran in place, without waiting for another thread")?;
                    Ok(())
                }
                .boxed()
            })
            .await;
        inline.unwrap();
    }
}
