//! What a signed-in user does to their own account: list and end their sessions, change
//! their password, delete the account. Each write runs in one transaction with its audit
//! event, and acts only on the rows of the user it names.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use time::OffsetDateTime;

use crate::audit::{NewAuditEvent, append_on};
use crate::conn::{Conn, in_transaction, on_conn};
use crate::db_time::to_db;
use crate::schema::{device_tokens, sessions, users};
use crate::sessions::{RevokeReason, SessionRecord, SessionRow};
use crate::users::{CounterKeys, expect_one};
use crate::{DbPool, RepoError};

/// The live sessions of `user_id` at `now`, newest first: not revoked, not past their end,
/// and used after `idle_since`.
///
/// # Errors
///
/// Database failures as [`RepoError::Unavailable`] or [`RepoError::Database`].
pub async fn live_sessions(
    pool: &DbPool,
    user_id: i64,
    now: OffsetDateTime,
    idle_since: OffsetDateTime,
) -> Result<Vec<SessionRecord>, RepoError> {
    let mut pooled = pool.get().await?;
    live_sessions_on(&mut pooled.conn(), user_id, now, idle_since).await
}

/// The live sessions of a user, newest first, as a query (written once, typed per backend).
macro_rules! live_of {
    ($user_id:expr, $now:expr, $idle_since:expr) => {
        sessions::table
            .filter(sessions::user_id.eq($user_id))
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::expires_at.gt($now))
            .filter(sessions::last_used_at.gt($idle_since))
            .order((sessions::created_at.desc(), sessions::id.desc()))
    };
}

pub(crate) async fn live_sessions_on(
    conn: &mut Conn<'_>,
    user_id: i64,
    now: OffsetDateTime,
    idle_since: OffsetDateTime,
) -> Result<Vec<SessionRecord>, RepoError> {
    let (now, idle_since) = (to_db(now), to_db(idle_since));
    let rows: Vec<SessionRow> = on_conn!(conn, |c| live_of!(user_id, now, idle_since)
        .select(SessionRow::as_select())
        .load(*c)
        .await)?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// The ids of the live sessions of `user_id` beyond the newest `keep`, newest first: those a
/// limit of `keep` sessions revokes. Only the ids past the limit are read, so a sign-in at the
/// limit does not load every live session of its user.
pub(crate) async fn live_session_ids_beyond_on(
    conn: &mut Conn<'_>,
    user_id: i64,
    now: OffsetDateTime,
    idle_since: OffsetDateTime,
    keep: usize,
) -> Result<Vec<String>, RepoError> {
    let (now, idle_since) = (to_db(now), to_db(idle_since));
    let keep = i64::try_from(keep).unwrap_or(i64::MAX);
    let ids: Vec<String> = on_conn!(conn, |c| live_of!(user_id, now, idle_since)
        .select(sessions::id)
        .offset(keep)
        .load(*c)
        .await)?;
    Ok(ids)
}

/// Revokes session `id` if it is a live session of `user_id` (as [`live_sessions`] defines
/// it), with `events` in the same transaction. Returns `false`, writing nothing, when it is
/// not: someone else's, unknown, already revoked or over.
///
/// # Errors
///
/// As [`live_sessions`].
pub async fn revoke_session(
    pool: &DbPool,
    user_id: i64,
    id: &str,
    now: OffsetDateTime,
    idle_since: OffsetDateTime,
    events: &[NewAuditEvent<'_>],
) -> Result<bool, RepoError> {
    let (at, idle_since) = (to_db(now), to_db(idle_since));
    let mut pooled = pool.writer().await?;
    in_transaction!(&mut pooled, |conn| {
        let changed = on_conn!(conn, |c| diesel::update(
            sessions::table
                .find(id)
                .filter(sessions::user_id.eq(user_id))
                .filter(sessions::revoked_at.is_null())
                .filter(sessions::expires_at.gt(at))
                .filter(sessions::last_used_at.gt(idle_since))
        )
        .set((
            sessions::revoked_at.eq(at),
            sessions::revoked_reason.eq(RevokeReason::Revoked.as_str())
        ))
        .execute(*c)
        .await)?;
        if changed == 1 {
            append_on(conn, events).await?;
        }
        Ok(changed == 1)
    })
}

/// Revokes every open session of `user_id` for `reason`, with `events` in the same
/// transaction; returns how many it revoked.
///
/// # Errors
///
/// As [`live_sessions`].
pub async fn revoke_all_sessions(
    pool: &DbPool,
    user_id: i64,
    reason: RevokeReason,
    at: OffsetDateTime,
    events: &[NewAuditEvent<'_>],
) -> Result<usize, RepoError> {
    let at = to_db(at);
    let mut pooled = pool.writer().await?;
    in_transaction!(&mut pooled, |conn| {
        let revoked = crate::sessions::revoke_all_on(conn, user_id, reason, at).await?;
        append_on(conn, events).await?;
        Ok(revoked)
    })
}

/// A password change, proven with the current password.
#[derive(Clone, Copy)]
pub struct PasswordChange<'a> {
    /// The account.
    pub user_id: i64,
    /// The hash the current password was checked against: the change applies only if it is
    /// still the stored one (a concurrent change or deletion wins otherwise).
    pub verified_hash: &'a str,
    /// The new hash, made from the NFKC form of the new password.
    pub new_hash: &'a str,
    /// The caller's session, which stays open; every other one is revoked.
    pub keep_session: &'a str,
    /// The caller's device token, which stays valid; every other one is revoked.
    pub keep_device: Option<&'a str>,
    /// Throttle counters a proven password starts over, as a successful sign-in does.
    pub cleared_counters: &'a [String],
    /// When.
    pub at: OffsetDateTime,
    /// Audit events of the change.
    pub events: &'a [NewAuditEvent<'a>],
}

impl std::fmt::Debug for PasswordChange<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordChange")
            .field("user_id", &self.user_id)
            .field("keep_session", &self.keep_session)
            .finish_non_exhaustive()
    }
}

