//! What the service hands back: a user, a signed-in session, a principal.

use secrecy::SecretString;
use time::OffsetDateTime;

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
