//! Refresh with rotation and reuse detection, sign-out, and identifying a bearer.
//!
//! Each refresh token's `jti` is stored only as a SHA-256 hash. The successor of a token is
//! derived from it ([`successor_jti`]), so every concurrent refresh of the same token, and a
//! second tab inside the grace window, receives the *same* next token: the chain never forks.
//! A rotated token presented after the grace window is treated as stolen and the whole
//! session is revoked.

use auth_crypto::{Claims, TokenKind, sha256_hex};
use auth_errors::AppError;
use auth_persistence::sessions::{self, RevokeReason, Rotation, SessionRecord};
use auth_persistence::users::UserRecord;
use time::OffsetDateTime;

use crate::audit::AuditEvent;
use crate::guard::guarded;
use crate::{AuthService, AuthSession, Principal, UserProfile};

/// The `jti` of the token that follows `jti` in its chain.
///
/// Knowing it grants nothing: a refresh token must still be signed with the server's key.
pub fn successor_jti(jti: &str) -> String {
    sha256_hex(&format!("refresh-successor:{jti}"))
}

impl AuthService {
    /// Trades a refresh token for a new access token and a new refresh token.
    ///
    /// # Errors
    ///
    /// `TOKEN_EXPIRED` past its expiry; `INVALID_TOKEN` when it is garbage, tampered with, an
    /// access token, revoked, already rotated (outside the grace window, which also revokes the
    /// session), or its user is inactive or gone; `SERVICE_UNAVAILABLE` / `INTERNAL_ERROR` on
    /// database failure.
    #[tracing::instrument(name = "auth.refresh", skip_all, fields(user.id = tracing::field::Empty, session.id = tracing::field::Empty))]
    pub async fn refresh(&self, refresh_token: &str) -> Result<AuthSession, AppError> {
        let inner = &self.inner;
        let claims = inner.tokens.verify(refresh_token, TokenKind::Refresh)?;
        let user_id = record_claims(&claims)?;
        let user = self.live_user(user_id).await?;
        let now = inner.clock.now();
        // Inside the verifier's leeway the token still verifies, but the session is over:
        // answer as expired before rotating anything.
        if claims.expires_at() <= now {
            return Err(AppError::TokenExpired);
        }
        let presented = sha256_hex(&claims.jti);
        let next_jti = successor_jti(&claims.jti);
        let next = sha256_hex(&next_jti);
        let rotation = guarded(
            &inner.breaker,
            sessions::rotate(&inner.pool, &claims.sid, &presented, &next, now),
        )
        .await?;
        let session = match rotation {
            Rotation::Rotated(session) => session,
            Rotation::Stale(session) if self.within_grace(&session, &presented, &next, now) => {
                tracing::info!("refresh token reused within the grace window");
                session
            }
            Rotation::Stale(session) => return self.refuse_stale(&session, now).await,
            Rotation::Missing => return Err(AppError::InvalidToken),
        };
        if session.user_id != user_id {
            return Err(AppError::InvalidToken);
        }
        tracing::info!(session.generation = session.generation, "tokens refreshed");
        self.issue_pair(user, &session, &next_jti)
    }

    /// Revokes the session a refresh token belongs to. Revoking an already revoked session
    /// succeeds too.
    ///
    /// # Errors
    ///
    /// `INVALID_TOKEN` when it is not a valid refresh token, `TOKEN_EXPIRED` past its expiry;
    /// `SERVICE_UNAVAILABLE` / `INTERNAL_ERROR` on database failure.
    #[tracing::instrument(name = "auth.logout", skip_all, fields(user.id = tracing::field::Empty, session.id = tracing::field::Empty))]
    pub async fn logout(&self, refresh_token: &str) -> Result<(), AppError> {
        let inner = &self.inner;
        let claims = inner.tokens.verify(refresh_token, TokenKind::Refresh)?;
        let user_id = record_claims(&claims)?;
        let session = guarded(&inner.breaker, sessions::find(&inner.pool, &claims.sid)).await?;
        match session {
            Some(session) if session.user_id == user_id => {
                let now = inner.clock.now();
                let revoked = guarded(
                    &inner.breaker,
                    sessions::revoke(&inner.pool, &session.id, RevokeReason::Logout, now),
                )
                .await?;
                tracing::info!(revoked, "logged out");
                let sid = Some(session.id.as_str());
                inner
                    .auditor
                    .record(AuditEvent::Logout, None, Some(user_id), sid)
                    .await;
                Ok(())
            }
            _ => Err(AppError::InvalidToken),
        }
    }

