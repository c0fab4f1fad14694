//! Refresh with rotation and reuse detection, sign-out, and identifying a bearer.
//!
//! Each refresh token's `jti` is stored only as a SHA-256 hash. The successor of a token is
//! derived from it ([`successor_jti`]), so every concurrent refresh of the same token, and a
//! second tab inside the grace window, receives the *same* next token: the chain never forks.
//! A rotated token presented after the grace window is treated as stolen and the whole
//! session is revoked.

use auth_crypto::{Claims, CryptoError, TokenKind, sha256_hex};
use auth_persistence::sessions::{self, RevokeReason, Rotate, Rotation, SessionRecord};
use auth_persistence::users::{self, UserRecord};
use time::OffsetDateTime;

use crate::audit::{AuditEvent, AuditRow};
use crate::auth::ClientFacts;
use crate::error::{Fault, RefreshError, TokenError};
use crate::guard::guarded;
use crate::outcomes::RefreshOutcome;
use crate::throttle::Budget;
use crate::{AuthService, AuthSession, Principal, RequestContext, SessionId, User, UserId};

/// Why a token was refused before any database work.
#[derive(Debug)]
enum Refused {
    Invalid,
    Expired,
}

impl From<Refused> for RefreshError {
    fn from(refused: Refused) -> Self {
        match refused {
            Refused::Invalid => Self::InvalidToken,
            Refused::Expired => Self::TokenExpired,
        }
    }
}

impl From<Refused> for TokenError {
    fn from(refused: Refused) -> Self {
        match refused {
            Refused::Invalid => Self::InvalidToken,
            Refused::Expired => Self::TokenExpired,
        }
    }
}

/// The `jti` of the token that follows `jti` in its chain.
///
/// Knowing it grants nothing: a refresh token must still be signed with the server's key.
pub(crate) fn successor_jti(jti: &str) -> String {
    sha256_hex(&format!("refresh-successor:{jti}"))
}

impl AuthService {
    /// Trades a refresh token for a new access token and a new refresh token.
    ///
    /// # Errors
    ///
    /// [`RefreshError::TokenExpired`] past its expiry, or when its session was not used for
    /// [`AuthConfig::session_idle`](crate::AuthConfig); [`RefreshError::InvalidToken`] when it
    /// is garbage, tampered with, an access token, revoked, already rotated (outside the grace
    /// window, which also revokes the session), or its user is inactive or gone;
    /// [`RefreshError::RateLimited`] when the client's address spent its budget;
    /// [`RefreshError::Fault`] when the infrastructure fails.
    #[tracing::instrument(name = "auth.refresh", skip_all, fields(user_id = tracing::field::Empty, session_id = tracing::field::Empty))]
    pub async fn refresh(
        &self,
        context: &RequestContext,
        refresh_token: &str,
    ) -> Result<AuthSession, RefreshError> {
        let mut decided = None;
        let result = self
            .rotate_refresh(context, refresh_token, &mut decided)
            .await;
        let outcome = decided.unwrap_or_else(|| RefreshOutcome::of(&result));
        self.inner.outcomes.refresh(outcome);
        result
    }

