//! Sign-in: look the account up, count the attempt, check the password, then open a session.
//!
//! Unknown user, wrong password, inactive and locked account give the same answer after the
//! same work (one password verification each). Only the log and the audit trail learn why.

use std::net::IpAddr;

use auth_crypto::{HashedPassword, PasswordForm, Verification, sha256_hex};
use auth_persistence::devices::{self, DeviceRecord};
use auth_persistence::sessions::{self, Login, SessionLimit};
use auth_persistence::users::{self, UserRecord};
use secrecy::{ExposeSecret as _, SecretString};
use tracing::Instrument as _;

use crate::audit::{AuditEvent, AuditRow};
use crate::auth::{DeviceIssue, record_ids};
use crate::error::{DbError, Fault, LoginError};
use crate::guard::guarded;
use crate::outcomes::LoginOutcome;
use crate::throttle::{Account, Admission, Budget, Reservation};
use crate::{AuthService, AuthSession, LoginIdentifier, LoginInput, RequestContext, User};

/// Why a sign-in was refused, for the log and the audit trail only.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Refused {
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

/// Whose attempt a login is, owned, so counting can run as its own task.
#[derive(Debug, Clone)]
pub(crate) struct Bucket {
    /// The account, if it exists.
    pub(crate) user: Option<i64>,
    /// The live device of that account the client presented, if any.
    pub(crate) device: Option<String>,
    /// The identifier as typed, for an account that does not exist.
    pub(crate) identifier: LoginIdentifier,
}

