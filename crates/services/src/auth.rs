//! `AuthService`: registration and sign-in; token refresh and sign-out live in `tokens.rs`.

use std::sync::Arc;

use auth_crypto::{Clock, PasswordHasher, TokenCodec, TokenKind, Verification, sha256_hex};
use auth_errors::AppError;
use auth_persistence::DbPool;
use auth_persistence::sessions::{self, NewSession, SessionRecord};
use auth_persistence::users::{NewUser, UserRecord};
use auth_resilience::CircuitBreaker;
use secrecy::ExposeSecret as _;
use time::OffsetDateTime;

use crate::audit::{AuditEvent, Auditor};
use crate::guard::guarded;
use crate::hashing::HashingPool;
use crate::throttle::{Account, Admission};
use crate::{
    AuthConfig, AuthSession, LoginIdentifier, LoginInput, RegisterInput, Throttle, UserService,
};

/// Everything [`AuthService`] is built from.
#[derive(Debug)]
pub struct AuthDeps {
    /// Database pool.
    pub pool: DbPool,
    /// Password hasher (scheme and parameters).
    pub hasher: PasswordHasher,
    /// JWT issuer and verifier.
    pub tokens: TokenCodec,
    /// Breaker every database call goes through.
    pub breaker: Arc<CircuitBreaker>,
    /// Wall clock; the same one the token codec uses.
    pub clock: Arc<dyn Clock>,
    /// Business-rule settings.
    pub config: AuthConfig,
}

/// Register, sign in, refresh, sign out and identify users. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AuthService {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) pool: DbPool,
    pub(crate) users: UserService,
    pub(crate) hashing: HashingPool,
    pub(crate) throttle: Throttle,
    pub(crate) auditor: Auditor,
    pub(crate) tokens: TokenCodec,
    pub(crate) breaker: Arc<CircuitBreaker>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) config: AuthConfig,
}

impl AuthService {
    /// Builds the service once; share it behind its internal `Arc` by cloning.
    pub fn new(deps: AuthDeps) -> Self {
        let users =
            UserService::with_clock(deps.pool.clone(), deps.breaker.clone(), deps.clock.clone());
        let auditor = Auditor::new(deps.pool.clone(), deps.breaker.clone(), deps.clock.clone());
        let hashing = HashingPool::new(deps.hasher, deps.config.hashing_concurrency);
        let throttle = Throttle::new(
            deps.pool.clone(),
            deps.breaker.clone(),
            deps.clock.clone(),
            deps.config.throttle.clone(),
        );
        Self {
            inner: Arc::new(Inner {
                pool: deps.pool,
                users,
                hashing,
                throttle,
                auditor,
                tokens: deps.tokens,
                breaker: deps.breaker,
                clock: deps.clock,
                config: deps.config,
            }),
        }
    }

    /// The user service sharing this service's pool and breaker.
    pub fn users(&self) -> &UserService {
        &self.inner.users
    }

    /// The throttling layers (per-address budgets are spent by the transport).
    pub fn throttle(&self) -> &Throttle {
        &self.inner.throttle
    }

    /// Lifts the lock, delays and per-address counters of user `user_id`, by email and by
    /// username. Returns how many counters were cleared.
    ///
    /// # Errors
    ///
    /// `NOT_FOUND` for an unknown user; `SERVICE_UNAVAILABLE` / `INTERNAL_ERROR` on database
    /// failure.
    pub async fn unlock(&self, user_id: i64) -> Result<usize, AppError> {
        let users = &self.inner.users;
        let user = users.get_by_id(user_id).await?.ok_or(AppError::NotFound)?;
        users.unlock(&user).await
    }

    /// The circuit breaker guarding the database (its state feeds readiness).
    pub fn breaker(&self) -> &CircuitBreaker {
        &self.inner.breaker
    }

    /// Creates an account and signs it in.
    ///
    /// # Errors
    ///
    /// `USER_EXISTS` when the email or username is taken, whatever the case and also when two
    /// registrations race; `VALIDATION_ERROR` when the configured scheme cannot take the
    /// password (bcrypt over 72 bytes); `SERVICE_UNAVAILABLE` / `INTERNAL_ERROR` on database
    /// failure. Nothing is written on error.
    #[tracing::instrument(name = "auth.register", skip_all, fields(user.id = tracing::field::Empty, session.id = tracing::field::Empty))]
    pub async fn register(&self, input: RegisterInput) -> Result<AuthSession, AppError> {
        let inner = &self.inner;
        let hash = inner.hashing.hash(input.password.secret().clone()).await?;
        let now = inner.clock.now();
        let user = NewUser {
            email: input.email.as_str(),
            username: input.username.as_str(),
            hashed_password: hash.as_str(),
            now,
        };
        let opening = self.open_session(now);
        let (user, session) = guarded(
            &inner.breaker,
            sessions::create_user_with_session(&inner.pool, user, opening.new_session()),
        )
        .await?;
        record_ids(&user, &session);
        tracing::info!("user registered");
        self.issue_pair(user, &session, &opening.jti)
    }

