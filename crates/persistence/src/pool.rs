//! The connection pool: one type for both backends, picked by the URL at run time.

use deadpool::managed::{Hook, HookError, Metrics};
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use futures::FutureExt as _;
use futures::future::Either;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

use crate::conn::{PooledConn, SqliteConn, SqliteHandle, on_conn};
use crate::sqlite_writer::{SqliteWriter, WriteFn};
use crate::{Backend, DbConfig, RepoError};

/// A pool of connections to PostgreSQL or SQLite. Cheap to clone; clones share the pool.
///
/// Building it opens nothing: connections are made on first use, so a service can start
/// while the database is still coming up and wait with [`DbPool::ping`].
#[derive(Clone)]
pub struct DbPool {
    inner: Inner,
    /// See [`DbConfig::call_deadline`].
    deadline: Option<Duration>,
}

#[derive(Clone)]
enum Inner {
    Postgres(Pool<AsyncPgConnection>),
    Sqlite(Pool<SqliteConn>, Writer),
}

/// SQLite takes one writer at a time. Writers that collide inside SQLite wait in its busy
/// handler, which sleeps 1, 2, 5, 10… ms between tries; writers queued here instead wait
/// their exact turn, without sleeping and without holding a connection.
#[derive(Clone)]
struct Writer {
    turn: Arc<Mutex<()>>,
    /// How long a writer waits for its turn before the database counts as unavailable.
    timeout: Duration,
    /// The thread the hot writes are queued to; it takes the same turn.
    thread: SqliteWriter,
}

/// How many connections the pool holds, how many are idle and how many requests wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    /// Connections open now.
    pub size: usize,
    /// Of those, idle ones.
    pub available: usize,
    /// The most the pool opens.
    pub max_size: usize,
    /// Requests waiting for a connection.
    pub waiting: usize,
}

impl DbPool {
    /// Builds a pool for `config`. No connection is opened yet.
    ///
    /// # Errors
    ///
    /// [`RepoError::Unavailable`] if the pool cannot be built (invalid limits).
    pub fn new(config: &DbConfig) -> Result<Self, RepoError> {
        let inner = match config.backend() {
            Backend::Postgres => {
                let target = config.postgres_target()?.clone();
                let mut manager_config = ManagerConfig::<AsyncPgConnection>::default();
                // The URL deadpool passes is ignored: the target holds the driver's settings
                // and the TLS checks `sslmode` asks for.
                manager_config.custom_setup = Box::new(move |_url| {
                    let target = target.clone();
                    async move { crate::pg::connect(&target).await.map_err(Into::into) }.boxed()
                });
                // A connection is tested by `verify_when_idle` before it is handed out, and
                // only when it sat idle: the checkout itself only looks for a broken one.
                manager_config.recycling_method = RecyclingMethod::Fast;
                let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(
                    config.url(),
                    manager_config,
                );
                Inner::Postgres(build(manager, config, Some(verify_when_idle(config)))?)
            }
            Backend::Sqlite => {
                let mut manager_config = ManagerConfig::<SqliteConn>::default();
                // A file cannot drop a connection the way a server can, so a pooled SQLite
                // connection needs no test query at checkout (one round trip to the
                // connection's thread saved per query). PostgreSQL tests a connection that sat idle: after a
                // server restart, a dead pooled connection is replaced before a request meets
                // it.
                manager_config.recycling_method = RecyclingMethod::Fast;
                let busy_ms = config.sqlite_busy_timeout.as_millis();
                manager_config.custom_setup =
                    Box::new(move |path| establish_sqlite(path.to_owned(), busy_ms).boxed());
                let manager = AsyncDieselConnectionManager::<SqliteConn>::new_with_config(
                    config.sqlite_path(),
                    manager_config,
                );
                let pool = build(manager, config, None)?;
                let turn = Arc::new(Mutex::new(()));
                let thread =
                    SqliteWriter::start(pool.clone(), turn.clone(), config.acquire_timeout)?;
                let writer = Writer {
                    turn,
                    timeout: config.acquire_timeout,
                    thread,
                };
                Inner::Sqlite(pool, writer)
            }
        };
        Ok(Self {
            inner,
            deadline: config.call_deadline(),
        })
    }

