//! What a verified access token says.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Claims that name their kind, so the verifier can refuse a token of another kind (a refresh
/// token where an access token is expected).
pub trait TokenType {
    /// The value of the token's `type` (or `typ`) claim.
    fn token_type(&self) -> &str;
}

/// The claims of a verified access token. Times are Unix seconds.
///
/// ```
/// use auth_verifier::AccessClaims;
///
/// let claims: AccessClaims = serde_json::from_str(
///     r#"{"sub":"42","exp":2,"iat":1,"nbf":1,"jti":"j","sid":"s","type":"access"}"#,
/// ).unwrap();
/// assert_eq!(claims.user_id::<u64>(), Some(42));
/// assert_eq!(claims.token_type, "access");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The user id, as a string.
    pub sub: String,
    /// Expiry.
    pub exp: i64,
    /// Issue time.
    #[serde(default)]
    pub iat: i64,
    /// Not valid before.
    #[serde(default)]
    pub nbf: i64,
    /// The token's unique id.
    #[serde(default)]
    pub jti: String,
    /// The session the token belongs to.
    #[serde(default)]
    pub sid: String,
    /// The token's kind: always `access` once verified.
    #[serde(rename = "type", alias = "typ")]
    pub token_type: String,
    /// The issuer, when the service issues one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// The audience, when the service issues one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
}

impl AccessClaims {
    /// The subject parsed as the caller's user id type, `None` when it does not parse.
    pub fn user_id<T: FromStr>(&self) -> Option<T> {
        self.sub.parse().ok()
    }
}

impl TokenType for AccessClaims {
    fn token_type(&self) -> &str {
        &self.token_type
    }
}
