//! Account look-ups and creation, guarded by the circuit breaker, in the domain's types.

use std::sync::Arc;

use auth_crypto::{Clock, HashedPassword};
use auth_persistence::DbPool;
use auth_persistence::users::{self, NewUser};
use auth_resilience::CircuitBreaker;

use crate::error::{DbError, Fault, RegisterError};
use crate::guard::guarded;
use crate::{Email, User, UserId, Username};

/// Reads and creates accounts. Look-ups of email and username ignore case; a missing user is
/// `None`, never an error. No password hash leaves this service.
#[derive(Debug, Clone)]
pub struct UserService {
    pool: DbPool,
    breaker: Arc<CircuitBreaker>,
}

impl UserService {
    /// A service on `pool`, every call through `breaker`.
    pub fn new(pool: DbPool, breaker: Arc<CircuitBreaker>) -> Self {
        Self { pool, breaker }
    }

    /// The user with key `id`.
    ///
    /// # Errors
    ///
    /// A [`Fault`] when the database fails or its breaker is open.
    #[tracing::instrument(name = "users.get_by_id", skip_all, fields(user_id = id.get()))]
    pub async fn get_by_id(&self, id: UserId) -> Result<Option<User>, Fault> {
        let found = guarded(
            &self.breaker,
            &self.pool,
            users::find_by_id(&self.pool, id.get()),
        )
        .await?;
        Ok(found.map(User::from))
    }

    /// The user with this email, ignoring case.
    ///
    /// # Errors
    ///
    /// As [`get_by_id`](Self::get_by_id).
    #[tracing::instrument(name = "users.get_by_email", skip_all)]
    pub async fn get_by_email(&self, email: &str) -> Result<Option<User>, Fault> {
        let found = guarded(
            &self.breaker,
            &self.pool,
            users::find_by_email(&self.pool, email),
        )
        .await?;
        Ok(found.map(User::from))
    }

    /// The user with this username, ignoring case.
    ///
    /// # Errors
    ///
    /// As [`get_by_id`](Self::get_by_id).
    #[tracing::instrument(name = "users.get_by_username", skip_all)]
    pub async fn get_by_username(&self, username: &str) -> Result<Option<User>, Fault> {
        let found = guarded(
            &self.breaker,
            &self.pool,
            users::find_by_username(&self.pool, username),
        )
        .await?;
        Ok(found.map(User::from))
    }

    /// Creates an account from validated values and a password hash made by
    /// `PasswordHasher::hash` (of the NFKC form, so stored as normalised), at `clock`'s now.
    ///
    /// # Errors
    ///
    /// [`RegisterError::UserExists`] when the email or username is taken (also by a
    /// concurrent request); [`RegisterError::Fault`] as for [`get_by_id`](Self::get_by_id).
    #[tracing::instrument(name = "users.create", skip_all, fields(user_id = tracing::field::Empty))]
    pub async fn create(
        &self,
        email: &Email,
        username: &Username,
        password_hash: &HashedPassword,
        clock: &dyn Clock,
    ) -> Result<User, RegisterError> {
        let new = NewUser {
            email: email.as_str(),
            username: username.as_str(),
            hashed_password: password_hash.as_str(),
            // `PasswordHasher::hash` hashes the NFKC form.
            password_normalized: true,
            now: clock.now(),
        };
        let created = match guarded(&self.breaker, &self.pool, users::insert(&self.pool, new)).await
        {
            Err(DbError::Conflict) => return Err(RegisterError::UserExists),
            other => other?,
        };
        tracing::Span::current().record("user_id", created.id);
        Ok(created.into())
    }
}
