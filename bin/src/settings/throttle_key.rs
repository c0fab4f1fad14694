//! The secret throttle keys are hashed under: `THROTTLE_KEY_SECRET`, or one derived from a
//! secret every replica already shares.
//!
//! The key must be the same on every replica and across restarts, or replicas would count one
//! identifier under different keys and a restart would forget every counter. The JWT signing
//! key (HS*) and the key-encryption key (EdDSA, ES256) are exactly such secrets: required with
//! PostgreSQL, and kept in a file beside the database with SQLite. The derived key is an
//! HMAC of a fixed label under them, so it reveals nothing of them. Rotating the JWT key
//! therefore also starts the throttle counters afresh (old keys simply expire); set
//! `THROTTLE_KEY_SECRET` to keep them apart. Only an in-memory SQLite database, whose
//! generated key is per process anyway, gets a per-process throttle key.

use auth_services::ThrottleKeySecret;

use super::{ConfigError, Settings};

impl Settings {
    /// The throttle-key secret: `THROTTLE_KEY_SECRET` when set; otherwise derived from the
    /// key-encryption key with an asymmetric `JWT_ALGORITHM`, or from the JWT signing key.
    ///
    /// # Errors
    ///
    /// As [`Settings::resolve_jwt_secret`] and [`Settings::resolve_key_encryption_key`]:
    /// the shared secret it derives from is missing or its file unreadable.
    pub fn resolve_throttle_key(&self) -> Result<ThrottleKeySecret, ConfigError> {
        if let Some(secret) = &self.throttle_key_secret {
            return Ok(ThrottleKeySecret::new(secret.clone()));
        }
        let shared = match self.resolve_key_encryption_key()? {
            Some(kek) => kek,
            None => self.resolve_jwt_secret()?,
        };
        Ok(ThrottleKeySecret::derived_from(&shared))
    }
}
