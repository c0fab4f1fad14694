//! The audit trail: security events written to the append-only `audit_events` table and to
//! the log (target `audit`), with the request's id and client address.
//!
//! Events that record a state change (a sign-in, a revoked session, a deactivation, an
//! unlock, a rehash) are handed to the repository function that makes the change and written
//! in its transaction, so the trail never disagrees with the data. Events that change nothing
//! (a failed attempt, a lockout noticed by counting) are written best-effort by [`Auditor`]:
//! a lost row is logged as an error and never fails the request.

use std::sync::Arc;

use auth_crypto::Clock;
use auth_persistence::DbPool;
use auth_persistence::audit::{self, NewAuditEvent};
use auth_resilience::CircuitBreaker;
use time::OffsetDateTime;

use crate::RequestContext;
use crate::guard::guarded;

/// The kinds of audited events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditEvent {
    /// A successful sign-in.
    LoginSucceeded,
    /// A refused sign-in; the reason is recorded, never shown to the client.
    LoginFailed,
    /// An account reached the failure limit and is now locked.
    Lockout,
    /// An administrator lifted an account's lock and counters.
    Unlock,
    /// A rotated refresh token came back after the grace window; its session was revoked.
    RefreshReuseDetected,
    /// A session was signed out.
    Logout,
    /// A stored password hash was upgraded to the current scheme.
    Rehash,
    /// An account was disabled and its sessions revoked.
    Deactivate,
    /// An account was enabled again.
    Activate,
    /// A user changed their password; their other sessions and device tokens were revoked.
    PasswordChanged,
    /// A session was ended from its user's list of sessions, or to keep them under the limit.
    SessionRevoked,
    /// A user signed out of every session.
    LogoutAll,
    /// A user deleted their account (the row keeps its id, never its email or username).
    AccountDeleted,
}

impl AuditEvent {
    /// The stored name, e.g. `login_failed`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::LoginSucceeded => "login_succeeded",
            Self::LoginFailed => "login_failed",
            Self::Lockout => "lockout",
            Self::Unlock => "unlock",
            Self::RefreshReuseDetected => "refresh_reuse_detected",
            Self::Logout => "logout",
            Self::Rehash => "rehash",
            Self::Deactivate => "deactivate",
            Self::Activate => "activate",
            Self::PasswordChanged => "password_changed",
            Self::SessionRevoked => "session_revoked",
            Self::LogoutAll => "logout_all",
            Self::AccountDeleted => "account_deleted",
        }
    }
}

/// One event about to be recorded, owning its text.
#[derive(Debug, Clone)]
pub(crate) struct AuditRow {
    event: AuditEvent,
    reason: Option<&'static str>,
    user_id: Option<i64>,
    session_id: Option<String>,
    request_id: Option<String>,
    client_ip: Option<String>,
    at: OffsetDateTime,
}

impl AuditRow {
    /// `event` at `at`, caused by the request `context` describes.
    pub(crate) fn new(event: AuditEvent, context: &RequestContext, at: OffsetDateTime) -> Self {
        Self {
            event,
            reason: None,
            user_id: None,
            session_id: None,
            request_id: context.request_id.clone(),
            client_ip: context.client_ip.map(|ip| ip.to_string()),
            at,
        }
    }

    /// Concerns account `user_id`.
    pub(crate) fn user(mut self, user_id: i64) -> Self {
        self.user_id = Some(user_id);
        self
    }

    /// Concerns session `session_id`.
    pub(crate) fn session(mut self, session_id: &str) -> Self {
        self.session_id = Some(session_id.to_owned());
        self
    }

    /// With an internal reason (never shown to clients).
    pub(crate) fn reason(mut self, reason: &'static str) -> Self {
        self.reason = Some(reason);
        self
    }

    /// The row as the data layer takes it.
    pub(crate) fn as_new(&self) -> NewAuditEvent<'_> {
        NewAuditEvent {
            occurred_at: self.at,
            event: self.event.as_str(),
            reason: self.reason,
            request_id: self.request_id.as_deref(),
            user_id: self.user_id,
            session_id: self.session_id.as_deref(),
            client_ip: self.client_ip.as_deref(),
        }
    }

    /// Writes the event to the log (once its row is stored or handed to a transaction that
    /// committed). `user_id` and `session_id` are given where the row's own were filled in by
    /// the data layer.
    pub(crate) fn log(&self, user_id: Option<i64>, session_id: Option<&str>) {
        tracing::info!(
            target: "audit",
            event = self.event.as_str(),
            reason = self.reason,
            user_id = self.user_id.or(user_id),
            session_id = self.session_id.as_deref().or(session_id),
            client_ip = self.client_ip.as_deref(),
            "audit event"
        );
    }
}

/// Writes events that change nothing, best-effort.
#[derive(Debug, Clone)]
pub(crate) struct Auditor {
    pool: DbPool,
    breaker: Arc<CircuitBreaker>,
    clock: Arc<dyn Clock>,
}

impl Auditor {
    pub(crate) fn new(pool: DbPool, breaker: Arc<CircuitBreaker>, clock: Arc<dyn Clock>) -> Self {
        Self {
            pool,
            breaker,
            clock,
        }
    }

    /// An event happening now, for `context`.
    pub(crate) fn row(&self, event: AuditEvent, context: &RequestContext) -> AuditRow {
        AuditRow::new(event, context, self.clock.now())
    }

    /// Records `row`; never fails the caller.
    pub(crate) async fn record(&self, row: AuditRow) {
        row.log(None, None);
        if let Err(err) = guarded(
            &self.breaker,
            &self.pool,
            audit::append(&self.pool, row.as_new()),
        )
        .await
        {
            tracing::error!(event = row.event.as_str(), error = ?err, "audit event not stored");
        }
    }
}
