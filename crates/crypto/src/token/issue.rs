//! Issuing tokens: the claims of a fresh access or refresh token, signed.

use jsonwebtoken::Header;
use secrecy::SecretString;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{Claims, IssuedToken, TokenCodec, TokenKind};
use crate::CryptoError;

impl TokenCodec {
    /// Issues a token of `kind` for `subject` (the user id) in session `session_id`, valid for
    /// the configured lifetime of that kind.
    ///
    /// # Errors
    ///
    /// [`CryptoError::SigningFailed`] when signing fails, [`CryptoError::NoSigningKey`] when
    /// no key signs yet, or [`CryptoError::InvalidConfig`] when the expiry is out of the
    /// representable range.
    pub fn issue(
        &self,
        kind: TokenKind,
        subject: &str,
        session_id: &str,
    ) -> Result<IssuedToken, CryptoError> {
        let ttl = match kind {
            TokenKind::Access => self.inner.access_ttl,
            TokenKind::Refresh => self.inner.refresh_ttl,
        };
        self.issue_with_ttl(kind, subject, session_id, ttl)
    }

    /// Issues a token like [`issue`](Self::issue), valid for `ttl` instead of the configured
    /// lifetime.
    ///
    /// Each token gets a fresh random `jti`; `iat` and `nbf` are the clock's now, `exp` is now
    /// plus `ttl`, and `iss` / `aud` are set when configured.
    ///
    /// # Errors
    ///
    /// [`CryptoError::InvalidConfig`] when `ttl` is not positive or the expiry is out of range;
    /// [`CryptoError::SigningFailed`] when signing fails.
    pub fn issue_with_ttl(
        &self,
        kind: TokenKind,
        subject: &str,
        session_id: &str,
        ttl: Duration,
    ) -> Result<IssuedToken, CryptoError> {
        if !ttl.is_positive() {
            return Err(CryptoError::InvalidConfig(
                "token lifetime must be positive".into(),
            ));
        }
        let now = self.inner.clock.now();
        let expires = now
            .checked_add(ttl)
            .ok_or_else(|| CryptoError::InvalidConfig("token lifetime is too long".into()))?;
        let jti = Uuid::new_v4().simple().to_string();
        self.sign(kind, subject, session_id, jti, now, expires)
    }

    /// Issues a token with a `jti` chosen by the caller that expires at `expires_at`.
    ///
    /// This serves refresh-token chains: the next token of a chain can carry an id the caller
    /// derives from the previous one, and every token of a session can end with the session.
    ///
    /// # Errors
    ///
    /// [`CryptoError::InvalidConfig`] when `expires_at` is not after the clock's now or `jti`
    /// is empty; [`CryptoError::SigningFailed`] when signing fails.
    pub fn issue_until(
        &self,
        kind: TokenKind,
        subject: &str,
        session_id: &str,
        jti: &str,
        expires_at: OffsetDateTime,
    ) -> Result<IssuedToken, CryptoError> {
        let now = self.inner.clock.now();
        if expires_at <= now {
            return Err(CryptoError::InvalidConfig(
                "token expiry must be in the future".into(),
            ));
        }
        if jti.is_empty() {
            return Err(CryptoError::InvalidConfig(
                "token id must not be empty".into(),
            ));
        }
        self.sign(kind, subject, session_id, jti.to_owned(), now, expires_at)
    }

