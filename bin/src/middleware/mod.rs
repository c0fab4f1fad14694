//! The middleware stack, outermost first: request id, security headers, root span, access
//! log, error envelope (with the panic guard), request timeout, CORS, content encoding. With
//! metrics on, start-up wraps the request metrics around them all.

pub mod access_log;
pub mod content_encoding;
pub mod envelope;
pub mod http_metrics;
pub mod path;
pub mod request_id;
pub mod root_span;
pub mod security_headers;
pub mod timeout;