    /// Checks an access token and that its session is still live.
    ///
    /// # Errors
    ///
    /// `TOKEN_EXPIRED` past its expiry; `INVALID_TOKEN` when it is malformed, tampered with, a
    /// refresh token, or its session is revoked or belongs to someone else;
    /// `SERVICE_UNAVAILABLE` / `INTERNAL_ERROR` on database failure.
    pub async fn authenticate(&self, access_token: &str) -> Result<Principal, AppError> {
        let inner = &self.inner;
        let claims = inner.tokens.verify(access_token, TokenKind::Access)?;
        let user_id = record_claims(&claims)?;
        let session = guarded(&inner.breaker, sessions::find(&inner.pool, &claims.sid)).await?;
        match session {
            Some(session)
                if session.user_id == user_id
                    && !session.is_revoked()
                    && session.expires_at > inner.clock.now() =>
            {
                Ok(Principal {
                    user_id,
                    session_id: session.id,
                })
            }
            _ => Err(AppError::InvalidToken),
        }
    }

    /// The signed-in user behind an access token.
    ///
    /// # Errors
    ///
    /// As [`authenticate`](Self::authenticate), and `INVALID_TOKEN` when the user is inactive
    /// or gone.
    #[tracing::instrument(name = "auth.me", skip_all, fields(user.id = tracing::field::Empty, session.id = tracing::field::Empty))]
    pub async fn me(&self, access_token: &str) -> Result<UserProfile, AppError> {
        let principal = self.authenticate(access_token).await?;
        self.profile(&principal).await
    }

    /// The profile of an authenticated caller.
    ///
    /// # Errors
    ///
    /// `INVALID_TOKEN` when the user is inactive or gone; `SERVICE_UNAVAILABLE` /
    /// `INTERNAL_ERROR` on database failure.
    pub async fn profile(&self, principal: &Principal) -> Result<UserProfile, AppError> {
        Ok(self.live_user(principal.user_id).await?.into())
    }

    async fn live_user(&self, user_id: i64) -> Result<UserRecord, AppError> {
        match self.inner.users.get_by_id(user_id).await? {
            Some(user) if user.is_active => Ok(user),
            _ => Err(AppError::InvalidToken),
        }
    }

    /// Whether a stale token is the one rotated just now into the successor we derived.
    fn within_grace(
        &self,
        session: &SessionRecord,
        presented: &str,
        next: &str,
        now: OffsetDateTime,
    ) -> bool {
        !session.is_revoked()
            && session.previous_jti_hash.as_deref() == Some(presented)
            && session.current_jti_hash == next
            && session
                .rotated_at
                .is_some_and(|at| now - at <= self.inner.config.refresh_reuse_grace)
    }

    async fn refuse_stale(
        &self,
        session: &SessionRecord,
        now: OffsetDateTime,
    ) -> Result<AuthSession, AppError> {
        if !session.is_revoked() {
            let inner = &self.inner;
            guarded(
                &inner.breaker,
                sessions::revoke(&inner.pool, &session.id, RevokeReason::ReuseDetected, now),
            )
            .await?;
            tracing::warn!("rotated refresh token reused: session revoked");
            let sid = Some(session.id.as_str());
            let user = Some(session.user_id);
            inner
                .auditor
                .record(AuditEvent::RefreshReuseDetected, None, user, sid)
                .await;
        }
        Err(AppError::InvalidToken)
    }
}

/// Records the token's user and session on the current span; the user id must be a number.
fn record_claims(claims: &Claims) -> Result<i64, AppError> {
    let user_id: i64 = claims.user_id()?;
    let span = tracing::Span::current();
    span.record("user.id", user_id);
    span.record("session.id", claims.sid.as_str());
    Ok(user_id)
}
