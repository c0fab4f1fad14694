//! Account administration from the command line (`auth-service admin …`): disable an account
//! and revoke all of its sessions at once, enable it again, or lift a lock after failed logins.
//!
//! The rules live in [`AdminService`]; this module parses the operator's words and prints
//! one line. The actions take an [`AdminService`], so tests run them on any database; [`run`]
//! builds one from the server's own settings, after migrating the database like the server.

use std::fmt;

use auth_services::{
    AdminService, Fault, Purged, RequestContext, RetentionService, UserId, UserRef,
};

use crate::cli::AdminCommand;
use crate::error::chain;
use crate::settings::Settings;
use crate::startup::{self, StartupError};

/// Reads a `<USER>` argument: `id:` and digits is an id, a value with `@` an email, anything
/// else a username. Usernames may be all digits, so a bare number is a username, never an id.
///
/// # Errors
///
/// [`UserRefError`] when nothing is given, or `id:` is not followed by an id in range.
pub fn parse_user(raw: &str) -> Result<UserRef, UserRefError> {
    let raw = raw.trim();
    if raw.is_empty() {
        Err(UserRefError::Empty)
    } else if let Some(digits) = raw.strip_prefix(ID_PREFIX) {
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(UserRefError::InvalidId(raw.to_owned()));
        }
        digits
            .parse()
            .map(|id| UserRef::Id(UserId::new(id)))
            .map_err(|_| UserRefError::InvalidId(raw.to_owned()))
    } else if raw.contains('@') {
        Ok(UserRef::Email(raw.to_owned()))
    } else {
        Ok(UserRef::Username(raw.to_owned()))
    }
}

/// What marks a `<USER>` argument as an id: `id:42`.
pub const ID_PREFIX: &str = "id:";

/// How the operator's `<USER>` reads back: `id 42`, `email …`, `username …`.
pub struct Described<'a>(pub &'a UserRef);

impl fmt::Display for Described<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            UserRef::Id(id) => write!(f, "id {id}"),
            UserRef::Email(email) => write!(f, "email {email}"),
            UserRef::Username(username) => write!(f, "username {username}"),
        }
    }
}

/// Why a `<USER>` argument was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserRefError {
    /// Nothing was given.
    #[error("expected id:<number>, an email or a username")]
    Empty,
    /// `id:` without a number in range after it.
    #[error("{0} is not an id: expected id: followed by a number in range")]
    InvalidId(String),
}

