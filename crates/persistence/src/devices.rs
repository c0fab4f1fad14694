//! The `device_tokens` table: devices an account signed in from, each known only by the
//! SHA-256 hash of an opaque token it holds.
//!
//! Tokens are written with the sign-in that issues them (see
//! [`create_user_with_session`](crate::sessions::create_user_with_session) and
//! [`open_for_login`](crate::sessions::open_for_login)) and revoked with a deactivation.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::conn::{Conn, on_conn};
use crate::db_time::{from_db, to_db};
use crate::schema::device_tokens;
use crate::{DbPool, RepoError};

/// A device as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRecord {
    /// Device id (a hyphenated UUID).
    pub id: String,
    /// Owner.
    pub user_id: i64,
    /// When the token was issued.
    pub created_at: OffsetDateTime,
    /// When it stops being recognised.
    pub expires_at: OffsetDateTime,
    /// When it was revoked, if it was.
    pub revoked_at: Option<OffsetDateTime>,
}

impl DeviceRecord {
    /// Whether the token is recognised at `now`: not revoked and not expired.
    pub fn is_live(&self, now: OffsetDateTime) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

/// A device token about to be issued.
#[derive(Debug, Clone, Copy)]
pub struct NewDevice<'a> {
    /// Device id (a hyphenated UUID).
    pub id: &'a str,
    /// SHA-256 (hex) of the token.
    pub token_hash: &'a str,
    /// Issue time.
    pub now: OffsetDateTime,
    /// When it stops being recognised.
    pub expires_at: OffsetDateTime,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = device_tokens)]
struct DeviceRow {
    id: String,
    user_id: i64,
    created_at: PrimitiveDateTime,
    expires_at: PrimitiveDateTime,
    revoked_at: Option<PrimitiveDateTime>,
}

impl From<DeviceRow> for DeviceRecord {
    fn from(row: DeviceRow) -> Self {
        Self {
            id: row.id,
            user_id: row.user_id,
            created_at: from_db(row.created_at),
            expires_at: from_db(row.expires_at),
            revoked_at: row.revoked_at.map(from_db),
        }
    }
}

/// The device whose token hashes to `token_hash`, live or not.
///
/// # Errors
///
/// Database failures as [`RepoError::Unavailable`] or [`RepoError::Database`].
pub async fn find_by_hash(
    pool: &DbPool,
    token_hash: &str,
) -> Result<Option<DeviceRecord>, RepoError> {
    let mut pooled = pool.get().await?;
    let row: Option<DeviceRow> = on_conn!(pooled.conn(), |c| device_tokens::table
        .filter(device_tokens::token_hash.eq(token_hash))
        .select(DeviceRow::as_select())
        .get_result(c)
        .await
        .optional())?;
    Ok(row.map(Into::into))
}

/// Stores a new device token of `user_id`, inside the caller's transaction.
pub(crate) async fn insert_on(
    conn: &mut Conn<'_>,
    user_id: i64,
    new: NewDevice<'_>,
) -> Result<(), RepoError> {
    let values = (
        device_tokens::id.eq(new.id),
        device_tokens::user_id.eq(user_id),
        device_tokens::token_hash.eq(new.token_hash),
        device_tokens::created_at.eq(to_db(new.now)),
        device_tokens::expires_at.eq(to_db(new.expires_at)),
    );
    on_conn!(conn, |c| diesel::insert_into(device_tokens::table)
        .values(values)
        .execute(*c)
        .await)?;
    Ok(())
}

/// Revokes every live device token of `user_id`, inside the caller's transaction; returns
/// how many.
pub(crate) async fn revoke_all_on(
    conn: &mut Conn<'_>,
    user_id: i64,
    at: PrimitiveDateTime,
) -> Result<usize, RepoError> {
    let changed = on_conn!(conn, |c| diesel::update(
        device_tokens::table
            .filter(device_tokens::user_id.eq(user_id))
            .filter(device_tokens::revoked_at.is_null())
    )
    .set(device_tokens::revoked_at.eq(at))
    .execute(*c)
    .await)?;
    Ok(changed)
}
