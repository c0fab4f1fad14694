//! Who is asking: the request's id and the client's address, passed to every operation that
//! throttles or audits, as an explicit argument.

use std::net::IpAddr;

/// The transport's facts about one request. `Default` is "unknown": no per-address limits
/// apply and audit rows carry neither id nor address (command-line use, tests).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    /// The request id (as echoed in `X-Request-ID`).
    pub request_id: Option<String>,
    /// The client's address, after trusted proxies are taken into account.
    pub client_ip: Option<IpAddr>,
}

impl RequestContext {
    /// A context for a request from `client_ip` with id `request_id`.
    pub fn new(request_id: impl Into<String>, client_ip: Option<IpAddr>) -> Self {
        Self {
            request_id: Some(request_id.into()),
            client_ip,
        }
    }
}
