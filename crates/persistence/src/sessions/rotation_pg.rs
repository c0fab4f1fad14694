//! A refresh's rotation on PostgreSQL as one statement: the conditional `UPDATE` of the
//! session and the read of its owner, in one snapshot and one implicit transaction.
//!
//! Sent as two pipelined statements, the pair cost PostgreSQL two transactions per refresh; a
//! data-modifying `WITH` does both in one (SQLite has no `UPDATE` in `WITH`, and its rotation
//! runs both statements in one turn of the writer instead). Diesel's query builder does not
//! write a data-modifying `WITH`, hence the SQL text.

use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamp};
use diesel::{QueryableByName, sql_query};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use time::PrimitiveDateTime;

use super::SessionRow;
use crate::cached::Cached;
use crate::db_time::{from_db, to_db};
use crate::users::UserRecord;

/// The rotation and the read of the owner. `$1` session id, `$2` user id, `$3` presented hash,
/// `$4` next hash, `$5` now, `$6` ip, `$7` user agent, `$8` idle since. No row when the user
/// does not exist; the session columns are null when the rotation changed nothing.
const ROTATE: &str = "\
WITH rotated AS (
    UPDATE sessions
       SET previous_jti_hash = $3, current_jti_hash = $4, rotated_at = $5,
           generation = generation + 1, last_used_at = $5, ip = $6, user_agent = $7
     WHERE id = $1 AND user_id = $2 AND current_jti_hash = $3 AND revoked_at IS NULL
       AND last_used_at > $8
       AND EXISTS (SELECT 1 FROM users WHERE users.id = sessions.user_id AND users.is_active)
 RETURNING id, user_id, current_jti_hash, previous_jti_hash, rotated_at, generation,
           created_at, last_used_at, expires_at, revoked_at, revoked_reason, ip, user_agent
)
SELECT u.id AS owner_id, u.email AS owner_email, u.username AS owner_username,
       u.hashed_password AS owner_hashed_password, u.is_active AS owner_is_active,
       u.created_at AS owner_created_at, u.updated_at AS owner_updated_at,
       u.last_login AS owner_last_login, u.password_normalized AS owner_password_normalized,
       r.id, r.user_id, r.current_jti_hash, r.previous_jti_hash, r.rotated_at, r.generation,
       r.created_at, r.last_used_at, r.expires_at, r.revoked_at, r.revoked_reason, r.ip,
       r.user_agent
  FROM users u LEFT JOIN rotated r ON TRUE
 WHERE u.id = $2";

/// What [`ROTATE`] returns: the owner, and the session if it rotated.
#[derive(QueryableByName)]
struct OwnerAndRotation {
    #[diesel(sql_type = BigInt)]
    owner_id: i64,
    #[diesel(sql_type = Text)]
    owner_email: String,
    #[diesel(sql_type = Text)]
    owner_username: String,
    #[diesel(sql_type = Text)]
    owner_hashed_password: String,
    #[diesel(sql_type = Bool)]
    owner_is_active: bool,
    #[diesel(sql_type = Timestamp)]
    owner_created_at: PrimitiveDateTime,
    #[diesel(sql_type = Timestamp)]
    owner_updated_at: PrimitiveDateTime,
    #[diesel(sql_type = Nullable<Timestamp>)]
    owner_last_login: Option<PrimitiveDateTime>,
    #[diesel(sql_type = Bool)]
    owner_password_normalized: bool,
    #[diesel(sql_type = Nullable<Text>)]
    id: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    user_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    current_jti_hash: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    previous_jti_hash: Option<String>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    rotated_at: Option<PrimitiveDateTime>,
    #[diesel(sql_type = Nullable<BigInt>)]
    generation: Option<i64>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    created_at: Option<PrimitiveDateTime>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    last_used_at: Option<PrimitiveDateTime>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    expires_at: Option<PrimitiveDateTime>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    revoked_at: Option<PrimitiveDateTime>,
    #[diesel(sql_type = Nullable<Text>)]
    revoked_reason: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    ip: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    user_agent: Option<String>,
}

impl OwnerAndRotation {
    fn split(self) -> (UserRecord, Option<SessionRow>) {
        let owner = UserRecord {
            id: self.owner_id,
            email: self.owner_email,
            username: self.owner_username,
            hashed_password: self.owner_hashed_password,
            is_active: self.owner_is_active,
            created_at: from_db(self.owner_created_at),
            updated_at: from_db(self.owner_updated_at),
            last_login: self.owner_last_login.map(from_db),
            password_normalized: self.owner_password_normalized,
        };
        // Every non-null column of the session is set exactly when the rotation returned it.
        let rotated = match (
            self.id,
            self.user_id,
            self.current_jti_hash,
            self.generation,
            self.created_at,
            self.last_used_at,
            self.expires_at,
        ) {
            (
                Some(id),
                Some(user_id),
                Some(current_jti_hash),
                Some(generation),
                Some(created_at),
                Some(last_used_at),
                Some(expires_at),
            ) => Some(SessionRow {
                id,
                user_id,
                current_jti_hash,
                previous_jti_hash: self.previous_jti_hash,
                rotated_at: self.rotated_at,
                generation,
                created_at,
                last_used_at,
                expires_at,
                revoked_at: self.revoked_at,
                revoked_reason: self.revoked_reason,
                ip: self.ip,
                user_agent: self.user_agent,
            }),
            _ => None,
        };
        (owner, rotated)
    }
}

/// Rotates as [`super::rotate`] describes, in one statement: the owner (if the user exists)
/// and the rotated session (if the rotation changed the row).
pub(super) async fn rotate(
    conn: &mut AsyncPgConnection,
    rotate: &super::Rotate<'_>,
) -> diesel::QueryResult<Option<(UserRecord, Option<SessionRow>)>> {
    let (at, idle_since) = (to_db(rotate.at), to_db(rotate.idle_since));
    let query = sql_query(ROTATE)
        .bind::<Text, _>(rotate.session_id)
        .bind::<BigInt, _>(rotate.user_id)
        .bind::<Text, _>(rotate.presented_hash)
        .bind::<Text, _>(rotate.next_hash)
        .bind::<Timestamp, _>(at)
        .bind::<Nullable<Text>, _>(rotate.client.ip)
        .bind::<Nullable<Text>, _>(rotate.client.user_agent)
        .bind::<Timestamp, _>(idle_since);
    let found: Option<OwnerAndRotation> =
        diesel::OptionalExtension::optional(Cached(query).get_result(conn).await)?;
    Ok(found.map(OwnerAndRotation::split))
}
