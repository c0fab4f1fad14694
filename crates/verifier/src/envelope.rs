//! The 401 both extractors answer: the auth service's error envelope with a
//! `WWW-Authenticate: Bearer` challenge.

use auth_errors::{ErrorBody, ErrorCode};
use time::OffsetDateTime;

use crate::VerifyError;

/// The challenge sent with every refusal.
pub(crate) const CHALLENGE: &str = "Bearer";

/// A refused request: why (for logs, never sent) and the body to send.
#[derive(Debug, Clone, thiserror::Error)]
#[error("bearer token refused: {reason}")]
pub struct Unauthorized {
    /// Why the token was refused.
    pub reason: VerifyError,
    /// The envelope sent to the client: `INVALID_TOKEN`, or `TOKEN_EXPIRED`.
    pub body: ErrorBody,
}

impl Unauthorized {
    /// The refusal of a request whose id is `request_id` (a fresh one when absent or not a
    /// sane token, as the auth service does).
    pub fn new(reason: VerifyError, request_id: Option<&str>) -> Self {
        let code = if reason.is_expired() {
            ErrorCode::TokenExpired
        } else {
            ErrorCode::InvalidToken
        };
        let request_id = request_id
            .filter(|id| is_sane(id))
            .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
        Self {
            reason,
            body: ErrorBody::from_code(code, request_id, OffsetDateTime::now_utc()),
        }
    }

    /// The body as JSON.
    pub(crate) fn json(&self) -> String {
        serde_json::to_string(&self.body).unwrap_or_default()
    }
}

/// 1–128 characters of `A-Z a-z 0-9 - _ .`, as the service accepts.
fn is_sane(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The token of an `Authorization: Bearer …` header value (the scheme is case-insensitive).
pub(crate) fn bearer(value: Option<&str>) -> Result<&str, VerifyError> {
    let (scheme, token) = value
        .and_then(|value| value.split_once(' '))
        .ok_or(VerifyError::Missing)?;
    let token = token.trim();
    if scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() {
        Ok(token)
    } else {
        Err(VerifyError::Missing)
    }
}

#[cfg(test)]
mod tests {
    use super::{Unauthorized, bearer};
    use crate::VerifyError;

    #[test]
    fn refusals_carry_the_envelope_and_a_sane_request_id() {
        let refused = Unauthorized::new(VerifyError::Expired, Some("req-1"));
        assert_eq!(refused.body.error_code.as_str(), "TOKEN_EXPIRED");
        assert_eq!(refused.body.request_id, "req-1");
        let refused = Unauthorized::new(VerifyError::BadSignature, Some("bad id!"));
        assert_eq!(refused.body.error_code.as_str(), "INVALID_TOKEN");
        assert_eq!(refused.body.request_id.len(), 36);
    }

    #[test]
    fn only_bearer_headers_with_a_token_are_read() {
        assert_eq!(bearer(Some("bearer a.b.c")), Ok("a.b.c"));
        for bad in [None, Some("Basic a"), Some("Bearer "), Some("Bearer")] {
            assert_eq!(bearer(bad), Err(VerifyError::Missing));
        }
    }
}
