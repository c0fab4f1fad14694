//! Who is asking: the request's id, the client's address and user agent, passed to every
//! operation that throttles, audits or opens a session, as an explicit argument.

use std::net::IpAddr;

/// The transport's facts about one request. `Default` is "unknown": no per-address limits
/// apply and audit rows carry neither id nor address (command-line use, tests).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    /// The request id (as echoed in `X-Request-ID`).
    pub request_id: Option<String>,
    /// The client's address, after trusted proxies are taken into account.
    pub client_ip: Option<IpAddr>,
    /// The client's `User-Agent`, as sent (sessions store at most
    /// [`USER_AGENT_MAX_CHARS`] characters of it).
    pub user_agent: Option<String>,
}

/// The most characters of a user agent a session keeps.
pub const USER_AGENT_MAX_CHARS: usize = 256;

impl RequestContext {
    /// A context for a request from `client_ip` with id `request_id`.
    pub fn new(request_id: impl Into<String>, client_ip: Option<IpAddr>) -> Self {
        Self {
            request_id: Some(request_id.into()),
            client_ip,
            user_agent: None,
        }
    }

    /// The same context with the client's user agent.
    #[must_use]
    pub fn with_user_agent(mut self, user_agent: Option<String>) -> Self {
        self.user_agent = user_agent;
        self
    }

    /// The user agent as a session stores it: cut to [`USER_AGENT_MAX_CHARS`] characters.
    pub(crate) fn stored_user_agent(&self) -> Option<String> {
        let agent = self.user_agent.as_deref()?;
        Some(agent.chars().take(USER_AGENT_MAX_CHARS).collect())
    }
}
