//! The `audit_events` table: an append-only history of security events.
//!
//! Rows are only ever inserted; nothing here updates or deletes them. Events that record a
//! state change are written by the repository function making the change, in its
//! transaction (the `events` arguments); [`append`] is for events that change nothing.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::conn::{Conn, on_conn};
use crate::db_time::{from_db, to_db};
use crate::schema::audit_events;
use crate::{DbPool, RepoError};

/// An event to record. Never a password or a token; at most a short hash prefix in `reason`.
#[derive(Debug, Clone, Copy)]
pub struct NewAuditEvent<'a> {
    /// When it happened.
    pub occurred_at: OffsetDateTime,
    /// What happened, e.g. `login_failed`.
    pub event: &'a str,
    /// Internal detail, e.g. `wrong_password`.
    pub reason: Option<&'a str>,
    /// The request that caused it.
    pub request_id: Option<&'a str>,
    /// The account concerned.
    pub user_id: Option<i64>,
    /// The session concerned.
    pub session_id: Option<&'a str>,
    /// The client's address.
    pub client_ip: Option<&'a str>,
}

/// A recorded event.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub struct AuditRecord {
    /// Order of insertion.
    pub id: i64,
    #[diesel(deserialize_as = PrimitiveDateTime)]
    /// When it happened (UTC).
    pub occurred_at: DbTime,
    /// What happened.
    pub event: String,
    /// Internal detail.
    pub reason: Option<String>,
    /// The request that caused it.
    pub request_id: Option<String>,
    /// The account concerned.
    pub user_id: Option<i64>,
    /// The session concerned.
    pub session_id: Option<String>,
    /// The client's address.
    pub client_ip: Option<String>,
}

/// A timestamp read from the database, in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DbTime(pub OffsetDateTime);

impl From<PrimitiveDateTime> for DbTime {
    fn from(at: PrimitiveDateTime) -> Self {
        Self(from_db(at))
    }
}

/// Appends one event.
///
/// # Errors
///
/// Database failures as [`RepoError::Unavailable`] or [`RepoError::Database`].
pub async fn append(pool: &DbPool, event: NewAuditEvent<'_>) -> Result<(), RepoError> {
    let mut pooled = pool.writer().await?;
    append_on(&mut pooled.conn(), &[event]).await
}

/// Appends `events` on `conn`, inside the caller's transaction when there is one, so the
/// trail records a change exactly when the change commits.
pub(crate) async fn append_on(
    conn: &mut Conn<'_>,
    events: &[NewAuditEvent<'_>],
) -> Result<(), RepoError> {
    for event in events {
        let values = (
            audit_events::occurred_at.eq(to_db(event.occurred_at)),
            audit_events::event.eq(event.event),
            audit_events::reason.eq(event.reason),
            audit_events::request_id.eq(event.request_id),
            audit_events::user_id.eq(event.user_id),
            audit_events::session_id.eq(event.session_id),
            audit_events::client_ip.eq(event.client_ip),
        );
        on_conn!(conn, |c| diesel::insert_into(audit_events::table)
            .values(values)
            .execute(*c)
            .await)?;
    }
    Ok(())
}

/// The latest `limit` events, newest first.
///
/// # Errors
///
/// As [`append`].
pub async fn recent(pool: &DbPool, limit: i64) -> Result<Vec<AuditRecord>, RepoError> {
    let mut pooled = pool.get().await?;
    let rows = on_conn!(pooled.conn(), |c| audit_events::table
        .order(audit_events::id.desc())
        .limit(limit)
        .select(AuditRecord::as_select())
        .load(c)
        .await)?;
    Ok(rows)
}