impl Bucket {
    pub(crate) fn account(&self) -> Account<'_> {
        match (self.user, &self.device) {
            (Some(user), Some(device)) => Account::Device { user, device },
            (Some(user), None) => Account::User(user),
            (None, _) => Account::Unknown(&self.identifier),
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
    /// The password is verified once, in the form its hash was made from: NFKC for marked
    /// hashes, as typed for older ones. On success `last_login` is set, a hash made with an
    /// older scheme, weaker parameters or from the password as typed is replaced by one of its
    /// NFKC form (if that fails, the old hash stays and the sign-in goes on), and a session
    /// opens.
    ///
    /// # Errors
    ///
    /// [`LoginError::InvalidCredentials`] for an unknown user, a wrong password, an inactive
    /// or a locked account alike; [`LoginError::RateLimited`] when a throttling layer refuses
    /// the attempt before its password is checked; [`LoginError::Fault`] when the
    /// infrastructure fails (never disguised as a credentials failure), or
    /// [`Fault::Overloaded`](crate::Fault::Overloaded) at once when password hashing is
    /// saturated, before anything is read or counted.
    #[tracing::instrument(name = "auth.login", skip_all, fields(user_id = tracing::field::Empty, session_id = tracing::field::Empty))]
    pub async fn login(
        &self,
        context: &RequestContext,
        input: LoginInput,
    ) -> Result<AuthSession, LoginError> {
        let mut locked = false;
        let result = self.sign_in(context, input, &mut locked).await;
        let outcome = match LoginOutcome::of(&result) {
            LoginOutcome::Invalid if locked => LoginOutcome::Locked,
            outcome => outcome,
        };
        self.inner.outcomes.login(outcome);
        result
    }

    /// [`login`](Self::login) without counting its outcome; sets `locked` when the account's
    /// lock refused it.
    async fn sign_in(
        &self,
        context: &RequestContext,
        input: LoginInput,
        locked: &mut bool,
    ) -> Result<AuthSession, LoginError> {
        let inner = &self.inner;
        let ip = context.client_ip;
        // A hashing thread first: a shed sign-in reads and counts nothing.
        let slot = inner.hashing.slot().await?;
        inner.throttle.spend(Budget::Login, ip).await?;
        let found = self.find_account(&input.identifier).await?;
        // Looked up whether or not the account exists, so both cost the same.
        let device = self.find_device(input.device_token.as_ref()).await?;
        let device = device.filter(|device| {
            found.as_ref().is_some_and(|user| user.id == device.user_id)
                && device.is_live(inner.clock.now())
        });
        let bucket = Bucket {
            user: found.as_ref().map(|user| user.id),
            device: device.as_ref().map(|device| device.id.clone()),
            identifier: input.identifier.clone(),
        };
        let (admission, reservation) = self.admit(ip, bucket.clone()).await?;
        let account = bucket.account();
        let Some(user) = found else {
            slot.dummy_verify(input.password).await?;
            reservation.keep();
            return Err(self
                .refuse(context, admission, Refused::UnknownUser, None)
                .await);
        };
        tracing::Span::current().record("user_id", user.id);
        // A locked account still costs one verification, so it answers like a wrong password
        // in time as well as in content. One verification, of the form the hash was made from.
        let form = if user.password_normalized {
            PasswordForm::Normalized
        } else {
            PasswordForm::Raw
        };
        let verdict = slot
            .verify(input.password.clone(), user.hashed_password.clone(), form)
            .await?;
        reservation.keep();
        let refused = match (admission, verdict) {
            (Admission::Locked, _) => Refused::Locked,
            (_, Verification::Match { needs_rehash }) if user.is_active => {
                let success = Success {
                    // A hash of the raw password is replaced by one of its NFKC form.
                    needs_rehash: needs_rehash || !user.password_normalized,
                    cleared_counters: inner.throttle.success_keys(ip, &account),
                    known_device: device.and(input.device_token),
                };
                return self.open(context, user, input.password, success).await;
            }
            (_, Verification::Match { .. }) => Refused::Inactive,
            (_, Verification::Mismatch) => Refused::WrongPassword,
        };
        *locked = matches!(refused, Refused::Locked);
        Err(self
            .refuse(context, admission, refused, Some(user.id))
            .await)
    }

    /// Counts the attempt in its buckets. The counts taken come back unless the password gets
    /// checked, also when this future is dropped (client gone, request timeout): the counting
    /// runs as its own task, so it is never cut between a count and its record, and a
    /// reservation nobody collects gives its counts back.
    pub(crate) async fn admit(
        &self,
        ip: Option<IpAddr>,
        bucket: Bucket,
    ) -> Result<(Admission, Reservation), LoginError> {
        let throttle = self.inner.throttle.clone();
        let counting = async move { throttle.admit_login(ip, &bucket.account()).await };
        let admitted = tokio::spawn(counting.instrument(tracing::Span::current()))
            .await
            .map_err(Fault::internal)?;
        Ok(admitted?)
    }

    /// The device a presented token names, if any (live or not, anyone's).
    pub(crate) async fn find_device(
        &self,
        token: Option<&SecretString>,
    ) -> Result<Option<DeviceRecord>, LoginError> {
        let Some(token) = token else {
            return Ok(None);
        };
        let (inner, hash) = (&self.inner, sha256_hex(token.expose_secret()));
        Ok(guarded(
            &inner.breaker,
            &inner.pool,
            devices::find_by_hash(&inner.pool, &hash),
        )
        .await?)
    }

    async fn find_account(
        &self,
        identifier: &LoginIdentifier,
    ) -> Result<Option<UserRecord>, LoginError> {
        let (inner, pool) = (&self.inner, &self.inner.pool);
        let found = match identifier {
            LoginIdentifier::Email(email) => {
                guarded(&inner.breaker, pool, users::find_by_email(pool, email)).await?
            }
            LoginIdentifier::Username(name) => {
                guarded(&inner.breaker, pool, users::find_by_username(pool, name)).await?
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
        let opening = self.open_session(context, now);
        let new_device = success.known_device.is_none().then(|| self.new_device(now));
        // Each session revoked to stay under the limit gets this event, with its id.
        let limit_event = AuditRow::new(AuditEvent::SessionRevoked, context, now)
            .user(user.id)
            .reason("session_limit");
        let login = Login {
            user_id: user.id,
            verified_hash: &user.hashed_password,
            rehashed_password: rehashed.as_ref().map(HashedPassword::as_str),
            cleared_counters: &success.cleared_counters,
            events: &events,
            new_device: new_device.as_ref().map(DeviceIssue::new_device),
            limit: Some(SessionLimit {
                max: inner.config.max_sessions_per_user.max(1),
                idle_since: self.idle_since(now),
                event: limit_event.as_new(),
            }),
        };
        let opened = guarded(
            &inner.breaker,
            &inner.pool,
            sessions::open_for_login(&inner.pool, login, opening.new_session()),
        )
        .await;
        let session = match opened {
            // Deactivated, deleted or given another password while this one was checked.
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
    pub(crate) async fn refuse(
        &self,
        context: &RequestContext,
        admission: Admission,
        refused: Refused,
        user_id: Option<i64>,
    ) -> LoginError {
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
        LoginError::InvalidCredentials
    }
}
