//! The `sessions` table: one refresh-token chain per sign-in, rotated with compare-and-set.
//!
//! Rotation is one conditional `UPDATE … WHERE current_jti_hash = presented AND revoked_at IS
//! NULL`: PostgreSQL locks the row for the statement and SQLite holds its write lock, so of
//! any number of concurrent rotations of one token exactly one changes the row. The others see
//! that the token they hold is now the previous one, and the caller decides (grace window or
//! reuse) from the returned [`SessionRecord`].

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use futures::FutureExt as _;
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::audit::{NewAuditEvent, append_on};
use crate::cached::Cached;
use crate::conn::{Conn, PooledConn, in_transaction, on_conn};
use crate::db_time::{from_db, to_db};
use crate::devices::NewDevice;
use crate::owned::Opening;
use crate::schema::{sessions, users};
use crate::users::{NewUser, UserRecord, insert_on as insert_on_users};
use crate::{DbPool, RepoError};

mod rotation_pg;

/// A session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Session id, the `sid` claim of its tokens.
    pub id: String,
    /// Owner.
    pub user_id: i64,
    /// SHA-256 (hex) of the `jti` of the refresh token that is valid now.
    pub current_jti_hash: String,
    /// SHA-256 (hex) of the `jti` it replaced.
    pub previous_jti_hash: Option<String>,
    /// When the last rotation happened.
    pub rotated_at: Option<OffsetDateTime>,
    /// Number of rotations so far.
    pub generation: i64,
    /// When the session was opened.
    pub created_at: OffsetDateTime,
    /// When it opened or its refresh token was last used: sessions idle for too long are over.
    pub last_used_at: OffsetDateTime,
    /// Absolute end of the session.
    pub expires_at: OffsetDateTime,
    /// When it was revoked, if it was.
    pub revoked_at: Option<OffsetDateTime>,
    /// Why it was revoked.
    pub revoked_reason: Option<String>,
    /// Client address at the opening or the last refresh.
    pub ip: Option<String>,
    /// User agent at the opening or the last refresh.
    pub user_agent: Option<String>,
}

impl SessionRecord {
    /// Whether the session was revoked.
    pub fn is_revoked(&self) -> bool {
        self.revoked_at.is_some()
    }
}

/// What is needed to open a session.
#[derive(Debug, Clone, Copy)]
pub struct NewSession<'a> {
    /// Session id (a hyphenated UUID).
    pub id: &'a str,
    /// SHA-256 (hex) of the first refresh token's `jti`.
    pub jti_hash: &'a str,
    /// Opening time.
    pub now: OffsetDateTime,
    /// Absolute end of the session.
    pub expires_at: OffsetDateTime,
    /// Where the client signs in from.
    pub client: Client<'a>,
}

/// What is recorded about the client using a session: when it opens and at each refresh.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Client<'a> {
    /// The client's address.
    pub ip: Option<&'a str>,
    /// Its user agent, already cut to the stored length.
    pub user_agent: Option<&'a str>,
}

/// The outcome of [`rotate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The presented token was current; the session now holds the next one. With the
    /// session's user, as read in the same round trip.
    Rotated(SessionRecord, UserRecord),
    /// The token's user is gone or inactive: nothing changed.
    NoLiveUser,
    /// The presented token was not current (already rotated, or the session is revoked or
    /// idle): the session as it is.
    Stale(SessionRecord),
    /// No such session of the token's user.
    Missing,
}

/// Why a session was revoked, as stored in `revoked_reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeReason {
    /// The user signed out.
    Logout,
    /// A rotated refresh token was presented again after the grace window.
    ReuseDetected,
    /// The account was disabled.
    Deactivated,
    /// An administrator revoked it.
    Admin,
    /// Its user changed the password from another session.
    PasswordChanged,
    /// Its user ended it from the list of sessions.
    Revoked,
    /// Its user signed out everywhere.
    LogoutAll,
    /// A newer sign-in went over the limit of sessions per user; the oldest made room.
    SessionLimit,
}

