//! Owned copies of a sign-in's borrowed write inputs.
//!
//! A write queued to the SQLite writer thread must own what it writes: it runs on another
//! thread, possibly after its caller gave up. The public inputs borrow (a caller builds them
//! from its own strings at no cost), so a write that is queued copies them here once and
//! borrows them back on the writer thread.

use time::OffsetDateTime;

use crate::audit::NewAuditEvent;
use crate::devices::NewDevice;
use crate::sessions::{Client, Login, NewSession, SessionLimit};

/// An owned [`NewAuditEvent`].
struct AuditEvent {
    occurred_at: OffsetDateTime,
    event: String,
    reason: Option<String>,
    request_id: Option<String>,
    user_id: Option<i64>,
    session_id: Option<String>,
    client_ip: Option<String>,
}

impl AuditEvent {
    fn of(event: &NewAuditEvent<'_>) -> Self {
        Self {
            occurred_at: event.occurred_at,
            event: event.event.to_owned(),
            reason: event.reason.map(str::to_owned),
            request_id: event.request_id.map(str::to_owned),
            user_id: event.user_id,
            session_id: event.session_id.map(str::to_owned),
            client_ip: event.client_ip.map(str::to_owned),
        }
    }

    fn borrowed(&self) -> NewAuditEvent<'_> {
        NewAuditEvent {
            occurred_at: self.occurred_at,
            event: &self.event,
            reason: self.reason.as_deref(),
            request_id: self.request_id.as_deref(),
            user_id: self.user_id,
            session_id: self.session_id.as_deref(),
            client_ip: self.client_ip.as_deref(),
        }
    }
}

/// An owned [`NewSession`].
struct Session {
    id: String,
    jti_hash: String,
    now: OffsetDateTime,
    expires_at: OffsetDateTime,
    ip: Option<String>,
    user_agent: Option<String>,
}

/// An owned [`NewDevice`].
struct Device {
    id: String,
    token_hash: String,
    now: OffsetDateTime,
    expires_at: OffsetDateTime,
}

/// An owned [`SessionLimit`].
struct Limit {
    max: usize,
    idle_since: OffsetDateTime,
    event: AuditEvent,
}

/// An owned [`Login`] and the [`NewSession`] it opens.
pub(crate) struct Opening {
    user_id: i64,
    verified_hash: String,
    rehashed_password: Option<String>,
    cleared_counters: Vec<String>,
    events: Vec<AuditEvent>,
    new_device: Option<Device>,
    limit: Option<Limit>,
    session: Session,
}

impl Opening {
    /// Copies `login` and `session`.
    pub(crate) fn of(login: &Login<'_>, session: &NewSession<'_>) -> Self {
        Self {
            user_id: login.user_id,
            verified_hash: login.verified_hash.to_owned(),
            rehashed_password: login.rehashed_password.map(str::to_owned),
            cleared_counters: login.cleared_counters.to_vec(),
            events: login.events.iter().map(AuditEvent::of).collect(),
            new_device: login.new_device.map(|device| Device {
                id: device.id.to_owned(),
                token_hash: device.token_hash.to_owned(),
                now: device.now,
                expires_at: device.expires_at,
            }),
            limit: login.limit.map(|limit| Limit {
                max: limit.max,
                idle_since: limit.idle_since,
                event: AuditEvent::of(&limit.event),
            }),
            session: Session {
                id: session.id.to_owned(),
                jti_hash: session.jti_hash.to_owned(),
                now: session.now,
                expires_at: session.expires_at,
                ip: session.client.ip.map(str::to_owned),
                user_agent: session.client.user_agent.map(str::to_owned),
            },
        }
    }

    /// The audit events as [`Login::events`] takes them (borrowed by [`Self::login`]).
    pub(crate) fn events(&self) -> Vec<NewAuditEvent<'_>> {
        self.events.iter().map(AuditEvent::borrowed).collect()
    }

    /// The sign-in again, borrowing from this copy and from `events` (see [`Self::events`]).
    pub(crate) fn login<'a>(&'a self, events: &'a [NewAuditEvent<'a>]) -> Login<'a> {
        Login {
            user_id: self.user_id,
            verified_hash: &self.verified_hash,
            rehashed_password: self.rehashed_password.as_deref(),
            cleared_counters: &self.cleared_counters,
            events,
            new_device: self.new_device.as_ref().map(|device| NewDevice {
                id: &device.id,
                token_hash: &device.token_hash,
                now: device.now,
                expires_at: device.expires_at,
            }),
            limit: self.limit.as_ref().map(|limit| SessionLimit {
                max: limit.max,
                idle_since: limit.idle_since,
                event: limit.event.borrowed(),
            }),
        }
    }

    /// The session to open, borrowing from this copy.
    pub(crate) fn session(&self) -> NewSession<'_> {
        let session = &self.session;
        NewSession {
            id: &session.id,
            jti_hash: &session.jti_hash,
            now: session.now,
            expires_at: session.expires_at,
            client: Client {
                ip: session.ip.as_deref(),
                user_agent: session.user_agent.as_deref(),
            },
        }
    }
}
