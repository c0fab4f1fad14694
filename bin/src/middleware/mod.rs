//! The middleware stack, outermost first: request id, root span, access log, error envelope
//! (with the panic guard), CORS.

pub mod access_log;
pub mod envelope;
pub mod request_id;
pub mod root_span;
