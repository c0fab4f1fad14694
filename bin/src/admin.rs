//! Account administration from the command line (`auth-service admin …`): disable an account
//! and revoke all of its sessions at once, enable it again, lift a lock after failed logins,
//! list or end its sessions, or set its password for a user who lost it.
//!
//! The rules live in [`AdminService`]; this module parses the operator's words and prints
//! the result. The actions take an [`AdminService`], so tests run them on any database;
//! [`run`] builds one from the server's own settings, after migrating the database like the
//! server.

use std::fmt;
use std::io::{BufRead, IsTerminal as _};

use auth_services::{
    AdminService, Fault, Invalid, Purged, RequestContext, RetentionService, Session, UserId,
    UserRef,
};
use secrecy::SecretString;
use time::format_description::well_known::Rfc3339;

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
    /// The new password was refused (`set-password`).
    #[error("{}", refused(.0))]
    Refused(Invalid),
    /// The new password could not be read from standard input.
    #[error("cannot read the new password from standard input: {0}")]
    Input(String),
    /// The database failed during the command.
    #[error("{}", chain(.0))]
    Failed(#[from] Fault),
}

fn refused(invalid: &Invalid) -> String {
    let reasons: Vec<String> = invalid
        .0
        .iter()
        .map(|err| format!("{} {}", err.field, err.message))
        .collect();
    format!("password refused: {}", reasons.join("; "))
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
    /// The account's live sessions, newest first.
    Sessions {
        /// The account's id.
        id: i64,
        /// The account's username.
        username: String,
        /// Its live sessions.
        sessions: Vec<Session>,
    },
    /// Every session of the account is revoked.
    SessionsRevoked {
        /// The account's id.
        id: i64,
        /// The account's username.
        username: String,
        /// How many sessions were open and are now revoked.
        sessions_revoked: usize,
    },
    /// The account has a new password; its sessions are revoked and its lock lifted.
    PasswordSet {
        /// The account's id.
        id: i64,
        /// The account's username.
        username: String,
        /// How many sessions were open and are now revoked.
        sessions_revoked: usize,
    },
    /// Expired rows were deleted (`None`: another replica was purging; nothing was done).
    Purged(Option<Purged>),
}

/// `1 session`, `2 sessions`.
fn sessions(count: usize) -> String {
    let noun = if count == 1 { "session" } else { "sessions" };
    format!("{count} {noun}")
}

