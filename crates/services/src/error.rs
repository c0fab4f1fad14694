//! What each operation can fail with: one enum per family, listing exactly its outcomes.
//!
//! Every enum names what happened in the domain's words; none speaks of HTTP. A transport maps
//! each variant to its own answer (the binary does it in one place). Failures of the
//! infrastructure underneath (an unreachable database, an open breaker, a hashing backend
//! that broke) are a [`Fault`], shared by all of them: the caller did nothing wrong.

use std::time::Duration;

use auth_errors::{FieldError, join_fields};
use auth_persistence::RepoError;
use auth_resilience::CircuitError;

/// Any error kept as a cause, for logs only.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// How long a client should wait after a database outage when nothing more precise is known.
const UNAVAILABLE_RETRY_AFTER: Duration = Duration::from_secs(5);
/// How long a client should wait after its sign-in was shed: the queue moves within a second.
const OVERLOADED_RETRY_AFTER: Duration = Duration::from_secs(1);

/// The infrastructure under an operation failed. `Display` never shows the cause, which is
/// kept as [`source`](std::error::Error::source) for logs.
#[derive(Debug, thiserror::Error)]
pub enum Fault {
    /// The database cannot be reached (refused connection, pool timeout, lock timeout).
    #[error("database unavailable")]
    Unavailable(#[source] BoxError),
    /// The database breaker is open and refuses calls for `retry_after` more.
    #[error("circuit breaker open")]
    CircuitOpen {
        /// Time until the breaker lets a trial call through.
        retry_after: Duration,
    },
    /// Every password-hashing worker is busy and the queue in front of them is full, or the
    /// wait for one ran out. Nothing was read or written: the request was shed before it
    /// touched the database or any throttling counter, so it is not a failed attempt.
    #[error("password hashing overloaded")]
    Overloaded,
    /// Anything else: an unexpected database answer, a failed hash or signature.
    #[error("internal failure")]
    Internal(#[source] BoxError),
}

impl Fault {
    /// An unexpected failure, kept for logs.
    pub fn internal(cause: impl Into<BoxError>) -> Self {
        Self::Internal(cause.into())
    }

    /// How long a client should wait before retrying; `None` for an internal failure, which
    /// a retry will not cure.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Unavailable(_) => Some(UNAVAILABLE_RETRY_AFTER),
            Self::CircuitOpen { retry_after } => Some(*retry_after),
            Self::Overloaded => Some(OVERLOADED_RETRY_AFTER),
            Self::Internal(_) => None,
        }
    }
}

/// Input that breaks the rules, one entry per failing field. Messages never echo the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid input: {}", join_fields(.0))]
pub struct Invalid(pub Vec<FieldError>);

impl Invalid {
    /// One failing field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self(vec![FieldError::new(field, message)])
    }
}

/// Why [`register`](crate::AuthService::register) failed.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// The password cannot be hashed by the configured scheme (bcrypt over 72 bytes).
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// The email or username is taken, whatever the case (also by a concurrent request).
    #[error("user already exists")]
    UserExists,
    /// This client address spent its registration budget.
    #[error("rate limited")]
    RateLimited {
        /// Time until the budget allows another attempt.
        retry_after: Duration,
    },
    /// The infrastructure failed.
    #[error(transparent)]
    Fault(#[from] Fault),
}

/// Why [`login`](crate::AuthService::login) failed.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown user, wrong password, inactive or locked account: one answer for all.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Too many attempts (per address, per address and account, or account delays).
    #[error("rate limited")]
    RateLimited {
        /// Time until the next attempt may be checked.
        retry_after: Duration,
    },
    /// The infrastructure failed; never disguised as a credentials failure.
    #[error(transparent)]
    Fault(#[from] Fault),
}

/// Why [`refresh`](crate::AuthService::refresh) or [`logout`](crate::AuthService::logout)
/// failed.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// Garbage, tampered with, of the wrong kind, revoked, reused after the grace window, or
    /// its user is inactive or gone.
    #[error("invalid token")]
    InvalidToken,
    /// Past its expiry.
    #[error("token expired")]
    TokenExpired,
    /// This client address spent its refresh budget.
    #[error("rate limited")]
    RateLimited {
        /// Time until the budget allows another attempt.
        retry_after: Duration,
    },
    /// The infrastructure failed.
    #[error(transparent)]
    Fault(#[from] Fault),
}

/// Why an access token was refused ([`authenticate`](crate::AuthService::authenticate),
/// [`me`](crate::AuthService::me)).
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Malformed, tampered with, a refresh token, its session revoked or ended, or its user
    /// inactive or gone.
    #[error("invalid token")]
    InvalidToken,
    /// Past its expiry.
    #[error("token expired")]
    TokenExpired,
    /// The infrastructure failed.
    #[error(transparent)]
    Fault(#[from] Fault),
}

