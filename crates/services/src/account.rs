//! Account self-service: a signed-in user changes their password, lists and ends their
//! sessions, signs out everywhere, or deletes the account.
//!
//! Every operation starts from a [`Principal`] (an access token of a live session of an
//! active user). The two that take a password, changing it and deleting the account, check
//! it exactly as a sign-in does ([`AuthService::reauthenticate`]): the same throttling layers
//! count the attempt first, a delayed or locked account is refused as a sign-in would be, and
//! a wrong password is one failed sign-in, with the same answer after the same work.

use auth_crypto::{PasswordForm, Verification};
use auth_persistence::accounts::{self, AccountDeletion, PasswordChange};
use auth_persistence::sessions::RevokeReason;
use auth_persistence::users::UserRecord;
use secrecy::SecretString;

use crate::audit::{AuditEvent, AuditRow};
use crate::error::{AccountError, DbError, Invalid};
use crate::guard::guarded;
use crate::hashing::HashError;
use crate::login::{Bucket, Refused};
use crate::throttle::{Admission, Budget, Throttle};
use crate::{
    AccountDeletionInput, AuthService, LoginIdentifier, PasswordChangeInput, Principal,
    RequestContext, Session,
};

/// A password proven again by a signed-in user.
struct Proven {
    /// The account, as read before the check; its hash is the one the password matched.
    user: UserRecord,
    /// Throttle counters the proof starts over, as a successful sign-in does.
    cleared_counters: Vec<String>,
    /// The id of the caller's live device token, if it presented one.
    device: Option<String>,
}

impl AuthService {
    /// Changes the caller's password.
    ///
    /// The current password is checked as a sign-in checks it. On success, in one
    /// transaction: the new password's hash (current scheme), every *other* session of the
    /// user revoked (their access tokens stop working at once), every device token revoked
    /// except the caller's own, the throttle counters a success clears, and the audit event
    /// `password_changed`.
    ///
    /// # Errors
    ///
    /// [`AccountError::InvalidCredentials`] for a wrong current password or a locked account
    /// (counted as a failed sign-in); [`AccountError::RateLimited`] when a throttling layer
    /// refuses the attempt; [`AccountError::Invalid`] when the configured scheme cannot take
    /// the new password (bcrypt over 72 bytes); [`AccountError::InvalidToken`] when the
    /// account ended meanwhile; [`AccountError::Fault`] when the infrastructure fails.
    #[tracing::instrument(name = "account.change_password", skip_all, fields(user_id = principal.user_id.get()))]
    pub async fn change_password(
        &self,
        context: &RequestContext,
        principal: &Principal,
        input: PasswordChangeInput,
    ) -> Result<(), AccountError> {
        let inner = &self.inner;
        let proven = self
            .reauthenticate(
                context,
                principal,
                input.current_password,
                input.device_token,
            )
            .await?;
        let hash = match inner
            .hashing
            .hash(input.new_password.secret().clone())
            .await
        {
            Ok(hash) => hash,
            Err(HashError::Invalid(invalid)) => return Err(on_new_password(invalid).into()),
            Err(HashError::Fault(fault)) => return Err(fault.into()),
        };
        let now = inner.clock.now();
        let row = AuditRow::new(AuditEvent::PasswordChanged, context, now)
            .user(proven.user.id)
            .session(principal.session_id.as_str());
        let events = [row.as_new()];
        let change = PasswordChange {
            user_id: proven.user.id,
            verified_hash: &proven.user.hashed_password,
            new_hash: hash.as_str(),
            keep_session: principal.session_id.as_str(),
            keep_device: proven.device.as_deref(),
            cleared_counters: &proven.cleared_counters,
            at: now,
            events: &events,
        };
        let revoked = match guarded(
            &inner.breaker,
            &inner.pool,
            accounts::change_password(&inner.pool, change),
        )
        .await
        {
            // Changed, deactivated or deleted while the password was being checked: the
            // password proven is no longer the account's.
            Err(DbError::NotFound) => return Err(AccountError::InvalidCredentials),
            other => other?,
        };
        row.log(None, None);
        tracing::info!(sessions_revoked = revoked, "password changed");
        Ok(())
    }

    /// The caller's live sessions, newest first, the caller's own marked `current`.
    ///
    /// # Errors
    ///
    /// [`AccountError::Fault`] when the infrastructure fails.
    #[tracing::instrument(name = "account.sessions", skip_all, fields(user_id = principal.user_id.get()))]
    pub async fn sessions(&self, principal: &Principal) -> Result<Vec<Session>, AccountError> {
        let inner = &self.inner;
        let now = inner.clock.now();
        let user_id = principal.user_id.get();
        let live = accounts::live_sessions(&inner.pool, user_id, now, self.idle_since(now));
        let live = guarded(&inner.breaker, &inner.pool, live).await?;
        Ok(live
            .into_iter()
            .map(|record| Session::of(record, &principal.session_id))
            .collect())
    }

    /// Ends one of the caller's live sessions (the caller's own too), with the audit event
    /// `session_revoked`.
    ///
    /// # Errors
    ///
    /// [`AccountError::SessionNotFound`] when `session_id` is not one of the caller's live
    /// sessions (someone else's looks exactly like an unknown one);
    /// [`AccountError::Fault`] when the infrastructure fails.
    #[tracing::instrument(name = "account.revoke_session", skip_all, fields(user_id = principal.user_id.get()))]
    pub async fn revoke_session(
        &self,
        context: &RequestContext,
        principal: &Principal,
        session_id: &str,
    ) -> Result<(), AccountError> {
        let inner = &self.inner;
        let now = inner.clock.now();
        let user_id = principal.user_id.get();
        let row = AuditRow::new(AuditEvent::SessionRevoked, context, now)
            .user(user_id)
            .session(session_id);
        let events = [row.as_new()];
        let revoke = accounts::revoke_session(
            &inner.pool,
            user_id,
            session_id,
            now,
            self.idle_since(now),
            &events,
        );
        if !guarded(&inner.breaker, &inner.pool, revoke).await? {
            return Err(AccountError::SessionNotFound);
        }
        row.log(None, None);
        Ok(())
    }