/// One line of `admin sessions`: id, opened, last used, expiry, address, client.
fn session_line(f: &mut fmt::Formatter<'_>, session: &Session) -> fmt::Result {
    let at = |t: time::OffsetDateTime| t.format(&Rfc3339).unwrap_or_else(|_| t.to_string());
    write!(
        f,
        "\n  {}  opened {}  last used {}  expires {}  from {}  client {}",
        session.id,
        at(session.created_at),
        at(session.last_used_at),
        at(session.expires_at),
        session.ip.as_deref().unwrap_or("-"),
        session.user_agent.as_deref().unwrap_or("-"),
    )
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
            Self::Sessions {
                id,
                username,
                sessions: live,
            } => {
                write!(
                    f,
                    "user {id} ({username}) has {} live",
                    sessions(live.len())
                )?;
                live.iter().try_for_each(|session| session_line(f, session))
            }
            Self::SessionsRevoked {
                id,
                username,
                sessions_revoked,
            } => write!(
                f,
                "signed user {id} ({username}) out everywhere; revoked {}",
                sessions(*sessions_revoked)
            ),
            Self::PasswordSet {
                id,
                username,
                sessions_revoked,
            } => write!(
                f,
                "set the password of user {id} ({username}); revoked {}",
                sessions(*sessions_revoked)
            ),
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

/// Lists the live sessions of the account `who` names.
///
/// # Errors
///
/// As [`deactivate`].
pub async fn list_sessions(admin: &AdminService, who: &UserRef) -> Result<Outcome, AdminError> {
    let (user, sessions) = admin.sessions(who).await.map_err(|err| failed(err, who))?;
    Ok(Outcome::Sessions {
        id: user.id.get(),
        username: user.username,
        sessions,
    })
}

/// Revokes every session of the account `who` names; the account stays active.
///
/// # Errors
///
/// As [`deactivate`].
pub async fn revoke_sessions(admin: &AdminService, who: &UserRef) -> Result<Outcome, AdminError> {
    let (user, sessions_revoked) = admin
        .revoke_sessions(&RequestContext::default(), who)
        .await
        .map_err(|err| failed(err, who))?;
    Ok(Outcome::SessionsRevoked {
        id: user.id.get(),
        username: user.username,
        sessions_revoked,
    })
}

/// Gives the account `who` names the password `password`, revokes its sessions and lifts its
/// lock.
///
/// # Errors
///
/// [`AdminError::Refused`] when the password breaks the policy; otherwise as [`deactivate`].
pub async fn set_password(
    admin: &AdminService,
    who: &UserRef,
    password: SecretString,
) -> Result<Outcome, AdminError> {
    let done = admin
        .set_password(&RequestContext::default(), who, password)
        .await
        .map_err(|err| failed(err, who))?;
    Ok(Outcome::PasswordSet {
        id: done.user.id.get(),
        username: done.user.username,
        sessions_revoked: done.sessions_revoked,
    })
}

/// Reads a new password: the first line of `input`, without its line ending. Nothing else on
/// the line is trimmed: spaces are part of a password.
///
/// # Errors
///
/// [`AdminError::Input`] when nothing can be read or the input is empty.
pub fn read_password(mut input: impl BufRead) -> Result<SecretString, AdminError> {
    let mut line = String::new();
    input
        .read_line(&mut line)
        .map_err(|err| AdminError::Input(err.to_string()))?;
    let password = line.strip_suffix('\n').map_or(line.as_str(), |rest| {
        rest.strip_suffix('\r').unwrap_or(rest)
    });
    if password.is_empty() {
        return Err(AdminError::Input("no password given".to_owned()));
    }
    Ok(SecretString::from(password.to_owned()))
}

/// The new password from standard input: typed without echo at a terminal, otherwise the
/// first line of what is piped in.
fn password_from_stdin() -> Result<SecretString, AdminError> {
    if std::io::stdin().is_terminal() {
        rpassword::prompt_password("New password: ")
            .map_err(|err| AdminError::Input(err.to_string()))
            .and_then(|typed| read_password(typed.as_bytes()))
    } else {
        read_password(std::io::stdin().lock())
    }
}

/// Deletes every expired row now, as the server's periodic purge does.
///
/// # Errors
///
/// [`AdminError::Failed`] when the database fails (batches already deleted stay deleted).
pub async fn purge(retention: &RetentionService) -> Result<Outcome, AdminError> {
    Ok(Outcome::Purged(retention.purge().await?))
}

/// Runs `command` on the database of `settings` (migrated first, as the server does, unless
/// `MIGRATE_ON_START=false`), with the server's own rules. `set-password` reads the new
/// password from standard input first.
///
/// # Errors
///
/// [`AdminError::Startup`] when the settings or the database are refused; otherwise as
/// the command's function.
pub async fn run(settings: &Settings, command: &AdminCommand) -> Result<Outcome, AdminError> {
    let password = match command {
        AdminCommand::SetPassword { .. } => Some(password_from_stdin()?),
        _ => None,
    };
    let (admin, pool) = startup::admin_service(settings).await?;
    let outcome = match command {
        AdminCommand::Deactivate { user } => deactivate(&admin, user).await,
        AdminCommand::Activate { user } => activate(&admin, user).await,
        AdminCommand::Unlock { user } => unlock(&admin, user).await,
        AdminCommand::Sessions { user } => list_sessions(&admin, user).await,
        AdminCommand::RevokeSessions { user } => revoke_sessions(&admin, user).await,
        AdminCommand::SetPassword { user } => match password {
            Some(password) => set_password(&admin, user, password).await,
            None => Err(AdminError::Input("no password given".to_owned())),
        },
        AdminCommand::Purge => purge(&startup::retention_service(settings, &pool)).await,
    };
    pool.close();
    outcome
}

fn failed(err: auth_services::AdminError, who: &UserRef) -> AdminError {
    match err {
        auth_services::AdminError::UnknownUser => AdminError::UnknownUser(who.clone()),
        auth_services::AdminError::Invalid(invalid) => AdminError::Refused(invalid),
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