impl RevokeReason {
    /// The stored text.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Logout => "logout",
            Self::ReuseDetected => "reuse_detected",
            Self::Deactivated => "deactivated",
            Self::Admin => "admin",
            Self::PasswordChanged => "password_changed",
            Self::Revoked => "revoked",
            Self::LogoutAll => "logout_all",
            Self::SessionLimit => "session_limit",
        }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub(crate) struct SessionRow {
    id: String,
    user_id: i64,
    current_jti_hash: String,
    previous_jti_hash: Option<String>,
    rotated_at: Option<PrimitiveDateTime>,
    generation: i64,
    created_at: PrimitiveDateTime,
    last_used_at: PrimitiveDateTime,
    expires_at: PrimitiveDateTime,
    revoked_at: Option<PrimitiveDateTime>,
    revoked_reason: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
}

impl From<SessionRow> for SessionRecord {
    fn from(row: SessionRow) -> Self {
        Self {
            id: row.id,
            user_id: row.user_id,
            current_jti_hash: row.current_jti_hash,
            previous_jti_hash: row.previous_jti_hash,
            rotated_at: row.rotated_at.map(from_db),
            generation: row.generation,
            created_at: from_db(row.created_at),
            last_used_at: from_db(row.last_used_at),
            expires_at: from_db(row.expires_at),
            revoked_at: row.revoked_at.map(from_db),
            revoked_reason: row.revoked_reason,
            ip: row.ip,
            user_agent: row.user_agent,
        }
    }
}

async fn insert_on(
    conn: &mut Conn<'_>,
    user_id: i64,
    new: NewSession<'_>,
) -> Result<SessionRecord, RepoError> {
    let now = to_db(new.now);
    let values = (
        sessions::id.eq(new.id),
        sessions::user_id.eq(user_id),
        sessions::current_jti_hash.eq(new.jti_hash),
        sessions::generation.eq(0_i64),
        sessions::created_at.eq(now),
        sessions::last_used_at.eq(now),
        sessions::expires_at.eq(to_db(new.expires_at)),
        sessions::ip.eq(new.client.ip),
        sessions::user_agent.eq(new.client.user_agent),
    );
    let row: SessionRow = on_conn!(conn, |c| diesel::insert_into(sessions::table)
        .values(values)
        .returning(SessionRow::as_returning())
        .get_result(*c)
        .await)?;
    Ok(row.into())
}

/// Creates an account, its first session and, if given, its first device token in one
/// transaction (registration).
///
/// # Errors
///
/// [`RepoError::Conflict`] when the email or username is taken; database failures as
/// [`RepoError::Unavailable`] or [`RepoError::Database`]. On error nothing is written.
pub async fn create_user_with_session(
    pool: &DbPool,
    user: NewUser<'_>,
    session: NewSession<'_>,
    device: Option<NewDevice<'_>>,
) -> Result<(UserRecord, SessionRecord), RepoError> {
    let mut pooled = pool.writer().await?;
    in_transaction!(&mut pooled, |conn| {
        let created = insert_on_users(conn, user).await?;
        let session = insert_on(conn, created.id, session).await?;
        if let Some(device) = device {
            crate::devices::insert_on(conn, created.id, device).await?;
        }
        Ok((created, session))
    })
}

/// Records a sign-in, all in one transaction: sets `last_login`, optionally stores an
/// upgraded password hash (marked as made from the normalised password), forgets the throttle
/// counters `cleared` (a success starts them over), opens a session, stores a new device
/// token (if any) and appends `events` (their `session_id` is filled in).
///
/// # Errors
///
/// [`RepoError::NotFound`] when the user is gone, no longer active or has another password
/// hash than the one checked; database failures as in
/// [`create_user_with_session`]. On error nothing is written.
pub async fn open_for_login(
    pool: &DbPool,
    login: Login<'_>,
    session: NewSession<'_>,
) -> Result<SessionRecord, RepoError> {
    // One write for the whole transaction: on SQLite one turn of the writer thread, which
    // runs its statements in place, instead of a handoff to the connection's thread for each
    // of its six or more statements. Queued to another thread, it needs its inputs owned.
    let opening = Opening::of(&login, &session);
    pool.write(move |pooled: &mut PooledConn| {
        async move {
            let events = opening.events();
            open_on(pooled, &opening.login(&events), opening.session()).await
        }
        .boxed()
    })
    .await
}

