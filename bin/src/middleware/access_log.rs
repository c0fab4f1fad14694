//! One access-log event per request: method, path, sanitised query, status and duration.
//!
//! Never the body, never a header value: bodies carry passwords and headers carry tokens.
//! Query values of keys that look secret are replaced by `***`.

use std::time::Instant;

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

use super::root_span::is_quiet;

/// Query keys whose values never reach a log (a `%` means an encoded key: masked too).
const SECRET_KEYS: [&str; 10] = [
    "token", "pass", "pwd", "secret", "key", "code", "auth", "session", "jwt", "%",
];

/// `query` with the values of secret-looking keys replaced by `***`.
pub fn sanitize_query(query: &str) -> String {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let key = pair.split_once('=').map_or(pair, |(key, _)| key);
            let lower = key.to_ascii_lowercase();
            if SECRET_KEYS.iter().any(|secret| lower.contains(secret)) {
                format!("{key}=***")
            } else {
                pair.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The middleware function.
///
/// # Errors
///
/// Only those of the inner service.
pub async fn access_log(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let quiet = is_quiet(req.path());
    let query = sanitize_query(req.query_string());
    let outcome = next.call(req).await;
    let status = match &outcome {
        Ok(res) => res.status(),
        Err(err) => err.as_response_error().status_code(),
    };
    let status_code = status.as_u16();
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    if quiet {
        tracing::debug!(status_code, duration_ms, query, "request completed");
    } else if status.is_server_error() {
        tracing::error!(status_code, duration_ms, query, "request completed");
    } else {
        tracing::info!(status_code, duration_ms, query, "request completed");
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::sanitize_query;

    #[test]
    fn secret_looking_query_values_are_masked() {
        assert_eq!(sanitize_query(""), "");
        assert_eq!(sanitize_query("page=2&sort=asc"), "page=2&sort=asc");
        assert_eq!(
            sanitize_query("refresh_token=eyJ&Password=x&api_key=1&page=3"),
            "refresh_token=***&Password=***&api_key=***&page=3"
        );
        assert_eq!(
            sanitize_query("%74oken=eyJ&pwd=x&q=1"),
            "%74oken=***&pwd=***&q=1"
        );
    }
}
