//! Deleting rows nobody needs any more, in small batches so no statement holds locks for long.
//!
//! The caller decides the cut-offs ([`Cutoffs`]); this module only deletes what is older,
//! `batch` rows per statement, until a statement deletes fewer. On PostgreSQL the whole purge
//! holds a session advisory lock taken with `pg_try_advisory_lock`: when another replica holds
//! it, [`purge`] returns `None` at once instead of deleting the same rows twice.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use time::OffsetDateTime;

use crate::conn::{Conn, on_conn};
use crate::db_time::to_db;
use crate::schema::{audit_events, device_tokens, sessions, throttles};
use crate::{DbPool, RepoError};

/// Key of the PostgreSQL advisory lock held during a purge.
pub const PURGE_LOCK_KEY: i64 = 0x0061_7574_6870_7572; // "authpur"

/// What is old enough to go. Rows at or after a cut-off stay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cutoffs {
    /// Sessions that ended (`expires_at`, fixed at sign-in: a refresh token expires with its
    /// session, and refreshes do not move that) before this go, revoked, idle or not. Leave
    /// their access tokens time to expire as well.
    pub sessions_ended_before: OffsetDateTime,
    /// Device tokens that expire before this go.
    pub devices_expired_before: OffsetDateTime,
    /// Throttle counters last hit before this go, unless a block on them lasts past `now`.
    pub throttles_hit_before: OffsetDateTime,
    /// The present: blocks that end after it keep their counter.
    pub now: OffsetDateTime,
    /// Audit events that happened before this go; `None` keeps them all.
    pub audit_before: Option<OffsetDateTime>,
}

/// How many rows a purge deleted, per table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    /// From `sessions`.
    pub sessions: usize,
    /// From `device_tokens`.
    pub device_tokens: usize,
    /// From `throttles`.
    pub throttles: usize,
    /// From `audit_events`.
    pub audit_events: usize,
}

impl Purged {
    /// Rows deleted in all.
    pub fn total(&self) -> usize {
        self.sessions + self.device_tokens + self.throttles + self.audit_events
    }
}

#[derive(Clone, Copy)]
enum Table {
    Sessions,
    DeviceTokens,
    Throttles,
    AuditEvents,
}

/// Deletes everything older than `cutoffs`, at most `batch` rows per statement. Returns
/// `None` without deleting anything when another process holds the purge lock (PostgreSQL).
///
/// A purge with a long backlog may take far longer than one call should, so it bounds each
/// of its statements with the pool's deadline ([`DbPool::bounded`]) instead of being bounded
/// as a whole.
///
/// # Errors
///
/// Database failures as [`RepoError::Unavailable`] or [`RepoError::Database`]; batches
/// already deleted stay deleted.
pub async fn purge(
    pool: &DbPool,
    cutoffs: &Cutoffs,
    batch: usize,
) -> Result<Option<Purged>, RepoError> {
    let batch = batch.max(1);
    // The lock lives on a connection of its own, closed when this returns or is cancelled:
    // a pooled one would go back to the pool still holding it.
    if let Some(mut lock) = pool.bounded(pool.dedicated()).await? {
        if !pool.bounded(try_lock(&mut lock)).await? {
            return Ok(None);
        }
        let purged = purge_all(pool, cutoffs, batch).await;
        let unlocked = pool.bounded(unlock(&mut lock)).await;
        let purged = purged?;
        unlocked?;
        return Ok(Some(purged));
    }
    Ok(Some(purge_all(pool, cutoffs, batch).await?))
}

