//! Sign-in: look the account up, count the attempt, check the password, then open a session.
//!
//! Unknown user, wrong password, inactive and locked account give the same answer after the
//! same work (one password verification each). Only the log and the audit trail learn why.

use auth_crypto::{HashedPassword, Verification, sha256_hex};
use auth_persistence::devices::{self, DeviceRecord};
use auth_persistence::sessions::{self, Login};
use auth_persistence::users::{self, UserRecord};
use secrecy::{ExposeSecret as _, SecretString};

use crate::audit::{AuditEvent, AuditRow};
use crate::auth::{DeviceIssue, record_ids};
use crate::error::{DbError, LoginError};
use crate::guard::guarded;
use crate::throttle::{Account, Admission, Budget};
use crate::{AuthService, AuthSession, LoginIdentifier, LoginInput, RequestContext, User};

/// Why a sign-in was refused, for the log and the audit trail only.
#[derive(Debug, Clone, Copy)]
enum Refused {
    UnknownUser,
    WrongPassword,
    Inactive,
    Locked,
}

impl Refused {
    const fn as_str(self) -> &'static str {
        match self {
            Self::UnknownUser => "unknown_user",
            Self::WrongPassword => "wrong_password",
            Self::Inactive => "inactive",
            Self::Locked => "locked",
        }
    }
}

/// What a successful check of the password carries into opening the session.
struct Success {
    /// The stored hash uses an older scheme or weaker parameters.
    needs_rehash: bool,
    /// Throttle counters the success starts over.
    cleared_counters: Vec<String>,
    /// The live device token the client presented, handed back as it is.
    known_device: Option<SecretString>,
}

impl AuthService {
    /// Signs in by email or username.
    ///
    /// On success `last_login` is set, a hash made with an older scheme or weaker parameters
    /// is replaced (if that fails, the old hash stays and the sign-in goes on), and a session
    /// opens.
    ///
    /// # Errors
    ///
    /// [`LoginError::InvalidCredentials`] for an unknown user, a wrong password, an inactive
    /// or a locked account alike; [`LoginError::RateLimited`] when a throttling layer refuses
    /// the attempt before its password is checked; [`LoginError::Fault`] when the
    /// infrastructure fails (never disguised as a credentials failure).
    #[tracing::instrument(name = "auth.login", skip_all, fields(user_id = tracing::field::Empty, session_id = tracing::field::Empty))]
    pub async fn login(
        &self,
        context: &RequestContext,
        input: LoginInput,
    ) -> Result<AuthSession, LoginError> {
        let inner = &self.inner;
        let ip = context.client_ip;
        inner.throttle.spend(Budget::Login, ip).await?;
        let found = self.find_account(&input.identifier).await?;
        // Looked up whether or not the account exists, so both cost the same.
        let device = self.find_device(input.device_token.as_ref()).await?;
        let device = device.filter(|device| {
            found.as_ref().is_some_and(|user| user.id == device.user_id)
                && device.is_live(inner.clock.now())
        });
        let account = match (&found, &device) {
            (Some(user), Some(device)) => Account::Device {
                user: user.id,
                device: &device.id,
            },
            (Some(user), None) => Account::User(user.id),
            (None, _) => Account::Unknown(&input.identifier),
        };
        // The counts taken come back unless the password gets checked (the future may be
        // dropped mid-verification: client gone, request timeout).
        let (admission, reservation) = inner.throttle.admit_login(ip, &account).await?;
        let Some(user) = found else {
            inner.hashing.dummy_verify(input.password).await?;
            reservation.keep();
            return self
                .refuse(context, admission, Refused::UnknownUser, None)
                .await;
        };
        tracing::Span::current().record("user_id", user.id);
        // A locked account still costs one verification, so it answers like a wrong password
        // in time as well as in content.
        let verdict = inner
            .hashing
            .verify(input.password.clone(), user.hashed_password.clone())
            .await?;
        reservation.keep();
        let refused = match (admission, verdict) {
            (Admission::Locked, _) => Refused::Locked,
            (_, Verification::Match { needs_rehash }) if user.is_active => {
                let success = Success {
                    needs_rehash,
                    cleared_counters: inner.throttle.success_keys(ip, &account),
                    known_device: device.and(input.device_token),
                };
                return self.open(context, user, input.password, success).await;
            }
            (_, Verification::Match { .. }) => Refused::Inactive,
            (_, Verification::Mismatch) => Refused::WrongPassword,
        };
        self.refuse(context, admission, refused, Some(user.id))
            .await
    }

