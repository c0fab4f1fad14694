//! Account look-ups and creation, guarded by the circuit breaker.

use std::sync::Arc;

use auth_errors::AppError;
use auth_persistence::DbPool;
use auth_persistence::users::{self, NewUser, UserRecord};
use auth_resilience::CircuitBreaker;

use auth_crypto::{Clock, SystemClock};

use crate::audit::{AuditEvent, Auditor};
use crate::guard::guarded;
use crate::{Throttle, ThrottleConfig};

/// Reads and writes accounts. Look-ups of email and username ignore case; a missing user is
/// `None`, never an error.
#[derive(Debug, Clone)]
pub struct UserService {
    pool: DbPool,
    breaker: Arc<CircuitBreaker>,
    clock: Arc<dyn Clock>,
    auditor: Auditor,
}

impl UserService {
    /// A service over `pool`, with every call passing through `breaker`.
    pub fn new(pool: DbPool, breaker: Arc<CircuitBreaker>) -> Self {
        Self::with_clock(pool, breaker, Arc::new(SystemClock))
    }

    pub(crate) fn with_clock(
        pool: DbPool,
        breaker: Arc<CircuitBreaker>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let auditor = Auditor::new(pool.clone(), breaker.clone(), clock.clone());
        Self {
            pool,
            breaker,
            clock,
            auditor,
        }
    }

    /// The user with key `id`.
    ///
    /// # Errors
    ///
    /// `SERVICE_UNAVAILABLE` when the database is down or the breaker is open; `INTERNAL_ERROR`
    /// for other database failures.
    #[tracing::instrument(name = "users.get_by_id", skip_all, fields(user.id = id))]
    pub async fn get_by_id(&self, id: i64) -> Result<Option<UserRecord>, AppError> {
        guarded(&self.breaker, users::find_by_id(&self.pool, id)).await
    }

    /// The user with this email, ignoring case.
    ///
    /// # Errors
    ///
    /// As [`get_by_id`](Self::get_by_id).
    #[tracing::instrument(name = "users.get_by_email", skip_all)]
    pub async fn get_by_email(&self, email: &str) -> Result<Option<UserRecord>, AppError> {
        guarded(&self.breaker, users::find_by_email(&self.pool, email)).await
    }

    /// The user with this username, ignoring case.
    ///
    /// # Errors
    ///
    /// As [`get_by_id`](Self::get_by_id).
    #[tracing::instrument(name = "users.get_by_username", skip_all)]
    pub async fn get_by_username(&self, username: &str) -> Result<Option<UserRecord>, AppError> {
        guarded(&self.breaker, users::find_by_username(&self.pool, username)).await
    }

    /// Creates an account from already-validated values and a password hash.
    ///
    /// # Errors
    ///
    /// `USER_EXISTS` when the email or username is taken (also by a concurrent request);
    /// otherwise as [`get_by_id`](Self::get_by_id).
    #[tracing::instrument(name = "users.create", skip_all, fields(user.id = tracing::field::Empty))]
    pub async fn create(&self, user: NewUser<'_>) -> Result<UserRecord, AppError> {
        let created = guarded(&self.breaker, users::insert(&self.pool, user)).await?;
        tracing::Span::current().record("user.id", created.id);
        Ok(created)
    }

    /// Disables an account and revokes all of its sessions at once.
    ///
    /// # Errors
    ///
    /// `NOT_FOUND` when there is no such user; otherwise as [`get_by_id`](Self::get_by_id).
    #[tracing::instrument(name = "users.deactivate", skip_all, fields(user.id = id))]
    pub async fn deactivate(&self, id: i64, at: time::OffsetDateTime) -> Result<usize, AppError> {
        let revoked = guarded(&self.breaker, users::deactivate(&self.pool, id, at)).await?;
        tracing::info!(sessions.revoked = revoked, "user deactivated");
        self.auditor
            .record(AuditEvent::Deactivate, None, Some(id), None)
            .await;
        Ok(revoked)
    }

    /// Lifts the lock, delays and per-address counters of `user`.
    /// Returns how many counters were cleared.
    ///
    /// # Errors
    ///
    /// `SERVICE_UNAVAILABLE` / `INTERNAL_ERROR` on database failure.
    #[tracing::instrument(name = "users.unlock", skip_all, fields(user.id = user.id))]
    pub async fn unlock(&self, user: &UserRecord) -> Result<usize, AppError> {
        let throttle = Throttle::new(
            self.pool.clone(),
            self.breaker.clone(),
            self.clock.clone(),
            ThrottleConfig::default(),
        );
        let cleared = throttle.unlock(user.id).await?;
        self.auditor
            .record(AuditEvent::Unlock, None, Some(user.id), None)
            .await;
        Ok(cleared)
    }

    /// Re-enables an account.
    ///
    /// # Errors
    ///
    /// As [`deactivate`](Self::deactivate).
    #[tracing::instrument(name = "users.activate", skip_all, fields(user.id = id))]
    pub async fn activate(&self, id: i64, at: time::OffsetDateTime) -> Result<(), AppError> {
        guarded(&self.breaker, users::activate(&self.pool, id, at)).await?;
        self.auditor
            .record(AuditEvent::Activate, None, Some(id), None)
            .await;
        Ok(())
    }
}