async fn purge_all(pool: &DbPool, cutoffs: &Cutoffs, batch: usize) -> Result<Purged, RepoError> {
    let mut purged = Purged::default();
    for (table, count) in [
        (Table::Sessions, &mut purged.sessions),
        (Table::DeviceTokens, &mut purged.device_tokens),
        (Table::Throttles, &mut purged.throttles),
        (Table::AuditEvents, &mut purged.audit_events),
    ] {
        loop {
            // One statement per checkout (on SQLite one writer turn), so sign-ins get their
            // turn between batches.
            let deleted = pool
                .bounded(async {
                    let mut pooled = pool.writer().await?;
                    delete_batch(&mut pooled.conn(), table, cutoffs, batch).await
                })
                .await?;
            *count += deleted;
            if deleted < batch {
                break;
            }
        }
    }
    Ok(purged)
}

/// Deletes up to `batch` rows of `table` older than the cut-off: the keys of at most `batch`
/// such rows are read first, then those rows are deleted with the condition repeated, so a
/// row that came back to life in between (a counter hit again) stays.
async fn delete_batch(
    conn: &mut Conn<'_>,
    table: Table,
    cutoffs: &Cutoffs,
    batch: usize,
) -> Result<usize, RepoError> {
    let limit = i64::try_from(batch).unwrap_or(i64::MAX);
    let deleted = match table {
        Table::Sessions => {
            let old = sessions::expires_at.lt(to_db(cutoffs.sessions_ended_before));
            on_conn!(conn, |c| {
                let ids: Vec<String> = sessions::table
                    .filter(old)
                    .select(sessions::id)
                    .limit(limit)
                    .load(*c)
                    .await?;
                diesel::delete(
                    sessions::table
                        .filter(sessions::id.eq_any(&ids))
                        .filter(old),
                )
                .execute(*c)
                .await
            })?
        }
        Table::DeviceTokens => {
            let old = device_tokens::expires_at.lt(to_db(cutoffs.devices_expired_before));
            on_conn!(conn, |c| {
                let ids: Vec<String> = device_tokens::table
                    .filter(old)
                    .select(device_tokens::id)
                    .limit(limit)
                    .load(*c)
                    .await?;
                diesel::delete(
                    device_tokens::table
                        .filter(device_tokens::id.eq_any(&ids))
                        .filter(old),
                )
                .execute(*c)
                .await
            })?
        }
        Table::Throttles => {
            let now = to_db(cutoffs.now);
            let old = throttles::updated_at
                .lt(to_db(cutoffs.throttles_hit_before))
                .and(
                    throttles::blocked_until
                        .is_null()
                        .or(throttles::blocked_until.le(now)),
                );
            on_conn!(conn, |c| {
                let keys: Vec<String> = throttles::table
                    .filter(old)
                    .select(throttles::key)
                    .limit(limit)
                    .load(*c)
                    .await?;
                diesel::delete(
                    throttles::table
                        .filter(throttles::key.eq_any(&keys))
                        .filter(old),
                )
                .execute(*c)
                .await
            })?
        }
        Table::AuditEvents => {
            let Some(before) = cutoffs.audit_before.map(to_db) else {
                return Ok(0);
            };
            let old = audit_events::occurred_at.lt(before);
            on_conn!(conn, |c| {
                let ids: Vec<i64> = audit_events::table
                    .filter(old)
                    .select(audit_events::id)
                    .limit(limit)
                    .load(*c)
                    .await?;
                diesel::delete(
                    audit_events::table
                        .filter(audit_events::id.eq_any(&ids))
                        .filter(old),
                )
                .execute(*c)
                .await
            })?
        }
    };
    Ok(deleted)
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    locked: bool,
}

async fn try_lock(conn: &mut AsyncPgConnection) -> Result<bool, RepoError> {
    let row: Locked = diesel::sql_query(format!(
        "SELECT pg_try_advisory_lock({PURGE_LOCK_KEY}) AS locked"
    ))
    .get_result(conn)
    .await?;
    Ok(row.locked)
}

async fn unlock(conn: &mut AsyncPgConnection) -> Result<(), RepoError> {
    diesel::sql_query(format!("SELECT pg_advisory_unlock({PURGE_LOCK_KEY})"))
        .execute(conn)
        .await?;
    Ok(())
}
