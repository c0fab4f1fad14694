//! What a token says: the claims of the HTTP contract and the two kinds of token.

use std::fmt;
use std::str::FromStr;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::CryptoError;

/// The two kinds of token, carried in the `type` claim; each is refused where the other is
/// expected.
///
/// ```
/// use auth_crypto::TokenKind;
///
/// assert_eq!(TokenKind::Access.as_str(), "access");
/// assert_eq!(serde_json::to_string(&TokenKind::Refresh).unwrap(), r#""refresh""#);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    /// A short-lived token that authorizes requests.
    Access,
    /// A long-lived token that only buys new access tokens.
    Refresh,
}

impl TokenKind {
    /// The value of the `type` claim: `access` or `refresh`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Refresh => "refresh",
        }
    }
}

impl fmt::Display for TokenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The claims of an access or refresh token. Times are Unix seconds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    /// The user id, as a string.
    pub sub: String,
    /// Expiry.
    pub exp: i64,
    /// Issue time.
    pub iat: i64,
    /// Not valid before; equal to `iat`.
    pub nbf: i64,
    /// This token's unique id (32 hex digits).
    pub jti: String,
    /// The session (refresh chain) the token belongs to.
    pub sid: String,
    /// Access or refresh.
    #[serde(rename = "type")]
    pub kind: TokenKind,
    /// The issuer, when one is configured.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub iss: Option<String>,
    /// The audience, when one is configured.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub aud: Option<String>,
}

impl Claims {
    /// The subject parsed as the caller's user id type.
    ///
    /// ```
    /// # let claims = auth_crypto::Claims {
    /// #     sub: "42".into(), exp: 0, iat: 0, nbf: 0, jti: String::new(), sid: String::new(),
    /// #     kind: auth_crypto::TokenKind::Access, iss: None, aud: None,
    /// # };
    /// let id: u64 = claims.user_id()?;
    /// assert_eq!(id, 42);
    /// assert!(claims.user_id::<uuid::Uuid>().is_err());
    /// # Ok::<(), auth_crypto::CryptoError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`CryptoError::TokenInvalid`] when `sub` does not parse as `T`.
    pub fn user_id<T: FromStr>(&self) -> Result<T, CryptoError> {
        self.sub.parse().map_err(|_| CryptoError::TokenInvalid)
    }

    /// `exp` as a date, clamped to the range `OffsetDateTime` can hold.
    pub fn expires_at(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.exp).unwrap_or_else(|_| {
            let edge = if self.exp < 0 {
                PrimitiveDateTime::MIN
            } else {
                PrimitiveDateTime::MAX
            };
            edge.assume_utc()
        })
    }
}

/// A freshly signed token and the claims inside it.
///
/// `Debug` shows the claims but not the token, which [`SecretString`] redacts.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The compact JWT to hand to the client.
    pub token: SecretString,
    /// What the token says.
    pub claims: Claims,
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::{Claims, TokenKind};
    use crate::CryptoError;

    fn claims(sub: &str, exp: i64) -> Claims {
        Claims {
            sub: sub.into(),
            exp,
            iat: 0,
            nbf: 0,
            jti: "j".into(),
            sid: "s".into(),
            kind: TokenKind::Refresh,
            iss: None,
            aud: None,
        }
    }

    #[test]
    fn claims_serialize_with_the_contract_names_and_skip_absent_iss_and_aud() {
        let json = serde_json::to_value(claims("7", 1)).unwrap();
        let expected = serde_json::json!({
            "sub": "7", "exp": 1, "iat": 0, "nbf": 0, "jti": "j", "sid": "s", "type": "refresh",
        });
        assert_eq!(json, expected);
        let with_iss = Claims {
            iss: Some("me".into()),
            aud: Some("you".into()),
            ..claims("7", 1)
        };
        let json = serde_json::to_value(&with_iss).unwrap();
        assert_eq!(json["iss"], "me");
        assert_eq!(json["aud"], "you");
        assert_eq!(serde_json::from_value::<Claims>(json).unwrap(), with_iss);
    }

    #[test]
    fn an_unknown_token_type_does_not_deserialize() {
        let mut json = serde_json::to_value(claims("7", 1)).unwrap();
        json["type"] = "admin".into();
        assert!(serde_json::from_value::<Claims>(json).is_err());
    }

    #[test]
    fn user_id_parses_the_subject_or_reports_an_invalid_token() {
        assert_eq!(claims("42", 0).user_id::<i64>().unwrap(), 42);
        let err = claims("not-a-number", 0).user_id::<i64>().unwrap_err();
        assert!(matches!(err, CryptoError::TokenInvalid));
    }

    #[test]
    fn expires_at_converts_exp_and_clamps_out_of_range_values() {
        assert_eq!(
            claims("1", 1_705_314_645).expires_at(),
            datetime!(2024-01-15 10:30:45 UTC)
        );
        assert_eq!(claims("1", i64::MAX).expires_at().year(), 9999);
        assert_eq!(claims("1", i64::MIN).expires_at().year(), -9999);
    }
}