/// [`open_for_login`] on a connection checked out for writing.
async fn open_on(
    pooled: &mut PooledConn,
    login: &Login<'_>,
    session: NewSession<'_>,
) -> Result<SessionRecord, RepoError> {
    in_transaction!(pooled, |conn| {
        // Only an active account with the hash that was checked: a deactivation or a password
        // change that lands during the password check must not be followed by a fresh session.
        let at = to_db(session.now);
        let changed = on_conn!(conn, |c| Cached(
            diesel::update(
                users::table
                    .find(login.user_id)
                    .filter(users::is_active.eq(true))
                    .filter(users::hashed_password.eq(login.verified_hash))
            )
            .set((users::last_login.eq(at), users::updated_at.eq(at)))
        )
        .execute(*c)
        .await)?;
        crate::users::expect_one(changed)?;
        if let Some(hash) = login.rehashed_password {
            on_conn!(conn, |c| diesel::update(users::table.find(login.user_id))
                .set((
                    users::hashed_password.eq(hash),
                    users::password_normalized.eq(true)
                ))
                .execute(*c)
                .await)?;
        }
        for key in login.cleared_counters {
            crate::throttles::clear_on(conn, key).await?;
        }
        let opened = insert_on(conn, login.user_id, session).await?;
        if let Some(limit) = &login.limit {
            revoke_beyond_on(conn, login.user_id, limit, session.now).await?;
        }
        if let Some(device) = login.new_device {
            crate::devices::insert_on(conn, login.user_id, device).await?;
        }
        let events: Vec<NewAuditEvent<'_>> = login
            .events
            .iter()
            .map(|event| NewAuditEvent {
                session_id: Some(&opened.id),
                ..*event
            })
            .collect();
        append_on(conn, &events).await?;
        Ok(opened)
    })
}

/// What a successful sign-in changes besides opening its session.
#[derive(Debug, Clone, Copy)]
pub struct Login<'a> {
    /// The account signing in.
    pub user_id: i64,
    /// The hash the password was checked against: the sign-in goes ahead only if it is still
    /// the stored one, so a password change that commits during the check wins.
    pub verified_hash: &'a str,
    /// A hash of the NFKC form of the same password with the current scheme, replacing the
    /// stored one and marking it normalised (`password_normalized`).
    pub rehashed_password: Option<&'a str>,
    /// Throttle counters the success starts over.
    pub cleared_counters: &'a [String],
    /// Audit events of the sign-in.
    pub events: &'a [NewAuditEvent<'a>],
    /// A device token issued with the sign-in.
    pub new_device: Option<NewDevice<'a>>,
    /// The most live sessions the user may have; the oldest beyond it are revoked.
    pub limit: Option<SessionLimit<'a>>,
}

/// How many live sessions a user may have, enforced when one more opens.
#[derive(Debug, Clone, Copy)]
pub struct SessionLimit<'a> {
    /// The most live sessions, the new one included.
    pub max: usize,
    /// Sessions last used at or before this are idle, hence over, and do not count.
    pub idle_since: OffsetDateTime,
    /// Recorded for each session revoked to make room (its `session_id` filled in).
    pub event: NewAuditEvent<'a>,
}

/// Revokes the oldest live sessions of `user_id` beyond `limit.max`, with an event each.
async fn revoke_beyond_on(
    conn: &mut Conn<'_>,
    user_id: i64,
    limit: &SessionLimit<'_>,
    now: OffsetDateTime,
) -> Result<(), RepoError> {
    let ids = crate::accounts::live_session_ids_beyond_on(
        conn,
        user_id,
        now,
        limit.idle_since,
        limit.max,
    )
    .await?;
    if ids.is_empty() {
        return Ok(());
    }
    let at = to_db(now);
    // Cached per number of ids: SQLite spells the list out.
    on_conn!(conn, |c| Cached(
        diesel::update(sessions::table.filter(sessions::id.eq_any(&ids))).set((
            sessions::revoked_at.eq(at),
            sessions::revoked_reason.eq(RevokeReason::SessionLimit.as_str())
        ))
    )
    .execute(*c)
    .await)?;
    let events: Vec<NewAuditEvent<'_>> = ids
        .iter()
        .map(|id| NewAuditEvent {
            session_id: Some(id),
            ..limit.event
        })
        .collect();
    append_on(conn, &events).await
}