/// Why an administrative action failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// No account matches.
    #[error("no such user")]
    UnknownUser,
    /// The new password breaks the rules (`set_password`).
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// The infrastructure failed.
    #[error(transparent)]
    Fault(#[from] Fault),
}

/// Why a self-service operation of a signed-in user failed (change the password, list or
/// end sessions, delete the account).
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The new password breaks the rules or equals the current one.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// The password given to prove the request is wrong, or the account is locked: the same
    /// answer as a failed sign-in, and counted as one.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Too many password attempts (the sign-in throttling layers).
    #[error("rate limited")]
    RateLimited {
        /// Time until the next attempt may be checked.
        retry_after: Duration,
    },
    /// The session named is not one of the caller's live sessions.
    #[error("no such session")]
    SessionNotFound,
    /// The caller's session or account ended while the request ran.
    #[error("invalid token")]
    InvalidToken,
    /// The infrastructure failed.
    #[error(transparent)]
    Fault(#[from] Fault),
}

impl From<LoginError> for AccountError {
    /// The sign-in machinery's answers, as a password check of a signed-in user gives them.
    fn from(err: LoginError) -> Self {
        match err {
            LoginError::InvalidCredentials => Self::InvalidCredentials,
            LoginError::RateLimited { retry_after } => Self::RateLimited { retry_after },
            LoginError::Fault(fault) => Self::Fault(fault),
        }
    }
}

/// A repository call made through the breaker failed: an answer the caller may expect
/// (`Conflict`, `NotFound`), or a fault.
#[derive(Debug)]
pub(crate) enum DbError {
    /// A unique constraint refused the write.
    Conflict,
    /// The row is missing.
    NotFound,
    /// The database failed or the breaker is open.
    Fault(Fault),
}

impl From<CircuitError<RepoError>> for DbError {
    fn from(err: CircuitError<RepoError>) -> Self {
        match err {
            CircuitError::Open { retry_after } => Self::Fault(Fault::CircuitOpen { retry_after }),
            CircuitError::Inner(RepoError::Conflict) => Self::Conflict,
            CircuitError::Inner(RepoError::NotFound) => Self::NotFound,
            CircuitError::Inner(err @ RepoError::Unavailable(_)) => {
                Self::Fault(Fault::Unavailable(err.into()))
            }
            CircuitError::Inner(other) => Self::Fault(Fault::internal(other)),
        }
    }
}

impl From<DbError> for Fault {
    /// A conflict or a missing row where the caller expected none is a fault too.
    fn from(err: DbError) -> Self {
        match err {
            DbError::Fault(fault) => fault,
            DbError::Conflict => Fault::internal("unexpected unique-constraint conflict"),
            DbError::NotFound => Fault::internal("unexpected missing row"),
        }
    }
}

/// `From<DbError>` through [`Fault`] for the operation errors, so `?` works on repository
/// calls whose conflicts and missing rows the operation does not expect.
macro_rules! from_db_error {
    ($($error:ty),+) => {$(
        impl From<DbError> for $error {
            fn from(err: DbError) -> Self {
                Self::Fault(err.into())
            }
        }
    )+};
}

from_db_error!(
    RegisterError,
    LoginError,
    RefreshError,
    TokenError,
    AdminError,
    AccountError
);

#[cfg(test)]
mod tests {
    use std::error::Error as _;
    use std::time::Duration;

    use auth_persistence::RepoError;
    use auth_resilience::CircuitError;

    use super::{DbError, Fault};

    #[test]
    fn an_open_breaker_and_an_outage_are_retryable_faults() {
        let open = DbError::from(CircuitError::<RepoError>::Open {
            retry_after: Duration::from_millis(1500),
        });
        let fault = Fault::from(open);
        assert_eq!(fault.retry_after(), Some(Duration::from_millis(1500)));
        let outage = RepoError::Unavailable(std::io::Error::other("refused").into());
        let fault = Fault::from(DbError::from(CircuitError::Inner(outage)));
        assert!(matches!(fault, Fault::Unavailable(_)));
        assert_eq!(fault.retry_after(), Some(Duration::from_secs(5)));
    }

    #[test]
    fn conflicts_and_missing_rows_stay_answers_until_a_caller_calls_them_faults() {
        let conflict = DbError::from(CircuitError::Inner(RepoError::Conflict));
        assert!(matches!(conflict, DbError::Conflict));
        let missing = DbError::from(CircuitError::Inner(RepoError::NotFound));
        assert!(matches!(Fault::from(missing), Fault::Internal(_)));
    }

    #[test]
    fn causes_go_to_source_never_to_display() {
        let fault = Fault::internal(std::io::Error::other("password=hunter2"));
        assert_eq!(fault.to_string(), "internal failure");
        assert_eq!(fault.source().unwrap().to_string(), "password=hunter2");
        assert_eq!(fault.retry_after(), None);
    }
}
