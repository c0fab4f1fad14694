//! Account administration from the command line (`auth-service admin …`): disable an account
//! and revoke all of its sessions at once, enable it again, or lift a lock after failed logins.
//!
//! The actions take a [`UserService`], so tests run them on any database; [`run`] builds one
//! from the server's own settings, after migrating the database like the server does.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use auth_errors::AppError;
use auth_persistence::users::UserRecord;
use auth_resilience::{BreakerConfig, CircuitBreaker};
use auth_services::UserService;
use time::OffsetDateTime;

use crate::cli::AdminCommand;
use crate::settings::Settings;
use crate::startup::{self, StartupError};

/// How the operator names an account: only digits is an id, a value with `@` an email,
/// anything else a username. Email and username match without regard to case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserRef {
    /// The account's numeric key.
    Id(i64),
    /// The account's email.
    Email(String),
    /// The account's username.
    Username(String),
}

/// Why a `<USER>` argument was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserRefError {
    /// Nothing was given.
    #[error("expected a user id, email or username")]
    Empty,
    /// Only digits, but too many for an id.
    #[error("the id {0} is out of range")]
    IdOutOfRange(String),
}

impl FromStr for UserRef {
    type Err = UserRefError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let raw = raw.trim();
        if raw.is_empty() {
            Err(UserRefError::Empty)
        } else if raw.bytes().all(|b| b.is_ascii_digit()) {
            raw.parse()
                .map(Self::Id)
                .map_err(|_| UserRefError::IdOutOfRange(raw.to_owned()))
        } else if raw.contains('@') {
            Ok(Self::Email(raw.to_owned()))
        } else {
            Ok(Self::Username(raw.to_owned()))
        }
    }
}

impl fmt::Display for UserRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Id(id) => write!(f, "id {id}"),
            Self::Email(email) => write!(f, "email {email}"),
            Self::Username(username) => write!(f, "username {username}"),
        }
    }
}

/// Why an admin command failed. `Display` is one line for the operator.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// No account matches.
    #[error("no user with {0}")]
    UnknownUser(UserRef),
    /// The settings or the database were refused at start.
    #[error(transparent)]
    Startup(#[from] StartupError),
    /// The database failed during the command.
    #[error("{}", chain(.0))]
    Failed(#[from] AppError),
}

/// What a successful command did. `Display` is the line printed for the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The account is disabled and its sessions are revoked.
    Deactivated {
        /// The account's id.
        id: i64,
        /// The account's username.
        username: String,
        /// How many sessions were still open and are now revoked.
        sessions_revoked: usize,
    },
    /// The account's lock and throttling counters are cleared.
    Unlocked {
        /// The account's id.
        id: i64,
        /// The account's username.
        username: String,
        /// How many counters were cleared.
        counters_cleared: usize,
    },
    /// The account is enabled.
    Activated {
        /// The account's id.
        id: i64,
        /// The account's username.
        username: String,
    },
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Deactivated {
                id,
                username,
                sessions_revoked,
            } => {
                let noun = if *sessions_revoked == 1 {
                    "session"
                } else {
                    "sessions"
                };
                write!(
                    f,
                    "deactivated user {id} ({username}); revoked {sessions_revoked} {noun}"
                )
            }
            Self::Activated { id, username } => write!(f, "activated user {id} ({username})"),
            Self::Unlocked {
                id,
                username,
                counters_cleared,
            } => {
                write!(
                    f,
                    "unlocked user {id} ({username}); cleared {counters_cleared} counters"
                )
            }
        }
    }
}

/// The account `who` names.
///
/// # Errors
///
/// [`AdminError::UnknownUser`] when none matches; [`AdminError::Failed`] when the database
/// fails.
pub async fn find(users: &UserService, who: &UserRef) -> Result<UserRecord, AdminError> {
    let found = match who {
        UserRef::Id(id) => users.get_by_id(*id).await?,
        UserRef::Email(email) => users.get_by_email(email).await?,
        UserRef::Username(username) => users.get_by_username(username).await?,
    };
    found.ok_or_else(|| AdminError::UnknownUser(who.clone()))
}

/// Disables the account `who` names and revokes all of its sessions in one transaction: its
/// refresh tokens and access tokens stop working at once.
///
/// # Errors
///
/// As [`find`].
pub async fn deactivate(
    users: &UserService,
    who: &UserRef,
    at: OffsetDateTime,
) -> Result<Outcome, AdminError> {
    let user = find(users, who).await?;
    let sessions_revoked = users
        .deactivate(user.id, at)
        .await
        .map_err(|err| gone_or(err, who))?;
    Ok(Outcome::Deactivated {
        id: user.id,
        username: user.username,
        sessions_revoked,
    })
}

