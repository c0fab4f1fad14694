//! The `users` table: accounts, looked up without regard to case.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use time::{OffsetDateTime, PrimitiveDateTime};
use unicode_normalization::UnicodeNormalization as _;

use crate::audit::{NewAuditEvent, append_on};
use crate::conn::{Conn, in_transaction, on_conn};
use crate::db_time::{from_db, to_db};
use crate::schema::users;
use crate::sessions::RevokeReason;
use crate::{DbPool, RepoError};

/// An account as stored.
///
/// `Debug` leaves out the password hash.
#[derive(Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// Key, shown to clients as a number.
    pub id: i64,
    /// Email as given at registration.
    pub email: String,
    /// Username as given at registration.
    pub username: String,
    /// The stored password hash (PHC or bcrypt string).
    pub hashed_password: String,
    /// Whether the account may sign in.
    pub is_active: bool,
    /// When the account was created.
    pub created_at: OffsetDateTime,
    /// When the account last changed.
    pub updated_at: OffsetDateTime,
    /// When the user last signed in.
    pub last_login: Option<OffsetDateTime>,
    /// Whether `hashed_password` was made from the NFKC form of the password (verify with
    /// `PasswordForm::Normalized`); `false` for hashes of the bytes as typed.
    pub password_normalized: bool,
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("is_active", &self.is_active)
            .finish_non_exhaustive()
    }
}

/// What is needed to create an account. Case-insensitive keys are derived here.
#[derive(Clone, Copy)]
pub struct NewUser<'a> {
    /// Email, already validated and trimmed.
    pub email: &'a str,
    /// Username, already validated.
    pub username: &'a str,
    /// The password hash to store.
    pub hashed_password: &'a str,
    /// Whether that hash was made from the NFKC form of the password (every hash of
    /// `auth_crypto::PasswordHasher::hash` is); `false` for one imported from elsewhere.
    pub password_normalized: bool,
    /// Creation time.
    pub now: OffsetDateTime,
}

