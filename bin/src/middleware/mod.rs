//! The middleware stack, outermost first: request id, security headers, root span, access
//! log, error envelope (with the panic guard), request timeout, CORS, content encoding.

pub mod access_log;
pub mod content_encoding;
pub mod envelope;
pub mod path;
pub mod request_id;
pub mod root_span;
pub mod security_headers;
pub mod timeout;