    /// [`refresh`](Self::refresh) without counting its outcome; sets `decided` to a grace
    /// replay or a reuse, which its result does not show.
    async fn rotate_refresh(
        &self,
        context: &RequestContext,
        refresh_token: &str,
        decided: &mut Option<RefreshOutcome>,
    ) -> Result<AuthSession, RefreshError> {
        let inner = &self.inner;
        inner
            .throttle
            .spend(Budget::Refresh, context.client_ip)
            .await?;
        let claims = self.verify(refresh_token, TokenKind::Refresh)?;
        let user_id = record_claims(&claims)?;
        let now = inner.clock.now();
        // Inside the verifier's leeway the token still verifies, but the session is over:
        // answer as expired before rotating anything.
        if claims.expires_at() <= now {
            return Err(RefreshError::TokenExpired);
        }
        let presented = sha256_hex(&claims.jti);
        let next_jti = successor_jti(&claims.jti);
        let next = sha256_hex(&next_jti);
        let client = ClientFacts::of(context);
        let idle_since = self.idle_since(now);
        let rotate = Rotate {
            session_id: &claims.sid,
            user_id,
            presented_hash: &presented,
            next_hash: &next,
            at: now,
            client: client.as_client(),
            idle_since,
        };
        let rotation = guarded(
            &inner.breaker,
            &inner.pool,
            sessions::rotate(&inner.pool, rotate),
        )
        .await?;
        let (session, user) = match rotation {
            Rotation::Rotated(session, user) => (session, user),
            Rotation::Stale(session)
                if !session.is_revoked() && session.last_used_at <= idle_since =>
            {
                tracing::info!("refresh of an idle session refused");
                return Err(RefreshError::TokenExpired);
            }
            Rotation::Stale(session) if self.within_grace(&session, &presented, &next, now) => {
                let user = self
                    .live_user(user_id)
                    .await?
                    .ok_or(RefreshError::InvalidToken)?;
                tracing::info!("refresh token reused within the grace window");
                *decided = Some(RefreshOutcome::GraceReplay);
                (session, user)
            }
            Rotation::Stale(session) => {
                let refused = self.refuse_stale(context, &session, now).await?;
                *decided = Some(RefreshOutcome::ReuseRevoked);
                return Err(refused);
            }
            Rotation::NoLiveUser | Rotation::Missing => return Err(RefreshError::InvalidToken),
        };
        tracing::info!(session_generation = session.generation, "tokens refreshed");
        Ok(self.issue_pair(User::from(user), &session, &next_jti)?)
    }

    /// Revokes the session a refresh token belongs to. Revoking an already revoked session
    /// succeeds too. A token rotated away before the grace window is reuse: the session is
    /// revoked as a refresh would revoke it (`refresh_reuse_detected`), and the answer is the
    /// same success.
    ///
    /// # Errors
    ///
    /// [`RefreshError::InvalidToken`] when it is not a valid refresh token of a session of its
    /// user, [`RefreshError::TokenExpired`] past its expiry; [`RefreshError::Fault`] when the
    /// infrastructure fails.
    #[tracing::instrument(name = "auth.logout", skip_all, fields(user_id = tracing::field::Empty, session_id = tracing::field::Empty))]
    pub async fn logout(
        &self,
        context: &RequestContext,
        refresh_token: &str,
    ) -> Result<(), RefreshError> {
        let inner = &self.inner;
        let claims = self.verify(refresh_token, TokenKind::Refresh)?;
        let user_id = record_claims(&claims)?;
        let session = guarded(
            &inner.breaker,
            &inner.pool,
            sessions::find(&inner.pool, &claims.sid),
        )
        .await?;
        let Some(session) = session.filter(|session| session.user_id == user_id) else {
            return Err(RefreshError::InvalidToken);
        };
        let now = inner.clock.now();
        let presented = sha256_hex(&claims.jti);
        let next = sha256_hex(&successor_jti(&claims.jti));
        if session.current_jti_hash != presented
            && !self.within_grace(&session, &presented, &next, now)
        {
            // A rotated token outside the grace window is a stolen token's reuse, whatever the
            // request: revoke the session as a refresh would, and answer as logout does.
            self.refuse_stale(context, &session, now).await?;
            return Ok(());
        }
        let revoked = self
            .revoke(context, &session, RevokeReason::Logout, now)
            .await?;
        tracing::info!(revoked, "logged out");
        Ok(())
    }