    /// Runs one repository call within the pool's deadline ([`DbConfig::call_deadline`]).
    /// A call past it is abandoned and fails as [`RepoError::Unavailable`]: the database did
    /// not answer in time, which a circuit breaker should count.
    ///
    /// Abandoning is safe: a PostgreSQL connection dropped inside a transaction is discarded,
    /// not reused, and the server rolls that transaction back when it closes.
    ///
    /// # Errors
    ///
    /// The call's own error, or [`RepoError::Unavailable`] past the deadline.
    pub fn bounded<T>(
        &self,
        call: impl Future<Output = Result<T, RepoError>>,
    ) -> impl Future<Output = Result<T, RepoError>> {
        // Not an `async fn`: that would keep `call` twice in its state, as an argument and
        // inside the timeout, doubling the size of every request's future.
        match self.deadline {
            Some(deadline) => Either::Left(tokio::time::timeout(deadline, call).map(|timed| {
                timed.unwrap_or_else(|_| {
                    Err(RepoError::unavailable(
                        "the database did not answer in time",
                    ))
                })
            })),
            None => Either::Right(call),
        }
    }

    /// Which backend this pool talks to.
    pub fn backend(&self) -> Backend {
        match self.inner {
            Inner::Postgres(_) => Backend::Postgres,
            Inner::Sqlite(..) => Backend::Sqlite,
        }
    }

    /// Runs `SELECT 1` on a pooled connection: the readiness check.
    ///
    /// # Errors
    ///
    /// [`RepoError::Unavailable`] when no connection can be had in time or the query fails.
    pub async fn ping(&self) -> Result<(), RepoError> {
        let mut pooled = self.get().await?;
        let one: i32 = on_conn!(pooled.conn(), |c| diesel::select(diesel::dsl::sql::<
            diesel::sql_types::Integer,
        >("1"))
        .get_result(c)
        .await)
        .map_err(RepoError::unavailable)?;
        debug_assert_eq!(one, 1);
        Ok(())
    }

    /// Sizes of the pool right now.
    pub fn status(&self) -> PoolStatus {
        let status = match &self.inner {
            Inner::Postgres(pool) => pool.status(),
            Inner::Sqlite(pool, _) => pool.status(),
        };
        PoolStatus {
            size: status.size,
            available: status.available,
            max_size: status.max_size,
            waiting: status.waiting,
        }
    }

    /// Closes the pool: idle connections are dropped and later checkouts fail.
    pub fn close(&self) {
        match &self.inner {
            Inner::Postgres(pool) => pool.close(),
            Inner::Sqlite(pool, _) => pool.close(),
        }
    }

    /// On PostgreSQL, a new connection outside the pool, closed when dropped: for session
    /// state (an advisory lock) that must end with its holder, even a cancelled one, instead of
    /// going back to the pool with it. `None` on SQLite.
    pub(crate) async fn dedicated(&self) -> Result<Option<AsyncPgConnection>, RepoError> {
        use deadpool::managed::Manager as _;
        match &self.inner {
            Inner::Postgres(pool) => Ok(Some(
                pool.manager()
                    .create()
                    .await
                    .map_err(RepoError::unavailable)?,
            )),
            Inner::Sqlite(..) => Ok(None),
        }
    }

    /// Checks a connection out of the pool, for reading.
    pub(crate) async fn get(&self) -> Result<PooledConn, RepoError> {
        Ok(match &self.inner {
            Inner::Postgres(pool) => PooledConn::Postgres(pool.get().await?),
            Inner::Sqlite(pool, _) => PooledConn::Sqlite {
                conn: SqliteHandle::Pooled(pool.get().await?),
                _turn: None,
            },
        })
    }

