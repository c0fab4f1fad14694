//! Connection types of the two backends, and the macros that write a query once for both.
//!
//! Diesel type-checks a query per backend, so a query is written once inside [`on_conn!`] and
//! expanded into one match arm per backend. Multi-statement writes go through
//! [`in_transaction!`]; on SQLite every such transaction here starts with a write, so it takes
//! the write lock at once and the busy timeout applies instead of a "database is locked" error.
//! Writes check their connection out with `DbPool::writer`, which on SQLite queues them in the
//! process first, so they rarely meet in SQLite's sleeping busy handler at all.
//!
//! A lookup by a unique key reads its row with `get_result`, never `first`: `first` adds
//! `LIMIT ?`, and SQLite recompiles a statement whose `LIMIT` is a bound parameter each time
//! that parameter is bound, so such a query would be parsed and planned on every call despite
//! Diesel's prepared-statement cache.

use diesel::SqliteConnection;
use diesel_async::AsyncPgConnection;
use diesel_async::pooled_connection::deadpool::Object;
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use tokio::sync::OwnedMutexGuard;

/// SQLite behind diesel-async's wrapper, each connection running its queries on a thread of
/// its own (see [`ConnThread`](crate::blocking::ConnThread) for why not the default spawner).
pub(crate) type SqliteConn = SyncConnectionWrapper<SqliteConnection, crate::blocking::ConnThread>;

/// A connection checked out of the pool. It lives on the stack of one repository call, so the
/// size difference of the variants costs nothing worth a box.
#[expect(clippy::large_enum_variant, reason = "short-lived, one per call")]
pub(crate) enum PooledConn {
    Postgres(Object<AsyncPgConnection>),
    Sqlite {
        conn: SqliteHandle,
        /// The writer's turn, when checked out for a write; released with the connection.
        _turn: Option<OwnedMutexGuard<()>>,
    },
}

/// A SQLite connection: checked out of the pool, or the writer thread's own.
pub(crate) enum SqliteHandle {
    /// Goes back to the pool when dropped.
    Pooled(Object<SqliteConn>),
    /// The writer thread's connection, kept from one of its turns to the next (see
    /// [`sqlite_writer`](crate::sqlite_writer)).
    Own(Box<SqliteConn>),
}

impl std::ops::Deref for SqliteHandle {
    type Target = SqliteConn;

    fn deref(&self) -> &SqliteConn {
        match self {
            Self::Pooled(conn) => conn,
            Self::Own(conn) => conn,
        }
    }
}

impl std::ops::DerefMut for SqliteHandle {
    fn deref_mut(&mut self) -> &mut SqliteConn {
        match self {
            Self::Pooled(conn) => conn,
            Self::Own(conn) => conn,
        }
    }
}

/// A borrowed connection: a pooled one, or the inside of a transaction.
pub(crate) enum Conn<'a> {
    Postgres(&'a mut AsyncPgConnection),
    Sqlite(&'a mut SqliteConn),
}

impl PooledConn {
    /// Whether the connection is left inside a transaction, or in a state its transaction
    /// manager cannot tell: such a connection must not serve another call.
    pub(crate) fn is_broken(&mut self) -> bool {
        use diesel_async::pooled_connection::PoolableConnection as _;
        match self {
            Self::Postgres(c) => c.is_broken(),
            Self::Sqlite { conn, .. } => conn.is_broken(),
        }
    }

    /// Borrows the connection for one or more queries.
    pub(crate) fn conn(&mut self) -> Conn<'_> {
        match self {
            Self::Postgres(c) => Conn::Postgres(c),
            Self::Sqlite { conn, .. } => Conn::Sqlite(conn),
        }
    }
}

/// Expands `$body` once per backend, with `$c` bound to that backend's connection.
macro_rules! on_conn {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::conn::Conn::Postgres($c) => $body,
            $crate::conn::Conn::Sqlite($c) => $body,
        }
    };
}

/// Runs `$body` in a transaction on a [`PooledConn`], with `$conn: &mut Conn` inside.
/// Commits when it returns `Ok`, rolls back on `Err`.
macro_rules! in_transaction {
    ($pooled:expr, |$conn:ident| $body:expr) => {{
        use diesel_async::AsyncConnection as _;
        match $pooled {
            $crate::conn::PooledConn::Postgres(c) => {
                c.transaction::<_, $crate::RepoError, _>(async |tx| {
                    let $conn = &mut $crate::conn::Conn::Postgres(tx);
                    $body
                })
                .await
            }
            $crate::conn::PooledConn::Sqlite { conn: c, .. } => {
                c.transaction::<_, $crate::RepoError, _>(async |tx| {
                    let $conn = &mut $crate::conn::Conn::Sqlite(tx);
                    $body
                })
                .await
            }
        }
    }};
}

pub(crate) use {in_transaction, on_conn};
