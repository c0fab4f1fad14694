//! Verifies the auth service's access tokens offline, in any Rust service.
//!
//! A [`Verifier`] holds a key source and the claim [`Rules`] and turns a bearer token into
//! typed [`AccessClaims`], or a [`VerifyError`] saying what was wrong (never echoing the
//! token). Key sources:
//!
//! - the service's HMAC secret ([`Verifier::hmac`]), when it signs with `HS256` (whoever holds
//!   that secret can also mint tokens);
//! - a JWKS document ([`Verifier::from_jwks`]), a saved copy of `/.well-known/jwks.json`;
//! - the JWKS URL itself ([`Verifier::remote`], feature `remote`), cached per
//!   `Cache-Control` and following key rotations.
//!
//! The algorithm always comes from the key (a JWK's `alg`, or the one given with a secret),
//! never from the token header alone, so an `HS256` token "signed" with a public key is
//! refused. The `type` claim must be `access`; `exp` and `nbf` are checked with a small
//! leeway; `iss` and `aud` when configured.
//!
//! Features: `remote` (reqwest with rustls), `actix` and `axum` (extractors answering 401 in
//! the service's error envelope with `WWW-Authenticate: Bearer`). With none of them, the
//! crate depends on no web framework, database or async runtime.
//!
//! Offline verification cannot see a logout: a token stays valid until its `exp`, so keep
//! the service's access lifetime as short as your clients tolerate.
//!
//! # Example
//!
//! ```
//! use auth_verifier::{KeySet, Rules, AccessClaims, VerifyError};
//!
//! // The service's `/.well-known/jwks.json`, fetched or saved.
//! let jwks = r#"{"keys":[{"kty":"OKP","crv":"Ed25519","use":"sig","alg":"EdDSA",
//!     "kid":"2024-01-k1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;
//! let keys = KeySet::from_jwks(jwks)?;
//! let rules = Rules { issuer: Some("https://auth.example.com".into()), ..Rules::default() };
//!
//! // A token forged with HS256 and the public key as its secret is refused.
//! let forged = "eyJhbGciOiJIUzI1NiIsImtpZCI6IjIwMjQtMDEtazEifQ.e30.c2ln";
//! assert_eq!(
//!     keys.verify::<AccessClaims>(forged, &rules, "access").unwrap_err(),
//!     VerifyError::AlgorithmMismatch,
//! );
//! # Ok::<(), auth_verifier::KeyError>(())
//! ```

mod algorithm;
mod claims;
mod error;
mod keys;
mod rules;
mod verifier;

#[cfg(feature = "remote")]
mod remote;

#[cfg(any(feature = "actix", feature = "axum"))]
mod envelope;

#[cfg(feature = "actix")]
pub mod actix;
#[cfg(feature = "axum")]
pub mod axum;

pub use algorithm::Algorithm;
pub use claims::{AccessClaims, TokenType};
#[cfg(any(feature = "actix", feature = "axum"))]
pub use envelope::Unauthorized;
pub use error::{KeyError, VerifyError};
pub use keys::{KeySet, MIN_HMAC_BYTES, VerificationKey};
#[cfg(feature = "remote")]
pub use remote::{RemoteConfig, RemoteJwks};
pub use rules::Rules;
pub use verifier::{ACCESS, Verifier};

/// Re-exported so callers can build keys from parsed JWKs without naming the crate.
pub use jsonwebtoken::jwk;

/// The README's "Verifying tokens in another service" example, compiled and run as a doctest.
#[cfg(all(doctest, feature = "remote", feature = "axum"))]
#[doc = include_str!("../../../README.md")]
mod readme {}

#[cfg(test)]
mod properties;
#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;