/// Stores a new password hash and revokes every other session and device token of the user,
/// all in one transaction with its events. Returns how many sessions it revoked.
///
/// The user's row is written first, so on PostgreSQL the transaction holds it, and the rows
/// of its sessions it revokes, until it commits: a refresh of another session that lands
/// meanwhile waits, then finds its session revoked. On SQLite the transaction holds the
/// write lock from its first statement.
///
/// # Errors
///
/// [`RepoError::NotFound`] when the account is gone, inactive or its hash is no longer
/// `verified_hash`; otherwise as [`live_sessions`]. On error nothing is changed.
pub async fn change_password(
    pool: &DbPool,
    change: PasswordChange<'_>,
) -> Result<usize, RepoError> {
    let at = to_db(change.at);
    let mut pooled = pool.writer().await?;
    in_transaction!(&mut pooled, |conn| {
        let changed = on_conn!(conn, |c| diesel::update(
            users::table
                .find(change.user_id)
                .filter(users::hashed_password.eq(change.verified_hash))
                .filter(users::is_active.eq(true))
        )
        .set((
            users::hashed_password.eq(change.new_hash),
            users::password_normalized.eq(true),
            users::updated_at.eq(at)
        ))
        .execute(*c)
        .await)?;
        expect_one(changed)?;
        let revoked = on_conn!(conn, |c| diesel::update(
            sessions::table
                .filter(sessions::user_id.eq(change.user_id))
                .filter(sessions::id.ne(change.keep_session))
                .filter(sessions::revoked_at.is_null())
        )
        .set((
            sessions::revoked_at.eq(at),
            sessions::revoked_reason.eq(RevokeReason::PasswordChanged.as_str())
        ))
        .execute(*c)
        .await)?;
        let keep_device = change.keep_device.unwrap_or("");
        on_conn!(conn, |c| diesel::update(
            device_tokens::table
                .filter(device_tokens::user_id.eq(change.user_id))
                .filter(device_tokens::id.ne(keep_device))
                .filter(device_tokens::revoked_at.is_null())
        )
        .set(device_tokens::revoked_at.eq(at))
        .execute(*c)
        .await)?;
        for key in change.cleared_counters {
            crate::throttles::clear_on(conn, key).await?;
        }
        append_on(conn, change.events).await?;
        Ok(revoked)
    })
}

/// An account deletion, proven with the password.
#[derive(Debug, Clone)]
pub struct AccountDeletion<'a> {
    /// The account.
    pub user_id: i64,
    /// The hash the password was checked against: the deletion applies only if it is still
    /// the stored one.
    pub verified_hash: &'a str,
    /// The account's throttle counters, deleted with it.
    pub counters: CounterKeys,
    /// The audit event (it keeps the user id; no email or username).
    pub event: NewAuditEvent<'a>,
}

/// Deletes the account with its sessions, device tokens and throttle counters, in one
/// transaction with its event. Its email and username are free again; its id is never handed
/// out again (identity column on PostgreSQL, `AUTOINCREMENT` on SQLite). The audit trail
/// keeps its rows, which name the account by id only.
///
/// # Errors
///
/// [`RepoError::NotFound`] when the account is gone or its hash is no longer
/// `verified_hash`; otherwise as [`live_sessions`]. On error nothing is changed.
pub async fn delete_account(pool: &DbPool, deletion: AccountDeletion<'_>) -> Result<(), RepoError> {
    let user_id = deletion.user_id;
    let mut pooled = pool.writer().await?;
    in_transaction!(&mut pooled, |conn| {
        // The account's row first: a sign-in racing the deletion waits for it, then finds no
        // account to open a session for.
        let deleted = on_conn!(conn, |c| diesel::delete(
            users::table
                .find(user_id)
                .filter(users::hashed_password.eq(deletion.verified_hash))
        )
        .execute(*c)
        .await)?;
        expect_one(deleted)?;
        // The foreign keys cascade; deleting explicitly keeps this true without them.
        on_conn!(conn, |c| diesel::delete(
            sessions::table.filter(sessions::user_id.eq(user_id))
        )
        .execute(*c)
        .await)?;
        on_conn!(conn, |c| diesel::delete(
            device_tokens::table.filter(device_tokens::user_id.eq(user_id))
        )
        .execute(*c)
        .await)?;
        for key in &deletion.counters.exact {
            crate::throttles::clear_on(conn, key).await?;
        }
        for prefix in &deletion.counters.prefixes {
            crate::throttles::clear_prefix_on(conn, prefix).await?;
        }
        append_on(conn, &[deletion.event]).await
    })
}
