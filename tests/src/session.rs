//! The bodies of `GET /auth/sessions`, decoded strictly (unknown fields fail).

use serde::Deserialize;

use crate::{assert_timestamp, assert_wire_time};

/// A `Session` body; times are kept as sent, to check their format.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Session {
    /// The session's id (a UUID).
    pub id: String,
    /// When it opened.
    pub created_at: String,
    /// When it opened or was last refreshed.
    pub last_used_at: String,
    /// Its absolute end.
    pub expires_at: String,
    /// The client's address, if known.
    pub ip: Option<String>,
    /// The client's user agent, if sent.
    pub user_agent: Option<String>,
    /// Whether it is the session of the presented token.
    pub current: bool,
}

/// A `GET /auth/sessions` body.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sessions {
    /// The caller's live sessions, newest first.
    pub sessions: Vec<Session>,
}

impl Session {
    /// Asserts the wire format of the id and the times, and that the session opened and was
    /// used recently and ends later.
    #[track_caller]
    pub fn assert_format(&self) {
        assert!(uuid::Uuid::parse_str(&self.id).is_ok(), "{}", self.id);
        let opened = assert_timestamp(&self.created_at);
        assert!(assert_timestamp(&self.last_used_at) >= opened);
        assert!(assert_wire_time(&self.expires_at) > opened);
    }
}
