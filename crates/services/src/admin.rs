//! `AdminService`: what an operator does to an account. Each action finds the account and
//! changes it in one transaction, with its audit event, so a concurrent change can neither
//! slip between the look-up and the action nor leave the trail disagreeing with the data.

use std::sync::Arc;

use auth_crypto::Clock;
use auth_persistence::DbPool;
use auth_persistence::users::{self, UserKey};
use auth_resilience::CircuitBreaker;

use crate::audit::{AuditEvent, AuditRow};
use crate::error::{AdminError, DbError};
use crate::guard::guarded;
use crate::throttle::Throttle;
use crate::{RequestContext, User, UserId};

/// How an operator names an account. Email and username match without regard to case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserRef {
    /// The account's key.
    Id(UserId),
    /// The account's email.
    Email(String),
    /// The account's username.
    Username(String),
}

impl UserRef {
    fn key(&self) -> UserKey<'_> {
        match self {
            Self::Id(id) => UserKey::Id(id.get()),
            Self::Email(email) => UserKey::Email(email.trim()),
            Self::Username(name) => UserKey::Username(name),
        }
    }
}

/// What [`AdminService::deactivate`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deactivated {
    /// The account.
    pub user: User,
    /// How many sessions were still open and are now revoked.
    pub sessions_revoked: usize,
}

/// What [`AdminService::unlock`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unlocked {
    /// The account.
    pub user: User,
    /// How many throttle counters were cleared.
    pub counters_cleared: usize,
}

/// Deactivate, activate and unlock accounts. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AdminService {
    pool: DbPool,
    breaker: Arc<CircuitBreaker>,
    clock: Arc<dyn Clock>,
}

impl AdminService {
    /// A service on `pool`, every call through `breaker`, stamping times from `clock`.
    pub fn new(pool: DbPool, breaker: Arc<CircuitBreaker>, clock: Arc<dyn Clock>) -> Self {
        Self {
            pool,
            breaker,
            clock,
        }
    }

    /// Disables the account and revokes all of its sessions at once: its refresh tokens and
    /// access tokens stop working immediately.
    ///
    /// # Errors
    ///
    /// [`AdminError::UnknownUser`] when no account matches; [`AdminError::Fault`] when the
    /// infrastructure fails. On error nothing is changed.
    #[tracing::instrument(name = "admin.deactivate", skip_all, fields(user_id = tracing::field::Empty))]
    pub async fn deactivate(
        &self,
        context: &RequestContext,
        who: &UserRef,
    ) -> Result<Deactivated, AdminError> {
        let (user, sessions_revoked) = self
            .set_active(context, who, false, AuditEvent::Deactivate)
            .await?;
        tracing::info!(sessions_revoked, "user deactivated");
        Ok(Deactivated {
            user,
            sessions_revoked,
        })
    }

    /// Enables the account again; its user signs in anew (revoked sessions stay revoked).
    ///
    /// # Errors
    ///
    /// As [`deactivate`](Self::deactivate).
    #[tracing::instrument(name = "admin.activate", skip_all, fields(user_id = tracing::field::Empty))]
    pub async fn activate(
        &self,
        context: &RequestContext,
        who: &UserRef,
    ) -> Result<User, AdminError> {
        let (user, _) = self
            .set_active(context, who, true, AuditEvent::Activate)
            .await?;
        tracing::info!("user activated");
        Ok(user)
    }

    /// Lifts the account's lock and delays and the per-address counters on it.
    ///
    /// # Errors
    ///
    /// As [`deactivate`](Self::deactivate).
    #[tracing::instrument(name = "admin.unlock", skip_all, fields(user_id = tracing::field::Empty))]
    pub async fn unlock(
        &self,
        context: &RequestContext,
        who: &UserRef,
    ) -> Result<Unlocked, AdminError> {
        let row = AuditRow::new(AuditEvent::Unlock, context, self.clock.now());
        let cleared = guarded(
            &self.breaker,
            users::clear_counters(
                &self.pool,
                who.key(),
                |id| Throttle::user_keys(UserId::new(id)),
                self.clock.now(),
                row.as_new(),
            ),
        )
        .await;
        let (user, counters_cleared) = found(cleared)?;
        record(&row, &user);
        tracing::info!(counters_cleared, "user unlocked");
        Ok(Unlocked {
            user,
            counters_cleared,
        })
    }

    async fn set_active(
        &self,
        context: &RequestContext,
        who: &UserRef,
        active: bool,
        event: AuditEvent,
    ) -> Result<(User, usize), AdminError> {
        let now = self.clock.now();
        let row = AuditRow::new(event, context, now);
        let changed = guarded(
            &self.breaker,
            users::set_active(&self.pool, who.key(), active, now, row.as_new()),
        )
        .await;
        let (user, revoked) = found(changed)?;
        record(&row, &user);
        Ok((user, revoked))
    }
}

/// The account and count of an action, or [`AdminError::UnknownUser`] when none matched.
fn found(result: Result<(users::UserRecord, usize), DbError>) -> Result<(User, usize), AdminError> {
    match result {
        Ok((user, count)) => Ok((User::from(user), count)),
        Err(DbError::NotFound) => Err(AdminError::UnknownUser),
        Err(other) => Err(other.into()),
    }
}

/// Logs the committed action's audit event and notes the account on the span.
fn record(row: &AuditRow, user: &User) {
    tracing::Span::current().record("user_id", user.id.get());
    row.log(Some(user.id.get()), None);
}