impl std::fmt::Debug for NewUser<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// The case-insensitive key of an email or username: its Unicode NFC form, lower-cased.
///
/// NFC first, so an address typed with a precomposed "é" (U+00E9) and one with "e" + U+0301
/// get the same key. Usernames are ASCII, where NFC changes nothing.
pub fn normalize(identity: &str) -> String {
    identity.nfc().collect::<String>().to_lowercase()
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
pub(crate) struct UserRow {
    id: i64,
    email: String,
    username: String,
    hashed_password: String,
    is_active: bool,
    created_at: PrimitiveDateTime,
    updated_at: PrimitiveDateTime,
    last_login: Option<PrimitiveDateTime>,
    password_normalized: bool,
}

impl From<UserRow> for UserRecord {
    fn from(row: UserRow) -> Self {
        Self {
            id: row.id,
            email: row.email,
            username: row.username,
            hashed_password: row.hashed_password,
            is_active: row.is_active,
            created_at: from_db(row.created_at),
            updated_at: from_db(row.updated_at),
            last_login: row.last_login.map(from_db),
            password_normalized: row.password_normalized,
        }
    }
}

/// The user with key `id`, if any.
///
/// # Errors
///
/// [`RepoError::Unavailable`] or [`RepoError::Database`] when the database fails.
pub async fn find_by_id(pool: &DbPool, id: i64) -> Result<Option<UserRecord>, RepoError> {
    let mut pooled = pool.get().await?;
    let row: Option<UserRow> = on_conn!(pooled.conn(), |c| users::table
        .find(id)
        .select(UserRow::as_select())
        .get_result(c)
        .await
        .optional())?;
    Ok(row.map(Into::into))
}

/// The user whose email matches `email` without regard to case.
///
/// # Errors
///
/// As [`find_by_id`].
pub async fn find_by_email(pool: &DbPool, email: &str) -> Result<Option<UserRecord>, RepoError> {
    let key = normalize(email);
    let mut pooled = pool.get().await?;
    let row: Option<UserRow> = on_conn!(pooled.conn(), |c| users::table
        .filter(users::email_normalized.eq(&key))
        .select(UserRow::as_select())
        .get_result(c)
        .await
        .optional())?;
    Ok(row.map(Into::into))
}

/// The user whose username matches `username` without regard to case.
///
/// # Errors
///
/// As [`find_by_id`].
pub async fn find_by_username(
    pool: &DbPool,
    username: &str,
) -> Result<Option<UserRecord>, RepoError> {
    let key = normalize(username);
    let mut pooled = pool.get().await?;
    let row: Option<UserRow> = on_conn!(pooled.conn(), |c| users::table
        .filter(users::username_normalized.eq(&key))
        .select(UserRow::as_select())
        .get_result(c)
        .await
        .optional())?;
    Ok(row.map(Into::into))
}

/// Creates an account.
///
/// # Errors
///
/// [`RepoError::Conflict`] when the email or username is taken, also when another request
/// takes it at the same moment; otherwise as [`find_by_id`].
pub async fn insert(pool: &DbPool, new: NewUser<'_>) -> Result<UserRecord, RepoError> {
    let mut pooled = pool.writer().await?;
    insert_on(&mut pooled.conn(), new).await
}

pub(crate) async fn insert_on(
    conn: &mut Conn<'_>,
    new: NewUser<'_>,
) -> Result<UserRecord, RepoError> {
    let now = to_db(new.now);
    let values = (
        users::email.eq(new.email),
        users::email_normalized.eq(normalize(new.email)),
        users::username.eq(new.username),
        users::username_normalized.eq(normalize(new.username)),
        users::hashed_password.eq(new.hashed_password),
        users::password_normalized.eq(new.password_normalized),
        users::is_active.eq(true),
        users::created_at.eq(now),
        users::updated_at.eq(now),
    );
    let row: UserRow = on_conn!(conn, |c| diesel::insert_into(users::table)
        .values(values)
        .returning(UserRow::as_returning())
        .get_result(*c)
        .await)?;
    Ok(row.into())
}

/// Replaces the stored password hash (a rehash after sign-in, or a password change) with one
/// made from the NFKC form of the password, and marks it so.
///
/// # Errors
///
/// [`RepoError::NotFound`] when the user is gone; otherwise as [`find_by_id`].
pub async fn update_password_hash(
    pool: &DbPool,
    id: i64,
    hashed_password: &str,
    at: OffsetDateTime,
) -> Result<(), RepoError> {
    let at = to_db(at);
    let mut pooled = pool.writer().await?;
    let changed = on_conn!(pooled.conn(), |c| diesel::update(users::table.find(id))
        .set((
            users::hashed_password.eq(hashed_password),
            users::password_normalized.eq(true),
            users::updated_at.eq(at)
        ))
        .execute(c)
        .await)?;
    expect_one(changed)
}

/// How an account is named: by key, or by email or username without regard to case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserKey<'a> {
    /// The account's key.
    Id(i64),
    /// The account's email.
    Email(&'a str),
    /// The account's username.
    Username(&'a str),
}

/// Stamps `updated_at` on the account `key` names and returns it: the first statement of a
/// transaction that acts on one account, so the row is found and write-locked in one step.
async fn touch_on(
    conn: &mut Conn<'_>,
    key: UserKey<'_>,
    at: PrimitiveDateTime,
) -> Result<UserRecord, RepoError> {
    macro_rules! touch {
        ($filter:expr) => {
            on_conn!(conn, |c| diesel::update(users::table.filter($filter))
                .set(users::updated_at.eq(at))
                .returning(UserRow::as_returning())
                .get_result(*c)
                .await)
        };
    }
    let row: UserRow = match key {
        UserKey::Id(id) => touch!(users::id.eq(id)),
        UserKey::Email(email) => touch!(users::email_normalized.eq(normalize(email))),
        UserKey::Username(name) => touch!(users::username_normalized.eq(normalize(name))),
    }?;
    Ok(row.into())
}

/// Enables or disables the account `key` names, in one transaction with `event` (its
/// `user_id` is filled in). Disabling also revokes all of the account's open sessions and
/// device tokens. Returns the account as it is now and how many sessions were revoked.
///
/// # Errors
///
/// [`RepoError::NotFound`] when no account matches; database failures as
/// [`RepoError::Unavailable`] or [`RepoError::Database`]. On error nothing is changed.
pub async fn set_active(
    pool: &DbPool,
    key: UserKey<'_>,
    active: bool,
    at: OffsetDateTime,
    event: NewAuditEvent<'_>,
) -> Result<(UserRecord, usize), RepoError> {
    let at = to_db(at);
    let mut pooled = pool.writer().await?;
    in_transaction!(&mut pooled, |conn| {
        let user = touch_on(conn, key, at).await?;
        on_conn!(conn, |c| diesel::update(users::table.find(user.id))
            .set(users::is_active.eq(active))
            .execute(*c)
            .await)?;
        let revoked = if active {
            0
        } else {
            crate::devices::revoke_all_on(conn, user.id, at).await?;
            crate::sessions::revoke_all_on(conn, user.id, RevokeReason::Deactivated, at).await?
        };
        let event = NewAuditEvent {
            user_id: Some(user.id),
            ..event
        };
        append_on(conn, &[event]).await?;
        Ok((
            UserRecord {
                is_active: active,
                ..user
            },
            revoked,
        ))
    })
}

/// Clears the throttling counters of the account `key` names, in one transaction with
/// `event` (its `user_id` is filled in): the keys `counters(id)` returns, exactly and as
/// prefixes. Returns the account and how many counters were cleared.
///
/// # Errors
///
/// As [`set_active`].
pub async fn clear_counters(
    pool: &DbPool,
    key: UserKey<'_>,
    counters: impl Fn(i64) -> CounterKeys + Send + Sync,
    at: OffsetDateTime,
    event: NewAuditEvent<'_>,
) -> Result<(UserRecord, usize), RepoError> {
    let at = to_db(at);
    let mut pooled = pool.writer().await?;
    in_transaction!(&mut pooled, |conn| {
        let user = touch_on(conn, key, at).await?;
        let keys = counters(user.id);
        let mut cleared = 0;
        for exact in &keys.exact {
            cleared += crate::throttles::clear_on(conn, exact).await?;
        }
        for prefix in &keys.prefixes {
            cleared += crate::throttles::clear_prefix_on(conn, prefix).await?;
        }
        let event = NewAuditEvent {
            user_id: Some(user.id),
            ..event
        };
        append_on(conn, &[event]).await?;
        Ok((user, cleared))
    })
}

/// Throttle counters to clear: whole keys and key prefixes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CounterKeys {
    /// Keys cleared as given.
    pub exact: Vec<String>,
    /// Every key starting with one of these is cleared.
    pub prefixes: Vec<String>,
}

pub(crate) fn expect_one(changed: usize) -> Result<(), RepoError> {
    if changed == 0 {
        Err(RepoError::NotFound)
    } else {
        Ok(())
    }
}
