//! What the service hands back: a user, a signed-in session, a principal, a session as its
//! user sees it in the list.

use secrecy::SecretString;
use time::OffsetDateTime;

use auth_persistence::sessions::SessionRecord;
use auth_persistence::users::UserRecord;

use crate::{SessionId, UserId};

/// An account as clients may see it: never a password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Account key.
    pub id: UserId,
    /// Email as given at registration.
    pub email: String,
    /// Username as given at registration.
    pub username: String,
    /// Whether the account may sign in.
    pub is_active: bool,
    /// When the account was created.
    pub created_at: OffsetDateTime,
    /// Last successful sign-in.
    pub last_login: Option<OffsetDateTime>,
}

impl From<UserRecord> for User {
    fn from(user: UserRecord) -> Self {
        Self {
            id: UserId::new(user.id),
            email: user.email,
            username: user.username,
            is_active: user.is_active,
            created_at: user.created_at,
            last_login: user.last_login,
        }
    }
}

/// The result of register, login and refresh: a token pair and its user.
///
/// `Debug` shows neither token.
#[derive(Debug, Clone)]
pub struct AuthSession {
    /// Short-lived bearer token for API calls.
    pub access_token: SecretString,
    /// Long-lived token to get the next pair; single use.
    pub refresh_token: SecretString,
    /// Lifetime of the access token, in seconds.
    pub expires_in: i64,
    /// The session (refresh chain) these tokens belong to.
    pub session_id: SessionId,
    /// The device token of a sign-in (register, login): an opaque value the client keeps and
    /// presents at its next login; `None` on refresh.
    pub device_token: Option<SecretString>,
    /// The signed-in user.
    pub user: User,
}

/// Who an access token speaks for, once its session is known to be live and its user active.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user's key.
    pub user_id: UserId,
    /// The session the token belongs to.
    pub session_id: SessionId,
    /// The user, as read with the session.
    pub user: User,
}

/// One of a user's live sessions (one sign-in and its refreshes), as its user may see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The session's id (the `sid` claim of its tokens).
    pub id: SessionId,
    /// When it opened.
    pub created_at: OffsetDateTime,
    /// When it opened or its refresh token was last used.
    pub last_used_at: OffsetDateTime,
    /// Its absolute end.
    pub expires_at: OffsetDateTime,
    /// The client's address at the opening or the last refresh, if known.
    pub ip: Option<String>,
    /// The client's user agent then (at most 256 characters), if known.
    pub user_agent: Option<String>,
    /// Whether it is the session of the caller's token.
    pub current: bool,
}

impl Session {
    /// The session `record`, `current` when it is the caller's `session`.
    pub(crate) fn of(record: SessionRecord, session: &SessionId) -> Self {
        Self {
            current: record.id == session.as_str(),
            id: SessionId::new(record.id),
            created_at: record.created_at,
            last_used_at: record.last_used_at,
            expires_at: record.expires_at,
            ip: record.ip,
            user_agent: record.user_agent,
        }
    }
}