    /// The device a presented token names, if any (live or not, anyone's).
    async fn find_device(
        &self,
        token: Option<&SecretString>,
    ) -> Result<Option<DeviceRecord>, LoginError> {
        let Some(token) = token else {
            return Ok(None);
        };
        let (inner, hash) = (&self.inner, sha256_hex(token.expose_secret()));
        Ok(guarded(&inner.breaker, devices::find_by_hash(&inner.pool, &hash)).await?)
    }

    async fn find_account(
        &self,
        identifier: &LoginIdentifier,
    ) -> Result<Option<UserRecord>, LoginError> {
        let (inner, pool) = (&self.inner, &self.inner.pool);
        let found = match identifier {
            LoginIdentifier::Email(email) => {
                guarded(&inner.breaker, users::find_by_email(pool, email)).await?
            }
            LoginIdentifier::Username(name) => {
                guarded(&inner.breaker, users::find_by_username(pool, name)).await?
            }
        };
        Ok(found)
    }

    /// Opens a session for `user` whose password matched, in one transaction with its audit
    /// events, the upgraded hash (if any), the reset of its throttle counters and a new device
    /// token (unless the client presented a live one, which it keeps).
    async fn open(
        &self,
        context: &RequestContext,
        user: UserRecord,
        password: SecretString,
        success: Success,
    ) -> Result<AuthSession, LoginError> {
        let inner = &self.inner;
        let rehashed = if success.needs_rehash {
            self.rehash(password).await
        } else {
            None
        };
        let now = inner.clock.now();
        let mut rows = vec![AuditRow::new(AuditEvent::LoginSucceeded, context, now).user(user.id)];
        if rehashed.is_some() {
            rows.push(AuditRow::new(AuditEvent::Rehash, context, now).user(user.id));
        }
        let events: Vec<_> = rows.iter().map(AuditRow::as_new).collect();
        let opening = self.open_session(now);
        let new_device = success.known_device.is_none().then(|| self.new_device(now));
        let login = Login {
            user_id: user.id,
            rehashed_password: rehashed.as_ref().map(HashedPassword::as_str),
            cleared_counters: &success.cleared_counters,
            events: &events,
            new_device: new_device.as_ref().map(DeviceIssue::new_device),
        };
        let opened = guarded(
            &inner.breaker,
            sessions::open_for_login(&inner.pool, login, opening.new_session()),
        )
        .await;
        let session = match opened {
            // Deactivated or deleted while its password was being checked.
            Err(DbError::NotFound) => return Err(LoginError::InvalidCredentials),
            other => other?,
        };
        let user = User {
            last_login: Some(session.created_at),
            ..User::from(user)
        };
        record_ids(&user, &session);
        if rehashed.is_some() {
            tracing::info!("password hash upgraded to the current scheme");
        }
        for row in &rows {
            row.log(None, Some(&session.id));
        }
        tracing::info!("login succeeded");
        let pair = self.issue_pair(user, &session, &opening.jti)?;
        Ok(match (new_device, success.known_device) {
            (Some(device), _) => device.hand_over(pair),
            (None, known) => AuthSession {
                device_token: known,
                ..pair
            },
        })
    }

    /// A hash of `password` with the current scheme, or `None` (logged) when it cannot be
    /// made: the stored hash still works, so a failed upgrade never fails the sign-in.
    async fn rehash(&self, password: SecretString) -> Option<HashedPassword> {
        match self.inner.hashing.hash(password).await {
            Ok(hash) => Some(hash),
            Err(err) => {
                tracing::warn!(error = ?err, "password hash not upgraded; keeping the stored one");
                None
            }
        }
    }

    /// Counts a failed login and answers `InvalidCredentials`, whatever the reason (which
    /// only the log and the audit trail see).
    async fn refuse(
        &self,
        context: &RequestContext,
        admission: Admission,
        refused: Refused,
        user_id: Option<i64>,
    ) -> Result<AuthSession, LoginError> {
        let inner = &self.inner;
        let reason = refused.as_str();
        tracing::info!(reason, "login failed");
        let mut row = inner
            .auditor
            .row(AuditEvent::LoginFailed, context)
            .reason(reason);
        if let Some(id) = user_id {
            row = row.user(id);
        }
        inner.auditor.record(row).await;
        if let Admission::Proceed { account_failures } = admission
            && inner.throttle.login_failed(account_failures)
        {
            let mut row = inner.auditor.row(AuditEvent::Lockout, context);
            if let Some(id) = user_id {
                row = row.user(id);
            }
            inner.auditor.record(row).await;
        }
        Err(LoginError::InvalidCredentials)
    }
}