    /// Signs in by email or username.
    ///
    /// Unknown user, wrong password and inactive account give the same `INVALID_CREDENTIALS`
    /// after the same work (one password verification each). On success `last_login` is set,
    /// a hash made with an older scheme or weaker parameters is replaced, and a session opens.
    ///
    /// # Errors
    ///
    /// `INVALID_CREDENTIALS`, or `SERVICE_UNAVAILABLE` / `INTERNAL_ERROR` on database failure
    /// (never disguised as a credentials failure).
    #[tracing::instrument(name = "auth.login", skip_all, fields(user.id = tracing::field::Empty, session.id = tracing::field::Empty))]
    pub async fn login(&self, input: LoginInput) -> Result<AuthSession, AppError> {
        let inner = &self.inner;
        let found = match &input.identifier {
            LoginIdentifier::Email(email) => inner.users.get_by_email(email).await?,
            LoginIdentifier::Username(name) => inner.users.get_by_username(name).await?,
        };
        let account = found
            .as_ref()
            .map_or(Account::Unknown(&input.identifier), |user| {
                Account::User(user.id)
            });
        let admission = inner
            .throttle
            .admit_login(input.client_ip, &account)
            .await?;
        let Some(user) = found else {
            inner.hashing.dummy_verify(input.password.clone()).await?;
            return self.refuse(admission, "unknown_user", None).await;
        };
        tracing::Span::current().record("user.id", user.id);
        // A locked account still costs one verification, so it answers like a wrong password
        // in time as well as in content.
        let verdict = inner
            .hashing
            .verify(input.password.clone(), user.hashed_password.clone())
            .await?;
        let needs_rehash = match (admission, verdict) {
            (Admission::Locked, _) => return self.refuse(admission, "locked", Some(user.id)).await,
            (_, Verification::Match { needs_rehash }) if user.is_active => needs_rehash,
            (_, Verification::Match { .. }) => {
                return self.refuse(admission, "inactive", Some(user.id)).await;
            }
            (_, Verification::Mismatch) => {
                return self
                    .refuse(admission, "wrong_password", Some(user.id))
                    .await;
            }
        };
        inner
            .throttle
            .login_succeeded(input.client_ip, &account)
            .await?;
        let rehashed = if needs_rehash {
            Some(inner.hashing.hash(input.password).await?)
        } else {
            None
        };
        let now = inner.clock.now();
        let opening = self.open_session(now);
        let session = guarded(
            &inner.breaker,
            sessions::open_for_login(
                &inner.pool,
                user.id,
                rehashed.as_ref().map(auth_crypto::HashedPassword::as_str),
                opening.new_session(),
            ),
        )
        .await
        .map_err(|err| match err {
            // Deactivated or deleted while its password was being checked.
            AppError::NotFound => AppError::InvalidCredentials,
            other => other,
        })?;
        record_ids(&user, &session);
        if rehashed.is_some() {
            tracing::info!("password hash upgraded to the current scheme");
            inner
                .auditor
                .record(AuditEvent::Rehash, None, Some(user.id), None)
                .await;
        }
        tracing::info!("login succeeded");
        let sid = Some(session.id.as_str());
        inner
            .auditor
            .record(AuditEvent::LoginSucceeded, None, Some(user.id), sid)
            .await;
        let user = UserRecord {
            last_login: Some(session.created_at),
            ..user
        };
        self.issue_pair(user, &session, &opening.jti)
    }

    /// Counts a failed login and answers `INVALID_CREDENTIALS`, whatever the `reason` (which
    /// only the log and the audit trail see).
    async fn refuse(
        &self,
        admission: Admission,
        reason: &'static str,
        user_id: Option<i64>,
    ) -> Result<AuthSession, AppError> {
        let inner = &self.inner;
        tracing::info!(reason, "login failed");
        inner
            .auditor
            .record(AuditEvent::LoginFailed, Some(reason), user_id, None)
            .await;
        if let Admission::Proceed { account_failures } = admission
            && inner.throttle.login_failed(account_failures)
        {
            inner
                .auditor
                .record(AuditEvent::Lockout, None, user_id, None)
                .await;
        }
        Err(AppError::InvalidCredentials)
    }

    fn open_session(&self, now: OffsetDateTime) -> Opening {
        let jti = auth_crypto::random_token();
        Opening {
            id: uuid::Uuid::new_v4().hyphenated().to_string(),
            jti_hash: sha256_hex(&jti),
            jti,
            now,
            expires_at: now + self.inner.tokens.refresh_ttl(),
        }
    }

    /// Signs an access token and the refresh token `jti` of `session` for `user`.
    pub(crate) fn issue_pair(
        &self,
        user: UserRecord,
        session: &SessionRecord,
        jti: &str,
    ) -> Result<AuthSession, AppError> {
        let tokens = &self.inner.tokens;
        let subject = user.id.to_string();
        let access = tokens.issue(TokenKind::Access, &subject, &session.id)?;
        let refresh = tokens.issue_until(
            TokenKind::Refresh,
            &subject,
            &session.id,
            jti,
            session.expires_at,
        )?;
        debug_assert!(!refresh.token.expose_secret().is_empty());
        Ok(AuthSession {
            access_token: access.token,
            refresh_token: refresh.token,
            expires_in: tokens.access_ttl().whole_seconds(),
            session_id: session.id.clone(),
            user: user.into(),
        })
    }
}

/// A session about to be opened: its id and first refresh token id.
struct Opening {
    id: String,
    jti: String,
    jti_hash: String,
    now: OffsetDateTime,
    expires_at: OffsetDateTime,
}

impl Opening {
    fn new_session(&self) -> NewSession<'_> {
        NewSession {
            id: &self.id,
            jti_hash: &self.jti_hash,
            now: self.now,
            expires_at: self.expires_at,
        }
    }
}

fn record_ids(user: &UserRecord, session: &SessionRecord) {
    let span = tracing::Span::current();
    span.record("user.id", user.id);
    span.record("session.id", session.id.as_str());
}
