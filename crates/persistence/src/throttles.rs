//! The `throttles` table: attempt counters shared by every instance of the service.
//!
//! [`hit`] is one atomic upsert (`INSERT … ON CONFLICT DO UPDATE … RETURNING`), so any number
//! of concurrent attempts on any number of instances each get a distinct count: a burst
//! cannot slip more attempts through than the limit.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};
use diesel_async::RunQueryDsl;
use futures::FutureExt as _;
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::cached::Cached;
use crate::conn::{Conn, PooledConn, on_conn};
use crate::db_time::{from_db, to_db};
use crate::schema::throttles;
use crate::{DbPool, RepoError};

/// A counter after an attempt was counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    /// Attempts in the current window, this one included.
    pub hits: i64,
    /// Start of the current window.
    pub window_started_at: OffsetDateTime,
    /// Attempts are refused until then, if set.
    pub blocked_until: Option<OffsetDateTime>,
}

#[derive(QueryableByName)]
struct CounterRow {
    #[diesel(sql_type = BigInt)]
    hits: i64,
    #[diesel(sql_type = Timestamp)]
    window_started_at: PrimitiveDateTime,
    #[diesel(sql_type = Nullable<Timestamp>)]
    blocked_until: Option<PrimitiveDateTime>,
}

// The same statement for both backends; only the placeholder syntax differs.
const HIT_POSTGRES: &str = "INSERT INTO throttles (key, hits, window_started_at, updated_at) \
     VALUES ($1, 1, $2, $2) \
     ON CONFLICT (key) DO UPDATE SET \
       hits = CASE WHEN throttles.window_started_at <= $3 THEN 1 ELSE throttles.hits + 1 END, \
       window_started_at = CASE WHEN throttles.window_started_at <= $3 THEN $2 \
                           ELSE throttles.window_started_at END, \
       updated_at = $2 \
     RETURNING hits, window_started_at, blocked_until";
const HIT_SQLITE: &str = "INSERT INTO throttles (key, hits, window_started_at, updated_at) \
     VALUES (?1, 1, ?2, ?2) \
     ON CONFLICT (key) DO UPDATE SET \
       hits = CASE WHEN throttles.window_started_at <= ?3 THEN 1 ELSE throttles.hits + 1 END, \
       window_started_at = CASE WHEN throttles.window_started_at <= ?3 THEN ?2 \
                           ELSE throttles.window_started_at END, \
       updated_at = ?2 \
     RETURNING hits, window_started_at, blocked_until";

/// Counts one attempt on `key` at `now`. A window that started at or before `window_floor`
/// is over: the count restarts at 1 (pass a time far in the past for a counter that never
/// restarts by itself).
///
/// # Errors
///
/// Database failures as [`RepoError::Unavailable`] or [`RepoError::Database`].
pub async fn hit(
    pool: &DbPool,
    key: &str,
    now: OffsetDateTime,
    window_floor: OffsetDateTime,
) -> Result<Counter, RepoError> {
    let (now, floor) = (to_db(now), to_db(window_floor));
    let key = key.to_owned();
    let row: CounterRow = pool
        .write(move |pooled: &mut PooledConn| {
            async move {
                let mut conn = pooled.conn();
                let sql = match conn {
                    Conn::Postgres(_) => HIT_POSTGRES,
                    Conn::Sqlite(_) => HIT_SQLITE,
                };
                Ok(on_conn!(&mut conn, |c| Cached(
                    diesel::sql_query(sql)
                        .bind::<Text, _>(&key)
                        .bind::<Timestamp, _>(now)
                        .bind::<Timestamp, _>(floor),
                )
                .get_result(*c)
                .await)?)
            }
            .boxed()
        })
        .await?;
    Ok(Counter {
        hits: row.hits,
        window_started_at: from_db(row.window_started_at),
        blocked_until: row.blocked_until.map(from_db),
    })
}

/// Refuses attempts on `key` until `until` (or lifts the block with `None`).
///
/// # Errors
///
/// As [`hit`].
pub async fn block(
    pool: &DbPool,
    key: &str,
    until: Option<OffsetDateTime>,
) -> Result<(), RepoError> {
    let until = until.map(to_db);
    let mut pooled = pool.writer().await?;
    on_conn!(pooled.conn(), |c| diesel::update(
        throttles::table.find(key)
    )
    .set(throttles::blocked_until.eq(until))
    .execute(c)
    .await)?;
    Ok(())
}

