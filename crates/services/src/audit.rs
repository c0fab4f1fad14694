//! The audit trail: security events written to the append-only `audit_events` table and to
//! the log (target `audit`), with the request's id and client address.
//!
//! The transport sets the request context once per request with [`with_request_context`]
//! (a task-local, the counterpart of the Python service's context variable), so service
//! signatures stay free of transport details. Recording never fails a request: a lost audit
//! row is logged as an error instead.

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;

use auth_crypto::Clock;
use auth_persistence::DbPool;
use auth_persistence::audit::{self, NewAuditEvent};
use auth_resilience::CircuitBreaker;

use crate::guard::guarded;

tokio::task_local! {
    static CONTEXT: RequestContext;
}

/// Who is asking: set by the transport for the duration of one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    /// The request id (as echoed in `X-Request-ID`).
    pub request_id: Option<String>,
    /// The client's address.
    pub client_ip: Option<IpAddr>,
}

/// Runs `work` with `context` visible to the audit trail.
pub async fn with_request_context<F: Future>(context: RequestContext, work: F) -> F::Output {
    CONTEXT.scope(context, work).await
}

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
        }
    }
}

/// Writes audit events.
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

    /// Records `event`; never fails the caller.
    pub(crate) async fn record(
        &self,
        event: AuditEvent,
        reason: Option<&str>,
        user_id: Option<i64>,
        session_id: Option<&str>,
    ) {
        let context = CONTEXT.try_with(Clone::clone).unwrap_or_default();
        let client_ip = context.client_ip.map(|ip| ip.to_string());
        tracing::info!(
            target: "audit",
            event = event.as_str(),
            reason,
            user_id,
            session_id,
            client_ip = client_ip.as_deref(),
            "audit event"
        );
        let row = NewAuditEvent {
            occurred_at: self.clock.now(),
            event: event.as_str(),
            reason,
            request_id: context.request_id.as_deref(),
            user_id,
            session_id,
            client_ip: client_ip.as_deref(),
        };
        if let Err(err) = guarded(&self.breaker, audit::append(&self.pool, row)).await {
            tracing::error!(event = event.as_str(), error = ?err, "audit event not stored");
        }
    }
}