    /// Runs `write` on a connection for writing: on PostgreSQL a pooled one, here and now; on
    /// SQLite the writer thread's, after the writes queued before it (see
    /// [`sqlite_writer`](crate::sqlite_writer)). Arguments it needs are moved in, owned.
    pub(crate) async fn write<R: Send + 'static>(
        &self,
        write: impl WriteFn<R>,
    ) -> Result<R, RepoError> {
        match &self.inner {
            Inner::Postgres(_) => write(&mut self.get().await?).await,
            Inner::Sqlite(_, writer) => writer.thread.write(write).await,
        }
    }

    /// Checks a connection out of the pool for a write. On SQLite it first waits for the
    /// writer's turn (at most the acquire timeout), held until the connection is returned.
    pub(crate) async fn writer(&self) -> Result<PooledConn, RepoError> {
        let Inner::Sqlite(pool, writer) = &self.inner else {
            return self.get().await;
        };
        let turn = tokio::time::timeout(writer.timeout, writer.turn.clone().lock_owned());
        let turn = turn
            .await
            .map_err(|_| RepoError::unavailable("timed out waiting for the SQLite writer"))?;
        Ok(PooledConn::Sqlite {
            conn: SqliteHandle::Pooled(pool.get().await?),
            _turn: Some(turn),
        })
    }
}

impl std::fmt::Debug for DbPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbPool")
            .field("backend", &self.backend())
            .field("status", &self.status())
            .finish()
    }
}

/// A pool with the configured size and timeouts, and `pre_recycle` run before each checkout
/// of an existing connection. The Tokio runtime setting is what makes the timeouts work:
/// without it an exhausted pool would wait forever instead of failing fast.
fn build<C>(
    manager: AsyncDieselConnectionManager<C>,
    config: &DbConfig,
    pre_recycle: Option<Hook<AsyncDieselConnectionManager<C>>>,
) -> Result<Pool<C>, RepoError>
where
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager,
{
    let timeout = Some(config.acquire_timeout);
    let mut builder = Pool::builder(manager)
        .max_size(config.max_connections)
        .wait_timeout(timeout)
        .create_timeout(timeout)
        .recycle_timeout(timeout)
        .runtime(deadpool::Runtime::Tokio1);
    if let Some(hook) = pre_recycle {
        builder = builder.pre_recycle(hook);
    }
    builder.build().map_err(RepoError::unavailable)
}

/// A PostgreSQL connection idle for this long is tested with `SELECT 1` before it is handed
/// out; one used more recently is handed out as it is.
pub(crate) const VERIFY_IDLE_AFTER: Duration = Duration::from_secs(1);

/// The checkout test of a PostgreSQL connection. Under load every pooled connection is used
/// many times a second, and testing each checkout would double the round trips of a request
/// that runs one statement (a refresh rotation). A connection that sat idle, the kind a
/// server restart or an idle timeout on the way has cut, is tested first and replaced if the
/// test fails or takes longer than the acquire timeout; a connection that failed in use is
/// already marked broken and never handed out again.
fn verify_when_idle(config: &DbConfig) -> Hook<AsyncDieselConnectionManager<AsyncPgConnection>> {
    let timeout = config.acquire_timeout;
    Hook::async_fn(move |conn: &mut AsyncPgConnection, metrics: &Metrics| {
        let idle = metrics.last_used() >= VERIFY_IDLE_AFTER;
        async move {
            if !idle {
                return Ok(());
            }
            let one = diesel::select(diesel::dsl::sql::<diesel::sql_types::Integer>("1"))
                .get_result::<i32>(conn);
            match tokio::time::timeout(timeout, one).await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(err)) => Err(HookError::Message(err.to_string().into())),
                Err(_) => Err(HookError::Message("the connection test timed out".into())),
            }
        }
        .boxed()
    })
}

/// Opens one SQLite connection, creating the file owner-only first, with the settings every
/// connection needs: foreign keys on, a busy timeout so concurrent writers wait instead of
/// failing, and WAL so readers never block the writer. Migrations already put the file in WAL
/// mode, which makes the `journal_mode` statement here a lock-free no-op; it stays for a file
/// the pool opens before any migration ran.
async fn establish_sqlite(path: String, busy_ms: u128) -> diesel::ConnectionResult<SqliteConn> {
    // Owner-only, in case the pool opens the database before migrations did.
    crate::config::create_sqlite_file_at(&path).map_err(|e| {
        diesel::ConnectionError::BadConnection(format!("cannot create the SQLite file: {e}"))
    })?;
    let mut conn = SqliteConn::establish(&path).await?;
    let pragmas = format!(
        "PRAGMA busy_timeout = {busy_ms}; PRAGMA journal_mode = WAL; \
         PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;"
    );
    conn.batch_execute(&pragmas)
        .await
        .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
    Ok(conn)
}