/// Forgets `key`: its count and any block (a success, or an administrator's unlock).
///
/// # Errors
///
/// As [`hit`].
pub async fn clear(pool: &DbPool, key: &str) -> Result<bool, RepoError> {
    let mut pooled = pool.writer().await?;
    Ok(clear_on(&mut pooled.conn(), key).await? > 0)
}

pub(crate) async fn clear_on(conn: &mut Conn<'_>, key: &str) -> Result<usize, RepoError> {
    let deleted = on_conn!(conn, |c| diesel::delete(throttles::table.find(key))
        .execute(*c)
        .await)?;
    Ok(deleted)
}

/// Forgets every key that starts with `prefix`; returns how many there were.
pub(crate) async fn clear_prefix_on(conn: &mut Conn<'_>, prefix: &str) -> Result<usize, RepoError> {
    let pattern = format!(
        "{}%",
        prefix
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let deleted = on_conn!(conn, |c| diesel::delete(
        throttles::table.filter(throttles::key.like(&pattern).escape('\\'))
    )
    .execute(*c)
    .await)?;
    Ok(deleted)
}

/// Claims the next slot of `key`: when it is not blocked at `now`, blocks it until `until`
/// and returns `Ok(())`; otherwise returns the time the current block ends. One conditional
/// update, so of concurrent claims exactly one wins.
///
/// # Errors
///
/// As [`hit`].
pub async fn claim_slot(
    pool: &DbPool,
    key: &str,
    now: OffsetDateTime,
    until: OffsetDateTime,
) -> Result<Result<(), OffsetDateTime>, RepoError> {
    let (now_db, until_db) = (to_db(now), to_db(until));
    let mut pooled = pool.writer().await?;
    let conn = &mut pooled.conn();
    let claimed = on_conn!(conn, |c| diesel::update(
        throttles::table.find(key).filter(
            throttles::blocked_until
                .is_null()
                .or(throttles::blocked_until.le(now_db))
        )
    )
    .set(throttles::blocked_until.eq(Some(until_db)))
    .execute(*c)
    .await)?;
    if claimed == 1 {
        return Ok(Ok(()));
    }
    let blocked: Option<Option<PrimitiveDateTime>> = on_conn!(conn, |c| throttles::table
        .find(key)
        .select(throttles::blocked_until)
        .get_result(*c)
        .await
        .optional())?;
    Ok(Err(blocked.flatten().map_or(until, from_db)))
}

/// Takes back one counted attempt of `key` (one that was refused before it was tried).
///
/// # Errors
///
/// As [`hit`].
pub async fn unhit(pool: &DbPool, key: &str) -> Result<(), RepoError> {
    let mut pooled = pool.writer().await?;
    on_conn!(pooled.conn(), |c| diesel::update(
        throttles::table.find(key).filter(throttles::hits.gt(0_i64))
    )
    .set(throttles::hits.eq(throttles::hits - 1_i64))
    .execute(c)
    .await)?;
    Ok(())
}

/// The count of `key`, or `None` when it has none (what tests and operators inspect).
///
/// # Errors
///
/// As [`hit`].
pub async fn hits(pool: &DbPool, key: &str) -> Result<Option<i64>, RepoError> {
    let mut pooled = pool.get().await?;
    let hits = on_conn!(pooled.conn(), |c| throttles::table
        .find(key)
        .select(throttles::hits)
        .get_result(c)
        .await
        .optional())?;
    Ok(hits)
}

/// Every key in the table, sorted (what operators and tests inspect: keys must hold no raw
/// identifier).
///
/// # Errors
///
/// As [`hit`].
pub async fn keys(pool: &DbPool) -> Result<Vec<String>, RepoError> {
    let mut pooled = pool.get().await?;
    let keys = on_conn!(pooled.conn(), |c| throttles::table
        .select(throttles::key)
        .order(throttles::key)
        .load(c)
        .await)?;
    Ok(keys)
}