    fn sign(
        &self,
        kind: TokenKind,
        subject: &str,
        session_id: &str,
        jti: String,
        now: OffsetDateTime,
        expires: OffsetDateTime,
    ) -> Result<IssuedToken, CryptoError> {
        let claims = Claims {
            sub: subject.to_owned(),
            exp: expires.unix_timestamp(),
            iat: now.unix_timestamp(),
            nbf: now.unix_timestamp(),
            jti,
            sid: session_id.to_owned(),
            kind,
            iss: self.inner.issuer.clone(),
            aud: self.inner.audience.clone(),
        };
        let keyring = self.keyring();
        let (key_id, key) = keyring.signer_at(now).ok_or(CryptoError::NoSigningKey)?;
        let mut header = Header::new(self.inner.algorithm.to_jwt());
        header.kid = Some(key_id.to_owned());
        let token = jsonwebtoken::encode(&header, &claims, key)
            .map_err(|e| CryptoError::SigningFailed(e.into()))?;
        Ok(IssuedToken {
            token: SecretString::from(token),
            claims,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use secrecy::{ExposeSecret as _, SecretString};
    use time::{Duration, OffsetDateTime};

    use crate::{CryptoError, JwtConfig, ManualClock, TokenCodec, TokenKind};

    use crate::token::testing::{SECRET, codec, codec_at};

    #[test]
    fn an_access_token_expires_after_30_minutes_by_default() {
        let issued = codec().issue(TokenKind::Access, "1", "s").unwrap();
        assert_eq!(issued.claims.exp - issued.claims.iat, 30 * 60);
        assert_eq!(issued.claims.nbf, issued.claims.iat);
        assert_eq!(issued.claims.kind, TokenKind::Access);
    }

    #[test]
    fn a_custom_expiry_is_honoured() {
        let issued = codec()
            .issue_with_ttl(TokenKind::Access, "1", "s", Duration::minutes(5))
            .unwrap();
        assert_eq!(issued.claims.exp - issued.claims.iat, 5 * 60);
        let verified = codec()
            .verify(issued.token.expose_secret(), TokenKind::Access)
            .unwrap();
        assert_eq!(verified, issued.claims);
    }

    #[test]
    fn a_refresh_token_expires_after_7_days_by_default() {
        let issued = codec().issue(TokenKind::Refresh, "1", "s").unwrap();
        assert_eq!(issued.claims.exp - issued.claims.iat, 7 * 24 * 3600);
        assert_eq!(issued.claims.kind, TokenKind::Refresh);
    }

    #[test]
    fn token_times_come_from_the_injected_clock() {
        let at = OffsetDateTime::now_utc() - Duration::minutes(10);
        let issued = codec_at(at).issue(TokenKind::Access, "1", "s").unwrap();
        assert_eq!(issued.claims.iat, at.unix_timestamp());
        assert_eq!(
            issued.claims.expires_at().unix_timestamp(),
            issued.claims.exp
        );
    }

    #[test]
    fn every_token_gets_a_fresh_128_bit_jti() {
        let codec = codec();
        let first = codec.issue(TokenKind::Access, "1", "s").unwrap().claims.jti;
        let second = codec.issue(TokenKind::Access, "1", "s").unwrap().claims.jti;
        assert_ne!(first, second);
        assert_eq!(first.len(), 32);
        assert!(first.bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn issuer_and_audience_are_issued_when_configured() {
        let config = JwtConfig {
            issuer: Some("auth".into()),
            audience: Some("api".into()),
            ..JwtConfig::new(SecretString::from(SECRET))
        };
        let codec = TokenCodec::new(
            config,
            Arc::new(ManualClock::new(OffsetDateTime::now_utc())),
        )
        .unwrap();
        let issued = codec.issue(TokenKind::Access, "1", "s").unwrap();
        assert_eq!(issued.claims.iss.as_deref(), Some("auth"));
        assert_eq!(issued.claims.aud.as_deref(), Some("api"));
        assert!(
            codec
                .verify(issued.token.expose_secret(), TokenKind::Access)
                .is_ok()
        );
    }

    #[test]
    fn non_positive_custom_lifetimes_are_refused() {
        for ttl in [Duration::ZERO, Duration::seconds(-60)] {
            let result = codec().issue_with_ttl(TokenKind::Access, "1", "s", ttl);
            assert!(matches!(result, Err(CryptoError::InvalidConfig(_))));
        }
    }

    #[test]
    fn a_chained_token_carries_the_given_id_and_expiry() {
        let now = OffsetDateTime::now_utc();
        let codec = codec_at(now);
        let until = now + Duration::hours(2);
        let issued = codec
            .issue_until(TokenKind::Refresh, "7", "s", "next-id", until)
            .unwrap();
        assert_eq!(issued.claims.jti, "next-id");
        assert_eq!(issued.claims.exp, until.unix_timestamp());
        let verified = codec
            .verify(issued.token.expose_secret(), TokenKind::Refresh)
            .unwrap();
        assert_eq!(verified, issued.claims);
        let past = codec.issue_until(TokenKind::Refresh, "7", "s", "id", now);
        assert!(matches!(past, Err(CryptoError::InvalidConfig(_))));
        let blank = codec.issue_until(TokenKind::Refresh, "7", "s", "", until);
        assert!(matches!(blank, Err(CryptoError::InvalidConfig(_))));
    }
}
