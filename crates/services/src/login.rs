//! Sign-in: look the account up, count the attempt, check the password, then open a session.
//!
//! Unknown user, wrong password, inactive and locked account give the same answer after the
//! same work (one password verification each). Only the log and the audit trail learn why.

use auth_crypto::{HashedPassword, PasswordForm, Verification};
use auth_persistence::sessions::{self, Login};
use auth_persistence::users::{self, UserRecord};
use secrecy::SecretString;

use crate::audit::{AuditEvent, AuditRow};
use crate::auth::record_ids;
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
        let account = found
            .as_ref()
            .map_or(Account::Unknown(&input.identifier), |user| {
                Account::User(user.id)
            });
        let admission = inner.throttle.admit_login(ip, &account).await?;
        let Some(user) = found else {
            inner.hashing.dummy_verify(input.password).await?;
            return self
                .refuse(context, admission, Refused::UnknownUser, None)
                .await;
        };
        tracing::Span::current().record("user_id", user.id);
        // A locked account still costs one verification, so it answers like a wrong password
        // in time as well as in content. One verification, of the form the hash was made from.
        let form = if user.password_normalized {
            PasswordForm::Normalized
        } else {
            PasswordForm::Raw
        };
        let verdict = inner
            .hashing
            .verify(input.password.clone(), user.hashed_password.clone(), form)
            .await?;
        let refused = match (admission, verdict) {
            (Admission::Locked, _) => Refused::Locked,
            (_, Verification::Match { needs_rehash }) if user.is_active => {
                // A hash of the raw password is replaced by one of its NFKC form.
                let needs_rehash = needs_rehash || !user.password_normalized;
                let success_keys = inner.throttle.success_keys(ip, &account);
                return self
                    .open(context, user, needs_rehash, input.password, &success_keys)
                    .await;
            }
            (_, Verification::Match { .. }) => Refused::Inactive,
            (_, Verification::Mismatch) => Refused::WrongPassword,
        };
        self.refuse(context, admission, refused, Some(user.id))
            .await
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
    /// events, the upgraded hash (if any) and the reset of its throttle counters.
    async fn open(
        &self,
        context: &RequestContext,
        user: UserRecord,
        needs_rehash: bool,
        password: SecretString,
        success_keys: &[String],
    ) -> Result<AuthSession, LoginError> {
        let inner = &self.inner;
        let rehashed = if needs_rehash {
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
        let login = Login {
            user_id: user.id,
            rehashed_password: rehashed.as_ref().map(HashedPassword::as_str),
            cleared_counters: success_keys,
            events: &events,
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
        Ok(self.issue_pair(user, &session, &opening.jti)?)
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
