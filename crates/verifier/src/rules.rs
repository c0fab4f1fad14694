//! The checks every token passes besides its signature, and the core verification.

use std::time::Duration;

use jsonwebtoken::Validation;
use jsonwebtoken::errors::ErrorKind;
use serde::de::DeserializeOwned;

use crate::{Algorithm, KeySet, TokenType, VerifyError};

/// Claim checks: `exp` and `nbf` within `leeway`, and `iss` / `aud` when configured.
///
/// `exp`, `nbf` and `sub` are required. A token carrying an `aud` is refused unless an
/// audience is configured and matches.
///
/// ```
/// use std::time::Duration;
/// use auth_verifier::Rules;
///
/// let rules = Rules { issuer: Some("https://auth.example.com".into()), ..Rules::default() };
/// assert_eq!(rules.leeway, Duration::from_secs(5));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    /// When set, `iss` must be present and equal.
    pub issuer: Option<String>,
    /// When set, `aud` must be present and equal.
    pub audience: Option<String>,
    /// Clock skew tolerated on `exp` and `nbf`; default 5 seconds. Keep it small: it extends
    /// every token's life.
    pub leeway: Duration,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            issuer: None,
            audience: None,
            leeway: Duration::from_secs(5),
        }
    }
}

impl Rules {
    /// The `jsonwebtoken` validation for a key of `algorithm`.
    fn validation(&self, algorithm: Algorithm) -> Validation {
        let mut validation = Validation::new(algorithm.to_jwt());
        validation.leeway = self.leeway.as_secs();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        let mut required = vec!["exp", "nbf", "sub"];
        if let Some(issuer) = &self.issuer {
            validation.set_issuer(&[issuer]);
            required.push("iss");
        }
        if let Some(audience) = &self.audience {
            validation.set_audience(&[audience]);
            required.push("aud");
        }
        validation.set_required_spec_claims(&required);
        validation
    }
}

impl KeySet {
    /// Verifies `token` with the key its `kid` names and returns its claims, if it passes
    /// `rules` and its `type` claim is `expected_type`.
    ///
    /// This is the core every other entry point uses; it never blocks and never fetches.
    ///
    /// ```
    /// use auth_verifier::{AccessClaims, Algorithm, KeySet, Rules, VerificationKey, VerifyError};
    ///
    /// let keys = KeySet::new(vec![VerificationKey::hmac(Algorithm::HS256, &[7; 32], None)?]);
    /// let refused = keys.verify::<AccessClaims>("not.a.jwt", &Rules::default(), "access");
    /// assert_eq!(refused.unwrap_err(), VerifyError::Malformed);
    /// # Ok::<(), auth_verifier::KeyError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// A [`VerifyError`] saying why the token was refused.
    pub fn verify<C: DeserializeOwned + TokenType>(
        &self,
        token: &str,
        rules: &Rules,
        expected_type: &str,
    ) -> Result<C, VerifyError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| VerifyError::Malformed)?;
        let key = self
            .find(header.kid.as_deref())
            .ok_or(VerifyError::UnknownKey)?;
        if Algorithm::from_jwt(header.alg) != Some(key.algorithm()) {
            return Err(VerifyError::AlgorithmMismatch);
        }
        let validation = rules.validation(key.algorithm());
        let data = jsonwebtoken::decode::<C>(token, key.decoding_key(), &validation)
            .map_err(|err| refusal(err.kind()))?;
        if data.claims.token_type() != expected_type {
            return Err(VerifyError::WrongType);
        }
        Ok(data.claims)
    }
}

/// What a `jsonwebtoken` failure means for the caller.
fn refusal(kind: &ErrorKind) -> VerifyError {
    match kind {
        ErrorKind::ExpiredSignature => VerifyError::Expired,
        ErrorKind::ImmatureSignature => VerifyError::NotYetValid,
        ErrorKind::InvalidSignature | ErrorKind::InvalidEcdsaKey | ErrorKind::InvalidEddsaKey => {
            VerifyError::BadSignature
        }
        ErrorKind::InvalidAlgorithm => VerifyError::AlgorithmMismatch,
        ErrorKind::InvalidIssuer => VerifyError::WrongIssuer,
        ErrorKind::InvalidAudience => VerifyError::WrongAudience,
        ErrorKind::MissingRequiredClaim(claim) if claim == "iss" => VerifyError::WrongIssuer,
        ErrorKind::MissingRequiredClaim(claim) if claim == "aud" => VerifyError::WrongAudience,
        ErrorKind::MissingRequiredClaim(_)
        | ErrorKind::InvalidClaimFormat(_)
        | ErrorKind::Json(_) => VerifyError::InvalidClaims,
        _ => VerifyError::Malformed,
    }
}
