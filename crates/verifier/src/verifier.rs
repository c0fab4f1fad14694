//! [`Verifier`]: a key source and the claim rules, verifying access tokens.

use std::sync::Arc;
use std::time::Duration;

use crate::{AccessClaims, Algorithm, KeyError, KeySet, Rules, VerificationKey, VerifyError};

/// The `type` claim of the tokens a [`Verifier`] accepts.
pub const ACCESS: &str = "access";

/// Verifies the auth service's access tokens and hands back their claims.
///
/// Build it once from a key source and share it: clones are cheap and share the keys (and,
/// for a remote key set, its cache).
///
/// ```
/// use auth_verifier::{Algorithm, Verifier, VerifyError};
///
/// # tokio_test_block_on(async {
/// let verifier = Verifier::hmac(Algorithm::HS256, b"the service's JWT_SECRET_KEY, 32+ bytes")?
///     .with_issuer("https://auth.example.com");
/// let refused = verifier.verify("eyJhbGciOiJub25lIn0.e30.").await;
/// assert_eq!(refused.unwrap_err(), VerifyError::Malformed);
/// # Ok::<(), auth_verifier::KeyError>(()) })?;
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// # Ok::<(), auth_verifier::KeyError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Verifier {
    source: Source,
    rules: Arc<Rules>,
}

#[derive(Debug, Clone)]
enum Source {
    Static(Arc<KeySet>),
    #[cfg(feature = "remote")]
    Remote(crate::RemoteJwks),
}

impl Verifier {
    /// A verifier with a fixed key set and the default [`Rules`].
    pub fn new(keys: KeySet) -> Self {
        Self {
            source: Source::Static(Arc::new(keys)),
            rules: Arc::new(Rules::default()),
        }
    }

    /// A verifier holding the service's HMAC secret (`JWT_SECRET_KEY`) for `algorithm`.
    ///
    /// Whoever holds that secret can also mint tokens: prefer a JWKS with `EdDSA` or `ES256`.
    ///
    /// # Errors
    ///
    /// As [`VerificationKey::hmac`].
    pub fn hmac(algorithm: Algorithm, secret: &[u8]) -> Result<Self, KeyError> {
        let key = VerificationKey::hmac(algorithm, secret, None)?;
        Ok(Self::new(KeySet::new(vec![key])))
    }

    /// A verifier with the public keys of a JWKS document, e.g. a saved copy of the service's
    /// `/.well-known/jwks.json`. It does not follow rotations: use a remote key set for that.
    ///
    /// # Errors
    ///
    /// As [`KeySet::from_jwks`].
    pub fn from_jwks(json: &str) -> Result<Self, KeyError> {
        Ok(Self::new(KeySet::from_jwks(json)?))
    }

    /// A verifier fetching its keys from a JWKS URL, cached and refreshed as
    /// [`RemoteJwks`](crate::RemoteJwks) describes.
    #[cfg(feature = "remote")]
    pub fn remote(jwks: crate::RemoteJwks) -> Self {
        Self {
            source: Source::Remote(jwks),
            rules: Arc::new(Rules::default()),
        }
    }

    /// Requires `iss` to be `issuer` (the service's `JWT_ISSUER`).
    #[must_use]
    pub fn with_issuer(self, issuer: impl Into<String>) -> Self {
        self.with_rules(|rules| rules.issuer = Some(issuer.into()))
    }

    /// Requires `aud` to be `audience` (the service's `JWT_AUDIENCE`).
    #[must_use]
    pub fn with_audience(self, audience: impl Into<String>) -> Self {
        self.with_rules(|rules| rules.audience = Some(audience.into()))
    }

    /// Tolerates `leeway` of clock skew on `exp` and `nbf` (default 5 seconds).
    #[must_use]
    pub fn with_leeway(self, leeway: Duration) -> Self {
        self.with_rules(|rules| rules.leeway = leeway)
    }

    fn with_rules(mut self, change: impl FnOnce(&mut Rules)) -> Self {
        change(Arc::make_mut(&mut self.rules));
        self
    }

    /// The claim rules in force.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// Verifies an access token: signature by the key its `kid` names with that key's
    /// algorithm, `exp` / `nbf` within the leeway, `iss` / `aud` when configured, and
    /// `type` = `access`.
    ///
    /// With a remote key set this may wait for a fetch: the first use, or a `kid` not seen
    /// before (at most one fetch per `min_refetch_interval`).
    ///
    /// # Errors
    ///
    /// A [`VerifyError`] saying why the token was refused.
    pub async fn verify(&self, token: &str) -> Result<AccessClaims, VerifyError> {
        match &self.source {
            Source::Static(keys) => keys.verify(token, &self.rules, ACCESS),
            #[cfg(feature = "remote")]
            Source::Remote(remote) => {
                let header =
                    jsonwebtoken::decode_header(token).map_err(|_| VerifyError::Malformed)?;
                let keys = remote.keys_for(header.kid.as_deref()).await?;
                keys.verify(token, &self.rules, ACCESS)
            }
        }
    }
}
