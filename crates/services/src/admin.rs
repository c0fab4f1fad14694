//! `AdminService`: what an operator does to an account. Each action changes the account in
//! one transaction, with its audit event, so a concurrent change can neither slip between
//! the look-up and the action nor leave the trail disagreeing with the data.

use auth_persistence::accounts::{self, PasswordChange};
use auth_persistence::sessions::{RevokeReason, SessionRecord};
use auth_persistence::users::{self, UserKey, UserRecord};

use crate::audit::{AuditEvent, AuditRow};
use crate::auth::AuthService;
use crate::error::{AdminError, DbError};
use crate::guard::guarded;
use crate::hashing::HashError;
use crate::throttle::Throttle;
use crate::{Password, RequestContext, Session, SessionId, User, UserId};

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

/// What [`AdminService::set_password`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordReset {
    /// The account.
    pub user: User,
    /// How many sessions were open and are now revoked.
    pub sessions_revoked: usize,
}

/// Deactivate, activate and unlock accounts, list and end their sessions, set a password.
/// Made by [`AuthService::admin`], sharing its pool, breaker, clock, limits and hashing
/// threads. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AdminService {
    auth: AuthService,
}

impl AdminService {
    pub(crate) fn new(auth: AuthService) -> Self {
        Self { auth }
    }

    /// The account's live sessions (neither revoked, expired nor idle too long), newest
    /// first. None is marked `current`: the operator holds none of them.
    ///
    /// # Errors
    ///
    /// [`AdminError::UnknownUser`] when no account matches; [`AdminError::Fault`] when the
    /// infrastructure fails.
    #[tracing::instrument(name = "admin.sessions", skip_all)]
    pub async fn sessions(&self, who: &UserRef) -> Result<(User, Vec<Session>), AdminError> {
        let inner = &self.auth.inner;
        let user = self.find(who).await?;
        let now = inner.clock.now();
        let live = accounts::live_sessions(&inner.pool, user.id, now, self.auth.idle_since(now));
        let none = SessionId::new(String::new());
        let sessions = guarded(&inner.breaker, &inner.pool, live)
            .await?
            .into_iter()
            .map(|record: SessionRecord| Session::of(record, &none))
            .collect();
        Ok((User::from(user), sessions))
    }

    /// Revokes every open session of the account (its refresh and access tokens stop at
    /// once), with the audit event `logout_all`. The account stays active: its user can sign
    /// in again. Returns the account and how many sessions were revoked.
    ///
    /// # Errors
    ///
    /// As [`sessions`](Self::sessions).
    #[tracing::instrument(name = "admin.revoke_sessions", skip_all, fields(user_id = tracing::field::Empty))]
    pub async fn revoke_sessions(
        &self,
        context: &RequestContext,
        who: &UserRef,
    ) -> Result<(User, usize), AdminError> {
        let inner = &self.auth.inner;
        let user = self.find(who).await?;
        let now = inner.clock.now();
        let row = AuditRow::new(AuditEvent::LogoutAll, context, now).user(user.id);
        let events = [row.as_new()];
        let revoke =
            accounts::revoke_all_sessions(&inner.pool, user.id, RevokeReason::Admin, now, &events);
        let revoked = guarded(&inner.breaker, &inner.pool, revoke).await?;
        let user = User::from(user);
        record(&row, &user);
        tracing::info!(
            sessions_revoked = revoked,
            "sessions revoked by an operator"
        );
        Ok((user, revoked))
    }

    /// Gives an active account a new password chosen by an operator (the password policy
    /// applies, as at registration). In one transaction: the new hash, every session and
    /// device token revoked, the account's failure counter and lock cleared (per-address
    /// and per-device counters are left to `unlock`), and the audit event `password_changed`.
    ///
    /// # Errors
    ///
    /// [`AdminError::Invalid`] when the password breaks the policy or the scheme cannot take
    /// it; [`AdminError::UnknownUser`] when no active account matches (or it changed
    /// meanwhile); [`AdminError::Fault`] when the infrastructure fails or hashing is
    /// saturated. On error nothing is changed.
    #[tracing::instrument(name = "admin.set_password", skip_all, fields(user_id = tracing::field::Empty))]
    pub async fn set_password(
        &self,
        context: &RequestContext,
        who: &UserRef,
        password: secrecy::SecretString,
    ) -> Result<PasswordReset, AdminError> {
        let inner = &self.auth.inner;
        let password = Password::parse_with_min(password, inner.config.password_min_length)
            .map_err(|err| crate::Invalid(vec![err]))?;
        let user = self.find(who).await?;
        let hash = match inner.hashing.hash(password.secret().clone()).await {
            Ok(hash) => hash,
            Err(HashError::Invalid(invalid)) => return Err(invalid.into()),
            Err(HashError::Fault(fault)) => return Err(fault.into()),
        };
        let now = inner.clock.now();
        let row = AuditRow::new(AuditEvent::PasswordChanged, context, now).user(user.id);
        let events = [row.as_new()];
        let counters = Throttle::user_keys(UserId::new(user.id));
        let change = PasswordChange {
            user_id: user.id,
            verified_hash: &user.hashed_password,
            new_hash: hash.as_str(),
            // No session or device has an empty id: every one is revoked.
            keep_session: "",
            keep_device: None,
            cleared_counters: &counters.exact,
            at: now,
            events: &events,
        };
        let changed = guarded(
            &inner.breaker,
            &inner.pool,
            accounts::change_password(&inner.pool, change),
        )
        .await;
        let sessions_revoked = match changed {
            Err(DbError::NotFound) => return Err(AdminError::UnknownUser),
            other => other?,
        };
        let user = User::from(user);
        record(&row, &user);
        tracing::info!(sessions_revoked, "password set by an operator");
        Ok(PasswordReset {
            user,
            sessions_revoked,
        })
    }

    /// The account `who` names, as stored.
    async fn find(&self, who: &UserRef) -> Result<UserRecord, AdminError> {
        let inner = &self.auth.inner;
        let pool = &inner.pool;
        let found = match who.key() {
            UserKey::Id(id) => guarded(&inner.breaker, pool, users::find_by_id(pool, id)).await,
            UserKey::Email(email) => {
                guarded(&inner.breaker, pool, users::find_by_email(pool, email)).await
            }
            UserKey::Username(name) => {
                guarded(&inner.breaker, pool, users::find_by_username(pool, name)).await
            }
        }?;
        found.ok_or(AdminError::UnknownUser)
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
        let row = AuditRow::new(AuditEvent::Unlock, context, self.auth.inner.clock.now());
        let cleared = guarded(
            &self.auth.inner.breaker,
            &self.auth.inner.pool,
            users::clear_counters(
                &self.auth.inner.pool,
                who.key(),
                |id| Throttle::user_keys(UserId::new(id)),
                self.auth.inner.clock.now(),
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
        let now = self.auth.inner.clock.now();
        let row = AuditRow::new(event, context, now);
        let changed = guarded(
            &self.auth.inner.breaker,
            &self.auth.inner.pool,
            users::set_active(&self.auth.inner.pool, who.key(), active, now, row.as_new()),
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
