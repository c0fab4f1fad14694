//! The `keys` commands: list, rotate and revoke the signing keys of EdDSA and ES256, with the
//! server's settings. Their output is one line per key; private keys are never shown.

use std::fmt;

use auth_errors::timestamp;
use auth_services::{KeyInfo, KeysError};

use crate::cli::KeysCommand;
use crate::settings::Settings;
use crate::startup::{StartupError, keys_service};

/// What a `keys` command printed.
#[derive(Debug)]
pub struct KeysOutput(Vec<String>);

impl fmt::Display for KeysOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("\n"))
    }
}

/// Why a `keys` command failed; one line for the operator.
#[derive(Debug, thiserror::Error)]
pub enum KeysCommandError {
    /// The database or the settings.
    #[error("{0}")]
    Startup(#[from] StartupError),
    /// The key operation.
    #[error("{0}")]
    Keys(#[from] KeysError),
}

/// Runs `command` against the database of `settings`.
///
/// # Errors
///
/// See [`KeysCommandError`].
pub async fn run(
    settings: &Settings,
    command: &KeysCommand,
) -> Result<KeysOutput, KeysCommandError> {
    let (keys, pool) = keys_service(settings).await?;
    let result = match command {
        KeysCommand::List => keys.list().await.map(|all| {
            let mut lines = vec![format!(
                "{:<24} {:<6} {:<9} {:<24} {}",
                "KID", "ALG", "STATE", "SIGNS FROM", "RETIRES AFTER"
            )];
            lines.extend(all.iter().map(line));
            KeysOutput(lines)
        }),
        KeysCommand::Rotate => keys.rotate().await.map(|key| {
            KeysOutput(vec![format!(
                "key {} published; it signs from {}",
                key.kid,
                timestamp::format(key.activates_at)
            )])
        }),
        KeysCommand::Revoke { kid } => keys.revoke(kid).await.map(|key| {
            KeysOutput(vec![format!(
                "key {} revoked; its tokens are refused",
                key.kid
            )])
        }),
    };
    pool.close();
    Ok(result?)
}

/// One row of `keys list`.
fn line(key: &KeyInfo) -> String {
    let retires = key
        .retired_at
        .or(key.retire_after)
        .map_or_else(|| "-".to_owned(), timestamp::format);
    format!(
        "{:<24} {:<6} {:<9} {:<24} {}",
        key.kid,
        key.algorithm,
        key.state,
        timestamp::format(key.activates_at),
        retires
    )
}