/// Enables the account `who` names again; its users sign in anew (revoked sessions stay
/// revoked).
///
/// # Errors
///
/// As [`find`].
pub async fn activate(
    users: &UserService,
    who: &UserRef,
    at: OffsetDateTime,
) -> Result<Outcome, AdminError> {
    let user = find(users, who).await?;
    users
        .activate(user.id, at)
        .await
        .map_err(|err| gone_or(err, who))?;
    Ok(Outcome::Activated {
        id: user.id,
        username: user.username,
    })
}

/// Lifts the lock, delays and throttling counters of the account `who` names.
///
/// # Errors
///
/// As [`find`].
pub async fn unlock(users: &UserService, who: &UserRef) -> Result<Outcome, AdminError> {
    let user = find(users, who).await?;
    let counters_cleared = users.unlock(&user).await?;
    Ok(Outcome::Unlocked {
        id: user.id,
        username: user.username,
        counters_cleared,
    })
}

/// Runs `command` on the database of `settings` (migrated first, as the server does).
///
/// # Errors
///
/// [`AdminError::Startup`] when the settings or the database are refused; otherwise as
/// [`deactivate`] and [`activate`].
pub async fn run(settings: &Settings, command: &AdminCommand) -> Result<Outcome, AdminError> {
    let (_, pool) = startup::database(settings).await?;
    let breaker = Arc::new(CircuitBreaker::new("database", BreakerConfig::default()));
    let users = UserService::new(pool.clone(), breaker);
    let now = OffsetDateTime::now_utc();
    let outcome = match command {
        AdminCommand::Deactivate { user } => deactivate(&users, user, now).await,
        AdminCommand::Activate { user } => activate(&users, user, now).await,
        AdminCommand::Unlock { user } => unlock(&users, user).await,
    };
    pool.close();
    outcome
}

/// A user deleted between look-up and update is still an unknown user.
fn gone_or(err: AppError, who: &UserRef) -> AdminError {
    match err {
        AppError::NotFound => AdminError::UnknownUser(who.clone()),
        other => AdminError::Failed(other),
    }
}

/// An error and its causes on one line.
fn chain(err: &AppError) -> String {
    let mut line = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        line.push_str(": ");
        line.push_str(&cause.to_string().replace('\n', " "));
        source = cause.source();
    }
    line
}

#[cfg(test)]
mod tests {
    use auth_errors::AppError;

    use super::{AdminError, Outcome, UserRef, UserRefError};

    #[test]
    fn digits_are_ids_at_signs_emails_and_the_rest_usernames() {
        assert_eq!("42".parse(), Ok(UserRef::Id(42)));
        assert_eq!(
            " Ann@Example.com ".parse(),
            Ok(UserRef::Email("Ann@Example.com".into()))
        );
        assert_eq!("ann.b-1".parse(), Ok(UserRef::Username("ann.b-1".into())));
        assert_eq!("-1".parse(), Ok(UserRef::Username("-1".into())));
        assert_eq!("".parse::<UserRef>(), Err(UserRefError::Empty));
        assert!(matches!(
            "99999999999999999999".parse::<UserRef>(),
            Err(UserRefError::IdOutOfRange(_))
        ));
    }

    #[test]
    fn outcomes_read_as_one_line_for_the_operator() {
        let one = Outcome::Deactivated {
            id: 42,
            username: "ann".into(),
            sessions_revoked: 1,
        };
        assert_eq!(
            one.to_string(),
            "deactivated user 42 (ann); revoked 1 session"
        );
        let none = Outcome::Deactivated {
            id: 42,
            username: "ann".into(),
            sessions_revoked: 0,
        };
        assert_eq!(
            none.to_string(),
            "deactivated user 42 (ann); revoked 0 sessions"
        );
        let back = Outcome::Activated {
            id: 7,
            username: "bo".into(),
        };
        assert_eq!(back.to_string(), "activated user 7 (bo)");
    }

    #[test]
    fn errors_name_the_user_and_the_database_cause() {
        let unknown = AdminError::UnknownUser(UserRef::Email("x@y.z".into()));
        assert_eq!(unknown.to_string(), "no user with email x@y.z");
        let down = AdminError::Failed(AppError::database_unavailable(std::io::Error::other(
            "connection refused",
        )));
        assert_eq!(down.to_string(), "database unavailable: connection refused");
    }
}