/// The session with id `id`, if any.
///
/// # Errors
///
/// Database failures as [`RepoError::Unavailable`] or [`RepoError::Database`].
pub async fn find(pool: &DbPool, id: &str) -> Result<Option<SessionRecord>, RepoError> {
    let mut pooled = pool.get().await?;
    find_on(&mut pooled.conn(), id).await
}

/// The session with id `id` and its user, if both exist: what a bearer's access token is
/// checked against, in one query.
///
/// # Errors
///
/// As [`find`].
pub async fn find_with_user(
    pool: &DbPool,
    id: &str,
) -> Result<Option<(SessionRecord, UserRecord)>, RepoError> {
    let mut pooled = pool.get().await?;
    let row: Option<(SessionRow, crate::users::UserRow)> = on_conn!(pooled.conn(), |c| {
        sessions::table
            .inner_join(users::table)
            .filter(sessions::id.eq(id))
            .select((SessionRow::as_select(), crate::users::UserRow::as_select()))
            .get_result(c)
            .await
            .optional()
    })?;
    Ok(row.map(|(session, user)| (session.into(), user.into())))
}

pub(crate) async fn find_on(
    conn: &mut Conn<'_>,
    id: &str,
) -> Result<Option<SessionRecord>, RepoError> {
    let row: Option<SessionRow> = on_conn!(conn, |c| sessions::table
        .find(id)
        .select(SessionRow::as_select())
        .get_result(*c)
        .await
        .optional())?;
    Ok(row.map(Into::into))
}

/// A refresh of one session: which token is presented, which replaces it, and the rules it
/// must meet. See [`rotate`].
#[derive(Debug, Clone, Copy)]
pub struct Rotate<'a> {
    /// The session (the `sid` claim).
    pub session_id: &'a str,
    /// Its owner according to the token (the `sub` claim).
    pub user_id: i64,
    /// SHA-256 (hex) of the presented token's `jti`.
    pub presented_hash: &'a str,
    /// SHA-256 (hex) of the next token's `jti`.
    pub next_hash: &'a str,
    /// Now.
    pub at: OffsetDateTime,
    /// The client refreshing.
    pub client: Client<'a>,
    /// A session last used at or before this is idle and does not rotate.
    pub idle_since: OffsetDateTime,
}