    /// Signs the caller out of every session, the current one included, with the audit
    /// event `logout_all`. Returns how many sessions were revoked.
    ///
    /// # Errors
    ///
    /// [`AccountError::Fault`] when the infrastructure fails.
    #[tracing::instrument(name = "account.logout_all", skip_all, fields(user_id = principal.user_id.get()))]
    pub async fn logout_all(
        &self,
        context: &RequestContext,
        principal: &Principal,
    ) -> Result<usize, AccountError> {
        let inner = &self.inner;
        let now = inner.clock.now();
        let user_id = principal.user_id.get();
        let row = AuditRow::new(AuditEvent::LogoutAll, context, now)
            .user(user_id)
            .session(principal.session_id.as_str());
        let events = [row.as_new()];
        let revoke = accounts::revoke_all_sessions(
            &inner.pool,
            user_id,
            RevokeReason::LogoutAll,
            now,
            &events,
        );
        let revoked = guarded(&inner.breaker, &inner.pool, revoke).await?;
        row.log(None, None);
        tracing::info!(sessions_revoked = revoked, "signed out everywhere");
        Ok(revoked)
    }

    /// Deletes the caller's account, proven with its password: the user, its sessions,
    /// device tokens and throttle counters go, in one transaction with the audit event
    /// `account_deleted`, which keeps the user id and nothing that names the person. The
    /// email and username are free again; the id is never handed out again.
    ///
    /// # Errors
    ///
    /// As [`change_password`](Self::change_password), except that no new password is
    /// judged.
    #[tracing::instrument(name = "account.delete", skip_all, fields(user_id = principal.user_id.get()))]
    pub async fn delete_account(
        &self,
        context: &RequestContext,
        principal: &Principal,
        input: AccountDeletionInput,
    ) -> Result<(), AccountError> {
        let inner = &self.inner;
        let proven = self
            .reauthenticate(context, principal, input.password, input.device_token)
            .await?;
        let row = AuditRow::new(AuditEvent::AccountDeleted, context, inner.clock.now())
            .user(proven.user.id);
        let deletion = AccountDeletion {
            user_id: proven.user.id,
            verified_hash: &proven.user.hashed_password,
            counters: Throttle::user_keys(principal.user_id),
            event: row.as_new(),
        };
        match guarded(
            &inner.breaker,
            &inner.pool,
            accounts::delete_account(&inner.pool, deletion),
        )
        .await
        {
            Err(DbError::NotFound) => return Err(AccountError::InvalidCredentials),
            other => other?,
        }
        row.log(None, None);
        tracing::info!("account deleted");
        Ok(())
    }

    /// Checks the password of the signed-in caller as a sign-in checks it: the address's
    /// sign-in budget is spent, the attempt is counted in the account's buckets (the device's
    /// own one when the caller presents its live device token), then exactly one
    /// verification runs on a hashing thread. A wrong password or a locked account is a
    /// failed sign-in, audited and counted as one.
    async fn reauthenticate(
        &self,
        context: &RequestContext,
        principal: &Principal,
        password: SecretString,
        device_token: Option<SecretString>,
    ) -> Result<Proven, AccountError> {
        let inner = &self.inner;
        let ip = context.client_ip;
        // A hashing thread first, as for a sign-in: a shed attempt reads and counts nothing.
        let slot = inner.hashing.slot().await?;
        inner.throttle.spend(Budget::Login, ip).await?;
        let user = self
            .live_user(principal.user_id.get())
            .await?
            .ok_or(AccountError::InvalidToken)?;
        let device = self.find_device(device_token.as_ref()).await?;
        let device = device
            .filter(|device| device.user_id == user.id && device.is_live(inner.clock.now()))
            .map(|device| device.id);
        let bucket = Bucket {
            user: Some(user.id),
            device: device.clone(),
            identifier: LoginIdentifier::Username(user.username.clone()),
        };
        let (admission, reservation) = self.admit(ip, bucket.clone()).await?;
        let form = if user.password_normalized {
            PasswordForm::Normalized
        } else {
            PasswordForm::Raw
        };
        let verdict = slot
            .verify(password, user.hashed_password.clone(), form)
            .await?;
        reservation.keep();
        let refused = match (admission, verdict) {
            (Admission::Locked, _) => Refused::Locked,
            (_, Verification::Match { .. }) => {
                let cleared_counters = inner.throttle.success_keys(ip, &bucket.account());
                return Ok(Proven {
                    user,
                    cleared_counters,
                    device,
                });
            }
            (_, Verification::Mismatch) => Refused::WrongPassword,
        };
        let refusal = self
            .refuse(context, admission, refused, Some(user.id))
            .await;
        Err(refusal.into())
    }
}

/// A hashing refusal of the new password, on the field that carries it.
fn on_new_password(invalid: Invalid) -> Invalid {
    Invalid(
        invalid
            .0
            .into_iter()
            .map(|err| auth_errors::FieldError::new("new_password", err.message))
            .collect(),
    )
}
