//! What the service hands back: a signed-in session, a user's public profile, a principal.

use secrecy::SecretString;
use time::OffsetDateTime;

use auth_persistence::users::UserRecord;

/// A user as clients may see them: never a password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserProfile {
    /// Account key.
    pub id: i64,
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

impl From<UserRecord> for UserProfile {
    fn from(user: UserRecord) -> Self {
        Self {
            id: user.id,
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
    pub session_id: String,
    /// The signed-in user.
    pub user: UserProfile,
}

/// Who an access token speaks for, once its session is known to be live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user's key.
    pub user_id: i64,
    /// The session the token belongs to.
    pub session_id: String,
}
