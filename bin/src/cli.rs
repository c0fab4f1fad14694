//! The command line: `auth-service` (or `auth-service serve`) runs the server; the other
//! commands migrate, check the configuration, probe a running instance, or manage accounts
//! and keys, all with the server's settings (environment and `.env`).

use clap::{Parser, Subcommand};

use auth_services::UserRef;

use crate::admin::parse_user;

/// The auth service's command line.
#[derive(Debug, Parser)]
#[command(
    name = "auth-service",
    version,
    about = "Authentication service: serves the HTTP API, or runs an admin command.",
    long_about = None
)]
pub struct Cli {
    /// What to do; the server when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// The command to run: [`Command::Serve`] when none was given.
    pub fn into_command(self) -> Command {
        self.command.unwrap_or(Command::Serve)
    }
}

/// A top-level command.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Serve the HTTP API until SIGINT or SIGTERM (the default).
    Serve,
    /// Apply pending database migrations, print what was applied, and exit.
    Migrate,
    /// Print the effective configuration (secrets redacted) and exit; exit 1 with the reason
    /// when a setting is invalid.
    CheckConfig,
    /// Exit 0 when the instance configured by HOST and PORT answers 200 on /health/ready,
    /// 1 otherwise: a container health check that needs no curl.
    Healthcheck {
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=60))]
        timeout: u64,
    },
    /// Manage accounts, using the server's settings (migrates the database first unless
    /// `MIGRATE_ON_START=false`).
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Manage the EdDSA / ES256 signing keys, using the server's settings.
    #[command(subcommand)]
    Keys(KeysCommand),
}

/// A `keys` command.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum KeysCommand {
    /// Show every signing key and its state (pending, active, retiring, retired, revoked).
    List,
    /// Publish a new key now; it signs after twice the JWKS max-age, with no downtime.
    Rotate,
    /// Withdraw a key at once (compromised): its tokens are refused. A revoked signing key
    /// is replaced by a new one immediately.
    Revoke {
        /// The key id, as `keys list` shows it.
        kid: String,
    },
}

