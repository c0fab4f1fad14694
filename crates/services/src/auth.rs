//! `AuthService`: how it is built, and registration. Sign-in lives in `login.rs`; token
//! refresh, sign-out and identifying a bearer in `tokens.rs`.

use std::sync::Arc;

use auth_crypto::{Clock, PasswordHasher, TokenCodec, TokenKind, sha256_hex};
use auth_persistence::DbPool;
use auth_persistence::devices::NewDevice;
use auth_persistence::sessions::{self, Client, NewSession, SessionRecord};
use auth_persistence::users::NewUser;
use auth_resilience::{BreakerSnapshot, CircuitBreaker};
use secrecy::{ExposeSecret as _, SecretString};
use time::OffsetDateTime;

use crate::audit::Auditor;
use crate::error::{DbError, Fault, Invalid, RegisterError};
use crate::guard::{guarded, refuse_if_open};
use crate::hashing::HashingPool;
use crate::outcomes::{Outcomes, RegisterOutcome};
use crate::throttle::{Budget, Throttle};
use crate::{
    AdminService, AuthConfig, AuthSession, RegisterInput, RequestContext, SessionId, User,
    UserService,
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
    pub(crate) hashing: HashingPool,
    pub(crate) throttle: Throttle,
    pub(crate) auditor: Auditor,
    pub(crate) tokens: TokenCodec,
    pub(crate) breaker: Arc<CircuitBreaker>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) config: AuthConfig,
    pub(crate) outcomes: Outcomes,
}

impl AuthService {
    /// Builds the service once, starting its password-hashing threads (each allocates its
    /// Argon2 memory now); share it behind its internal `Arc` by cloning. The threads stop
    /// when the last clone is dropped.
    ///
    /// Its metrics (outcomes of sign-ins, registrations and refreshes, throttle refusals,
    /// password hashing) are registered now, through the `metrics` facade, in the recorder in
    /// force (none: nothing is recorded).
    ///
    /// # Errors
    ///
    /// The OS error when a hashing thread cannot be started.
    pub fn new(deps: AuthDeps) -> std::io::Result<Self> {
        let auditor = Auditor::new(deps.pool.clone(), deps.breaker.clone(), deps.clock.clone());
        let hashing = HashingPool::start(&deps.hasher, deps.config.hashing)?;
        let throttle = Throttle::new(
            deps.pool.clone(),
            deps.breaker.clone(),
            deps.clock.clone(),
            deps.config.throttle.clone(),
        );
        Ok(Self {
            inner: Arc::new(Inner {
                pool: deps.pool,
                hashing,
                throttle,
                auditor,
                tokens: deps.tokens,
                breaker: deps.breaker,
                clock: deps.clock,
                config: deps.config,
                outcomes: Outcomes::register(),
            }),
        })
    }

    /// Account look-ups sharing this service's pool and breaker.
    pub fn users(&self) -> UserService {
        UserService::new(self.inner.pool.clone(), self.inner.breaker.clone())
    }

    /// Account administration sharing this service's pool, breaker, clock, limits and
    /// hashing threads.
    pub fn admin(&self) -> AdminService {
        AdminService::new(self.clone())
    }

    /// How long a device token issued at sign-in is recognised.
    pub fn device_token_ttl(&self) -> time::Duration {
        self.inner.config.device_token_ttl
    }

    /// The shortest password registration accepts (`PASSWORD_MIN_LENGTH`).
    pub fn password_min_length(&self) -> usize {
        self.inner.config.password_min_length
    }

    /// The state and counters of the breaker guarding the database, for readiness probes.
    pub fn database_breaker(&self) -> BreakerSnapshot {
        self.inner.breaker.snapshot()
    }

    /// Checks that the database answers, for readiness probes (outside the breaker, so a
    /// probe sees the database itself).
    ///
    /// # Errors
    ///
    /// [`Fault::Unavailable`] when it does not.
    pub async fn check_database(&self) -> Result<(), Fault> {
        self.inner
            .pool
            .ping()
            .await
            .map_err(|err| Fault::Unavailable(err.into()))
    }

    /// Creates an account and signs it in.
    ///
    /// # Errors
    ///
    /// [`RegisterError::UserExists`] when the email or username is taken, whatever the case
    /// and also when two registrations race; [`RegisterError::Invalid`] when the password is
    /// shorter than [`AuthConfig::password_min_length`](crate::AuthConfig) or the configured
    /// scheme cannot take it (bcrypt over 72 bytes); [`RegisterError::RateLimited`]
    /// when the client's address spent its budget; [`RegisterError::Fault`] when the
    /// infrastructure fails, or [`Fault::Overloaded`] at once when password hashing is
    /// saturated. Nothing is written on error.
    #[tracing::instrument(name = "auth.register", skip_all, fields(user_id = tracing::field::Empty, session_id = tracing::field::Empty))]
    pub async fn register(
        &self,
        context: &RequestContext,
        input: RegisterInput,
    ) -> Result<AuthSession, RegisterError> {
        let result = self.create_account(context, input).await;
        self.inner
            .outcomes
            .registration(RegisterOutcome::of(&result));
        result
    }