    /// Checks an access token, that its session is still live (not revoked, not past its
    /// end, not idle) and that its user is active: the one rule of every endpoint that takes
    /// an access token.
    ///
    /// # Errors
    ///
    /// [`TokenError::TokenExpired`] past its expiry; [`TokenError::InvalidToken`] when it is
    /// malformed, tampered with, a refresh token, its session is revoked, over, idle or
    /// belongs to someone else, or its user is inactive or gone; [`TokenError::Fault`] when
    /// the infrastructure fails.
    pub async fn authenticate(&self, access_token: &str) -> Result<Principal, TokenError> {
        let inner = &self.inner;
        let claims = self.verify(access_token, TokenKind::Access)?;
        let user_id = record_claims(&claims)?;
        let found = sessions::find_with_user(&inner.pool, &claims.sid);
        let found = guarded(&inner.breaker, &inner.pool, found).await?;
        let now = inner.clock.now();
        match found {
            Some((session, user))
                if session.user_id == user_id
                    && user.is_active
                    && !session.is_revoked()
                    && session.expires_at > now
                    && session.last_used_at > self.idle_since(now) =>
            {
                Ok(Principal {
                    user_id: UserId::new(user_id),
                    session_id: SessionId::new(session.id),
                    user: User::from(user),
                })
            }
            _ => Err(TokenError::InvalidToken),
        }
    }

    /// The signed-in user behind an access token.
    ///
    /// # Errors
    ///
    /// As [`authenticate`](Self::authenticate), and [`TokenError::InvalidToken`] when the user
    /// is inactive or gone.
    #[tracing::instrument(name = "auth.me", skip_all, fields(user_id = tracing::field::Empty, session_id = tracing::field::Empty))]
    pub async fn me(&self, access_token: &str) -> Result<User, TokenError> {
        let principal = self.authenticate(access_token).await?;
        Ok(self.profile(&principal))
    }

    /// The profile of an authenticated caller, as read with its session (the user is known
    /// to be active: [`authenticate`](Self::authenticate) refuses anyone else).
    pub fn profile(&self, principal: &Principal) -> User {
        principal.user.clone()
    }

    /// The user `user_id` if it exists and is active.
    pub(crate) async fn live_user(&self, user_id: i64) -> Result<Option<UserRecord>, Fault> {
        let inner = &self.inner;
        let user = guarded(
            &inner.breaker,
            &inner.pool,
            users::find_by_id(&inner.pool, user_id),
        )
        .await?;
        Ok(user.filter(|user| user.is_active))
    }

    /// Verifies a token's signature, claims and kind.
    fn verify(&self, token: &str, kind: TokenKind) -> Result<Claims, Refused> {
        match self.inner.tokens.verify(token, kind) {
            Ok(claims) => Ok(claims),
            Err(CryptoError::TokenExpired) => Err(Refused::Expired),
            Err(_) => Err(Refused::Invalid),
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

    /// Refuses a rotated token presented after the grace window: the token may have been
    /// stolen, so its session is revoked (once, with its audit event).
    async fn refuse_stale(
        &self,
        context: &RequestContext,
        session: &SessionRecord,
        now: OffsetDateTime,
    ) -> Result<RefreshError, Fault> {
        if !session.is_revoked()
            && self
                .revoke(context, session, RevokeReason::ReuseDetected, now)
                .await?
        {
            tracing::warn!("rotated refresh token reused: session revoked");
        }
        Ok(RefreshError::InvalidToken)
    }

    /// Revokes `session` for `reason`, with its audit event in the same transaction (a
    /// logout, or a reuse detected). Returns whether it was still live.
    async fn revoke(
        &self,
        context: &RequestContext,
        session: &SessionRecord,
        reason: RevokeReason,
        now: OffsetDateTime,
    ) -> Result<bool, Fault> {
        let event = match reason {
            RevokeReason::ReuseDetected => AuditEvent::RefreshReuseDetected,
            _ => AuditEvent::Logout,
        };
        let row = AuditRow::new(event, context, now)
            .user(session.user_id)
            .session(&session.id);
        let inner = &self.inner;
        let events = [row.as_new()];
        let revoke = sessions::revoke(&inner.pool, &session.id, reason, now, &events);
        let revoked = guarded(&inner.breaker, &inner.pool, revoke).await?;
        if revoked {
            row.log(None, None);
        }
        Ok(revoked)
    }
}

/// Records the token's user and session on the current span; the user id must be a number.
fn record_claims(claims: &Claims) -> Result<i64, Refused> {
    let user_id: i64 = claims.user_id().map_err(|_| Refused::Invalid)?;
    let span = tracing::Span::current();
    span.record("user_id", user_id);
    span.record("session_id", claims.sid.as_str());
    Ok(user_id)
}