/// An `admin` command.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum AdminCommand {
    /// Disable an account and revoke all of its sessions at once.
    Deactivate {
        /// `id:<number>` for a user id, an email (contains @), otherwise a username (so `1337`
        /// is a username).
        #[arg(value_name = "USER", value_parser = parse_user)]
        user: UserRef,
    },
    /// Enable an account again (its revoked sessions stay revoked).
    Activate {
        /// `id:<number>` for a user id, an email (contains @), otherwise a username (so `1337`
        /// is a username).
        #[arg(value_name = "USER", value_parser = parse_user)]
        user: UserRef,
    },
    /// Lift an account's lock, delays and throttling counters after failed logins.
    Unlock {
        /// `id:<number>` for a user id, an email (contains @), otherwise a username (so `1337`
        /// is a username).
        #[arg(value_name = "USER", value_parser = parse_user)]
        user: UserRef,
    },
    /// List an account's live sessions: id, opened, last used, expiry, address, client.
    Sessions {
        /// `id:<number>` for a user id, an email (contains @), otherwise a username (so `1337`
        /// is a username).
        #[arg(value_name = "USER", value_parser = parse_user)]
        user: UserRef,
    },
    /// Sign an account out everywhere: revoke all of its sessions (it stays active).
    RevokeSessions {
        /// `id:<number>` for a user id, an email (contains @), otherwise a username (so `1337`
        /// is a username).
        #[arg(value_name = "USER", value_parser = parse_user)]
        user: UserRef,
    },
    /// Set an account's password, read from standard input (never from the command line),
    /// revoke all of its sessions and lift its lock.
    SetPassword {
        /// `id:<number>` for a user id, an email (contains @), otherwise a username (so `1337`
        /// is a username).
        #[arg(value_name = "USER", value_parser = parse_user)]
        user: UserRef,
    },
    /// Delete expired sessions and device tokens, idle throttle counters and audit events
    /// past `AUDIT_RETENTION_DAYS` now, and print how many rows went per table.
    Purge,
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory as _, Parser as _};

    use super::{AdminCommand, Cli, Command};
    use auth_services::{UserId, UserRef};

    fn parse(args: &[&str]) -> Result<Command, clap::Error> {
        Cli::try_parse_from(std::iter::once("auth-service").chain(args.iter().copied()))
            .map(Cli::into_command)
    }

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn no_arguments_and_serve_both_run_the_server() {
        assert_eq!(parse(&[]).unwrap(), Command::Serve);
        assert_eq!(parse(&["serve"]).unwrap(), Command::Serve);
    }

    #[test]
    fn operations_commands_parse_and_bound_their_options() {
        assert_eq!(parse(&["migrate"]).unwrap(), Command::Migrate);
        assert_eq!(parse(&["check-config"]).unwrap(), Command::CheckConfig);
        assert_eq!(
            parse(&["healthcheck"]).unwrap(),
            Command::Healthcheck { timeout: 3 }
        );
        assert_eq!(
            parse(&["healthcheck", "--timeout", "10"]).unwrap(),
            Command::Healthcheck { timeout: 10 }
        );
        for bad in ["0", "61", "x"] {
            assert!(parse(&["healthcheck", "--timeout", bad]).is_err(), "{bad}");
        }
        assert!(parse(&["migrate", "now"]).is_err());
    }

    #[test]
    fn session_and_password_commands_take_a_user_and_no_password_argument() {
        let ann = UserRef::Username("ann".into());
        assert_eq!(
            parse(&["admin", "sessions", "ann"]).unwrap(),
            Command::Admin(AdminCommand::Sessions { user: ann.clone() })
        );
        assert_eq!(
            parse(&["admin", "revoke-sessions", "ann"]).unwrap(),
            Command::Admin(AdminCommand::RevokeSessions { user: ann.clone() })
        );
        assert_eq!(
            parse(&["admin", "set-password", "ann"]).unwrap(),
            Command::Admin(AdminCommand::SetPassword { user: ann })
        );
        // A password on the command line would land in shell history and `ps`: refused.
        assert!(parse(&["admin", "set-password", "ann", "hunter2hunter2"]).is_err());
        assert!(parse(&["admin", "set-password", "ann", "--password", "x"]).is_err());
    }

    #[test]
    fn admin_commands_take_an_id_an_email_or_a_username() {
        assert_eq!(
            parse(&["admin", "deactivate", "id:42"]).unwrap(),
            Command::Admin(AdminCommand::Deactivate {
                user: UserRef::Id(UserId::new(42))
            })
        );
        assert_eq!(
            parse(&["admin", "deactivate", "1337"]).unwrap(),
            Command::Admin(AdminCommand::Deactivate {
                user: UserRef::Username("1337".into())
            })
        );
        assert_eq!(
            parse(&["admin", "deactivate", "ann@example.com"]).unwrap(),
            Command::Admin(AdminCommand::Deactivate {
                user: UserRef::Email("ann@example.com".into())
            })
        );
        assert_eq!(
            parse(&["admin", "activate", "ann"]).unwrap(),
            Command::Admin(AdminCommand::Activate {
                user: UserRef::Username("ann".into())
            })
        );
        assert_eq!(
            parse(&["admin", "unlock", "ann"]).unwrap(),
            Command::Admin(AdminCommand::Unlock {
                user: UserRef::Username("ann".into())
            })
        );
    }

    #[test]
    fn missing_or_extra_arguments_and_unknown_commands_are_refused() {
        for args in [
            &["admin", "deactivate"][..],
            &["admin", "deactivate", "ann", "bo"],
            &["admin", "deactivate", ""],
            &["admin", "deactivate", "id:ann"],
            &["admin", "delete", "ann"],
            &["admin"],
            &["serve", "now"],
            &["frobnicate"],
        ] {
            assert!(parse(args).is_err(), "{args:?}");
        }
    }

    #[test]
    fn help_and_version_are_answered_by_clap() {
        let help = parse(&["--help"]).unwrap_err();
        assert_eq!(help.kind(), clap::error::ErrorKind::DisplayHelp);
        assert!(help.to_string().contains("admin"));
        let help = parse(&["admin", "deactivate", "--help"]).unwrap_err();
        assert!(help.to_string().contains("id:<number>"), "{help}");
        let version = parse(&["--version"]).unwrap_err();
        assert_eq!(version.kind(), clap::error::ErrorKind::DisplayVersion);
    }
}