/// Why an admin command failed. `Display` is one line for the operator.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// No account matches.
    #[error("no user with {}", Described(.0))]
    UnknownUser(UserRef),
    /// The settings or the database were refused at start.
    #[error(transparent)]
    Startup(#[from] StartupError),
    /// The database failed during the command.
    #[error("{}", chain(.0))]
    Failed(#[from] Fault),
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
    /// Expired rows were deleted (`None`: another replica was purging; nothing was done).
    Purged(Option<Purged>),
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
            Self::Purged(None) => write!(f, "another instance is purging; nothing deleted"),
            Self::Purged(Some(p)) => write!(
                f,
                "purged sessions={} device_tokens={} throttles={} audit_events={}",
                p.sessions, p.device_tokens, p.throttles, p.audit_events
            ),
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

/// Disables the account `who` names and revokes all of its sessions in one transaction: its
/// refresh tokens and access tokens stop working at once.
///
/// # Errors
///
/// [`AdminError::UnknownUser`] when no account matches; [`AdminError::Failed`] when the
/// database fails.
pub async fn deactivate(admin: &AdminService, who: &UserRef) -> Result<Outcome, AdminError> {
    let done = admin
        .deactivate(&RequestContext::default(), who)
        .await
        .map_err(|err| failed(err, who))?;
    Ok(Outcome::Deactivated {
        id: done.user.id.get(),
        username: done.user.username,
        sessions_revoked: done.sessions_revoked,
    })
}

/// Enables the account `who` names again; its users sign in anew (revoked sessions stay
/// revoked).
///
/// # Errors
///
/// As [`deactivate`].
pub async fn activate(admin: &AdminService, who: &UserRef) -> Result<Outcome, AdminError> {
    let user = admin
        .activate(&RequestContext::default(), who)
        .await
        .map_err(|err| failed(err, who))?;
    Ok(Outcome::Activated {
        id: user.id.get(),
        username: user.username,
    })
}

/// Lifts the lock, delays and throttling counters of the account `who` names.
///
/// # Errors
///
/// As [`deactivate`].
pub async fn unlock(admin: &AdminService, who: &UserRef) -> Result<Outcome, AdminError> {
    let done = admin
        .unlock(&RequestContext::default(), who)
        .await
        .map_err(|err| failed(err, who))?;
    Ok(Outcome::Unlocked {
        id: done.user.id.get(),
        username: done.user.username,
        counters_cleared: done.counters_cleared,
    })
}

/// Deletes every expired row now, as the server's periodic purge does.
///
/// # Errors
///
/// [`AdminError::Failed`] when the database fails (batches already deleted stay deleted).
pub async fn purge(retention: &RetentionService) -> Result<Outcome, AdminError> {
    Ok(Outcome::Purged(retention.purge().await?))
}

/// Runs `command` on the database of `settings` (migrated first, as the server does), with
/// the server's own breaker settings.
///
/// # Errors
///
/// [`AdminError::Startup`] when the settings or the database are refused; otherwise as
/// [`deactivate`].
pub async fn run(settings: &Settings, command: &AdminCommand) -> Result<Outcome, AdminError> {
    let (admin, pool) = startup::admin_service(settings).await?;
    let outcome = match command {
        AdminCommand::Deactivate { user } => deactivate(&admin, user).await,
        AdminCommand::Activate { user } => activate(&admin, user).await,
        AdminCommand::Unlock { user } => unlock(&admin, user).await,
        AdminCommand::Purge => purge(&startup::retention_service(settings, &pool)).await,
    };
    pool.close();
    outcome
}

fn failed(err: auth_services::AdminError, who: &UserRef) -> AdminError {
    match err {
        auth_services::AdminError::UnknownUser => AdminError::UnknownUser(who.clone()),
        auth_services::AdminError::Fault(fault) => AdminError::Failed(fault),
    }
}

#[cfg(test)]
mod tests {
    use auth_services::{Fault, UserId};

    use super::{AdminError, Outcome, UserRef, UserRefError, parse_user};

    #[test]
    fn id_prefixed_numbers_are_ids_at_signs_emails_and_the_rest_usernames() {
        assert_eq!(parse_user("id:42"), Ok(UserRef::Id(UserId::new(42))));
        assert_eq!(parse_user(" id:7 "), Ok(UserRef::Id(UserId::new(7))));
        assert_eq!(parse_user("1337"), Ok(UserRef::Username("1337".into())));
        assert_eq!(
            parse_user(" Ann@Example.com "),
            Ok(UserRef::Email("Ann@Example.com".into()))
        );
        assert_eq!(
            parse_user("ann.b-1"),
            Ok(UserRef::Username("ann.b-1".into()))
        );
        assert_eq!(parse_user("-1"), Ok(UserRef::Username("-1".into())));
        assert_eq!(parse_user(""), Err(UserRefError::Empty));
        for bad in [
            "id:",
            "id:abc",
            "id:-1",
            "id:4 2",
            "id:99999999999999999999",
        ] {
            assert_eq!(
                parse_user(bad),
                Err(UserRefError::InvalidId(bad.into())),
                "{bad}"
            );
        }
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
        let down = AdminError::Failed(Fault::Unavailable(
            std::io::Error::other("connection refused").into(),
        ));
        assert_eq!(down.to_string(), "database unavailable: connection refused");
    }
}