    /// [`register`](Self::register) without counting its outcome.
    async fn create_account(
        &self,
        context: &RequestContext,
        input: RegisterInput,
    ) -> Result<AuthSession, RegisterError> {
        let inner = &self.inner;
        // Parsed with the default minimum by a caller that did not ask for the configured one.
        let min = self.password_min_length();
        if input.password.secret().expose_secret().chars().count() < min {
            let max = crate::PASSWORD_LEN.end();
            return Err(
                Invalid::field("password", format!("must be {min} to {max} characters")).into(),
            );
        }
        // No hash for a write the open breaker would refuse anyway.
        refuse_if_open(&inner.breaker)?;
        // A hashing thread first: a shed registration leaves no trace.
        let slot = inner.hashing.slot().await?;
        inner
            .throttle
            .spend(Budget::Register, context.client_ip)
            .await?;
        let hash = slot.hash(input.password.secret().clone()).await?;
        let now = inner.clock.now();
        let user = NewUser {
            email: input.email.as_str(),
            username: input.username.as_str(),
            hashed_password: hash.as_str(),
            // `Slot::hash` (and `PasswordHasher::hash`) hash the NFKC form.
            password_normalized: true,
            now,
        };
        let opening = self.open_session(context, now);
        let device = self.new_device(now);
        let created = guarded(
            &inner.breaker,
            &inner.pool,
            sessions::create_user_with_session(
                &inner.pool,
                user,
                opening.new_session(),
                Some(device.new_device()),
            ),
        )
        .await;
        let (user, session) = match created {
            Err(DbError::Conflict) => return Err(RegisterError::UserExists),
            other => other?,
        };
        let user = User::from(user);
        record_ids(&user, &session);
        tracing::info!("user registered");
        let pair = self.issue_pair(user, &session, &opening.jti)?;
        Ok(device.hand_over(pair))
    }

    /// A device token about to be issued with a sign-in at `now`.
    pub(crate) fn new_device(&self, now: OffsetDateTime) -> DeviceIssue {
        let token = auth_crypto::random_token();
        DeviceIssue {
            id: uuid::Uuid::new_v4().hyphenated().to_string(),
            hash: sha256_hex(&token),
            token: SecretString::from(token),
            now,
            expires_at: now + self.inner.config.device_token_ttl,
        }
    }

    /// A session about to be opened at `now` for the client `context` describes.
    pub(crate) fn open_session(&self, context: &RequestContext, now: OffsetDateTime) -> Opening {
        let jti = auth_crypto::random_token();
        Opening {
            id: uuid::Uuid::new_v4().hyphenated().to_string(),
            jti_hash: sha256_hex(&jti),
            jti,
            now,
            expires_at: now + self.inner.tokens.refresh_ttl(),
            client: ClientFacts::of(context),
        }
    }

    /// Sessions last used at or before this are idle, hence over.
    pub(crate) fn idle_since(&self, now: OffsetDateTime) -> OffsetDateTime {
        now - self.inner.config.session_idle
    }

    /// Signs an access token and the refresh token `jti` of `session` for `user`.
    pub(crate) fn issue_pair(
        &self,
        user: User,
        session: &SessionRecord,
        jti: &str,
    ) -> Result<AuthSession, Fault> {
        let tokens = &self.inner.tokens;
        let subject = user.id.to_string();
        let access = tokens
            .issue(TokenKind::Access, &subject, &session.id)
            .map_err(Fault::internal)?;
        let refresh = tokens
            .issue_until(
                TokenKind::Refresh,
                &subject,
                &session.id,
                jti,
                session.expires_at,
            )
            .map_err(Fault::internal)?;
        Ok(AuthSession {
            access_token: access.token,
            refresh_token: refresh.token,
            expires_in: tokens.access_ttl().whole_seconds(),
            session_id: SessionId::new(session.id.clone()),
            device_token: None,
            user,
        })
    }
}

/// A session about to be opened: its id and first refresh token id.
pub(crate) struct Opening {
    id: String,
    pub(crate) jti: String,
    jti_hash: String,
    now: OffsetDateTime,
    expires_at: OffsetDateTime,
    client: ClientFacts,
}

impl Opening {
    pub(crate) fn new_session(&self) -> NewSession<'_> {
        NewSession {
            id: &self.id,
            jti_hash: &self.jti_hash,
            now: self.now,
            expires_at: self.expires_at,
            client: self.client.as_client(),
        }
    }
}

/// What a session records about its client, owned: the address and the user agent (cut).
#[derive(Debug, Clone, Default)]
pub(crate) struct ClientFacts {
    ip: Option<String>,
    user_agent: Option<String>,
}

impl ClientFacts {
    pub(crate) fn of(context: &RequestContext) -> Self {
        Self {
            ip: context.client_ip.map(|ip| ip.to_canonical().to_string()),
            user_agent: context.stored_user_agent(),
        }
    }

    pub(crate) fn as_client(&self) -> Client<'_> {
        Client {
            ip: self.ip.as_deref(),
            user_agent: self.user_agent.as_deref(),
        }
    }
}

/// A device token about to be issued: kept in the clear only until it is handed over.
pub(crate) struct DeviceIssue {
    id: String,
    token: SecretString,
    hash: String,
    now: OffsetDateTime,
    expires_at: OffsetDateTime,
}

impl DeviceIssue {
    /// The row to store with the sign-in.
    pub(crate) fn new_device(&self) -> NewDevice<'_> {
        NewDevice {
            id: &self.id,
            token_hash: &self.hash,
            now: self.now,
            expires_at: self.expires_at,
        }
    }

    /// `pair` carrying this device token.
    pub(crate) fn hand_over(self, pair: AuthSession) -> AuthSession {
        AuthSession {
            device_token: Some(self.token),
            ..pair
        }
    }
}

/// Records the user and session on the current span.
pub(crate) fn record_ids(user: &User, session: &SessionRecord) {
    let span = tracing::Span::current();
    span.record("user_id", user.id.get());
    span.record("session_id", session.id.as_str());
}