/// Replaces the current refresh token of a session if and only if it is still the presented
/// one, the session belongs to the token's user, that user is active, the session is not
/// revoked and was last used after `idle_since`: the previous hash and rotation time are kept
/// for the grace window, the generation goes up by one, and `last_used_at` and the client are
/// brought up to date.
///
/// The user is read with the rotation (on PostgreSQL in the same statement; on SQLite in the
/// same turn of the writer), so a refresh costs one round trip when the token is current.
///
/// # Errors
///
/// As [`find`].
pub async fn rotate(pool: &DbPool, rotate: Rotate<'_>) -> Result<Rotation, RepoError> {
    let (rotate_at, rotate_idle_since) = (rotate.at, rotate.idle_since);
    let (at, idle_since) = (to_db(rotate.at), to_db(rotate.idle_since));
    let id = rotate.session_id.to_owned();
    let user_id = rotate.user_id;
    let presented_hash = rotate.presented_hash.to_owned();
    let next_hash = rotate.next_hash.to_owned();
    let ip = rotate.client.ip.map(str::to_owned);
    let user_agent = rotate.client.user_agent.map(str::to_owned);
    pool.write(move |pooled: &mut PooledConn| {
        async move {
            // Written once, typed per backend.
            macro_rules! owner {
                () => {
                    users::table
                        .find(user_id)
                        .select(crate::users::UserRow::as_select())
                };
            }
            macro_rules! rotation {
                () => {
                    Cached(
                        diesel::update(
                            sessions::table
                                .find(&id)
                                .filter(sessions::user_id.eq(user_id))
                                .filter(sessions::current_jti_hash.eq(&presented_hash))
                                .filter(sessions::revoked_at.is_null())
                                .filter(sessions::last_used_at.gt(idle_since))
                                .filter(diesel::dsl::exists(
                                    users::table
                                        .filter(users::id.eq(sessions::user_id))
                                        .filter(users::is_active.eq(true)),
                                )),
                        )
                        .set((
                            sessions::previous_jti_hash.eq(&presented_hash),
                            sessions::current_jti_hash.eq(&next_hash),
                            sessions::rotated_at.eq(at),
                            sessions::generation.eq(sessions::generation + 1_i64),
                            sessions::last_used_at.eq(at),
                            sessions::ip.eq(&ip),
                            sessions::user_agent.eq(&user_agent),
                        ))
                        .returning(SessionRow::as_returning()),
                    )
                };
            }
            let (user, rotated): (Option<UserRecord>, Option<SessionRow>) = match pooled.conn() {
                Conn::Postgres(c) => {
                    let rotate = Rotate {
                        session_id: &id,
                        user_id,
                        presented_hash: &presented_hash,
                        next_hash: &next_hash,
                        at: rotate_at,
                        client: Client {
                            ip: ip.as_deref(),
                            user_agent: user_agent.as_deref(),
                        },
                        idle_since: rotate_idle_since,
                    };
                    match rotation_pg::rotate(c, &rotate).await? {
                        Some((user, rotated)) => (Some(user), rotated),
                        None => (None, None),
                    }
                }
                Conn::Sqlite(c) => (
                    owner!()
                        .get_result::<crate::users::UserRow>(c)
                        .await
                        .optional()?
                        .map(Into::into),
                    rotation!().get_result(c).await.optional()?,
                ),
            };
            match (user, rotated) {
                (Some(user), Some(row)) if user.is_active => {
                    return Ok(Rotation::Rotated(row.into(), user));
                }
                (Some(user), None) if user.is_active => {}
                _ => return Ok(Rotation::NoLiveUser),
            }
            let session = find_on(&mut pooled.conn(), &id).await?;
            Ok(match session {
                Some(session) if session.user_id != user_id => Rotation::Missing,
                // Current, live and not idle, yet not rotated: the user was deactivated
                // between the read and the rotation.
                Some(session)
                    if session.current_jti_hash == presented_hash
                        && session.revoked_at.is_none()
                        && to_db(session.last_used_at) > idle_since =>
                {
                    Rotation::NoLiveUser
                }
                Some(session) => Rotation::Stale(session),
                None => Rotation::Missing,
            })
        }
        .boxed()
    })
    .await
}

/// Revokes session `id` and appends `events` in the same transaction, if it was not revoked
/// yet. Returns `false` (and writes nothing) when it was already revoked or does not exist,
/// so signing out twice is harmless.
///
/// # Errors
///
/// As [`find`].
pub async fn revoke(
    pool: &DbPool,
    id: &str,
    reason: RevokeReason,
    at: OffsetDateTime,
    events: &[NewAuditEvent<'_>],
) -> Result<bool, RepoError> {
    let at = to_db(at);
    let mut pooled = pool.writer().await?;
    in_transaction!(&mut pooled, |conn| {
        let changed = on_conn!(conn, |c| diesel::update(
            sessions::table
                .find(id)
                .filter(sessions::revoked_at.is_null())
        )
        .set((
            sessions::revoked_at.eq(at),
            sessions::revoked_reason.eq(reason.as_str())
        ))
        .execute(*c)
        .await)?;
        if changed == 1 {
            append_on(conn, events).await?;
        }
        Ok(changed == 1)
    })
}

/// Revokes every open session of user `user_id`; returns how many it revoked.
///
/// # Errors
///
/// As [`find`].
pub async fn revoke_all_for_user(
    pool: &DbPool,
    user_id: i64,
    reason: RevokeReason,
    at: OffsetDateTime,
) -> Result<usize, RepoError> {
    let mut pooled = pool.writer().await?;
    revoke_all_on(&mut pooled.conn(), user_id, reason, to_db(at)).await
}

pub(crate) async fn revoke_all_on(
    conn: &mut Conn<'_>,
    user_id: i64,
    reason: RevokeReason,
    at: PrimitiveDateTime,
) -> Result<usize, RepoError> {
    let changed = on_conn!(conn, |c| diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::revoked_at.is_null())
    )
    .set((
        sessions::revoked_at.eq(at),
        sessions::revoked_reason.eq(reason.as_str())
    ))
    .execute(*c)
    .await)?;
    Ok(changed)
}
