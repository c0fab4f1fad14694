//! Settings of the business rules that are not part of the crypto or database settings.

use time::Duration;

use crate::{HashingLimits, ThrottleConfig};

/// Behaviour of [`AuthService`](crate::AuthService).
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// How long after a rotation the previous refresh token may still be presented (two tabs
    /// refreshing at once) and get the same successor instead of revoking the session.
    pub refresh_reuse_grace: Duration,
    /// Password-hashing threads and the queue in front of them: a login flood queues, then is
    /// shed, instead of exhausting memory.
    pub hashing: HashingLimits,
    /// Throttling and lockout limits.
    pub throttle: ThrottleConfig,
    /// How long a device token, issued at sign-in, is recognised.
    pub device_token_ttl: Duration,
    /// The shortest password registration accepts, in characters (8 to 64; NIST SP 800-63B-4
    /// asks for 15 when the password is the only factor).
    pub password_min_length: usize,
    /// A session whose refresh token was not used for this long is over.
    pub session_idle: Duration,
    /// The most live sessions a user may have; a sign-in beyond it revokes the oldest.
    pub max_sessions_per_user: usize,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            refresh_reuse_grace: Duration::seconds(10),
            hashing: HashingLimits::default(),
            throttle: ThrottleConfig::default(),
            device_token_ttl: Duration::days(90),
            password_min_length: 8,
            session_idle: Duration::days(30),
            max_sessions_per_user: 50,
        }
    }
}
