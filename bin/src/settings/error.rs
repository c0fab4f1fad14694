//! The one error that stops the binary at start when its configuration is wrong.
//!
//! `main` prints it as a single line, so every variant's `Display` names what to fix and never
//! spans lines or shows a secret.

use std::fmt;
use std::path::PathBuf;

/// The longest echoed value, in characters; longer values are cut with `…`.
const MAX_ECHO_CHARS: usize = 120;

/// A configuration problem, reported as one line naming the variable (or file) to fix.
///
/// ```
/// use auth_service::settings::ConfigError;
///
/// let err = ConfigError::invalid("PORT", "abc", "expected an integer from 0 to 65535");
/// assert_eq!(err.to_string(), r#"invalid PORT="abc": expected an integer from 0 to 65535"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A variable is set to a value that cannot be used.
    #[error("invalid {var}{}: {expected}", Echo(value.as_deref()))]
    Invalid {
        /// The environment variable, e.g. `PORT`.
        var: &'static str,
        /// The offending value, safe to print (`None` for secrets). Shown quoted and escaped.
        value: Option<String>,
        /// What would have been accepted, e.g. `expected an integer from 0 to 65535`.
        expected: String,
    },
    /// A variable that is optional in general is required by the rest of the configuration.
    #[error("missing {var}: {why}")]
    Missing {
        /// The environment variable, e.g. `JWT_SECRET_KEY`.
        var: &'static str,
        /// Why it is needed, e.g. `required with a PostgreSQL DATABASE_URL`.
        why: String,
    },
    /// Two variables whose values are fine alone but not together.
    #[error("{var} must be below {other}: {why}")]
    Conflict {
        /// The variable reported as the one to fix, e.g. `REQUEST_TIMEOUT_SECONDS`.
        var: &'static str,
        /// The variable it conflicts with, e.g. `REFRESH_REUSE_GRACE_SECONDS`.
        other: &'static str,
        /// Both values and why they clash.
        why: String,
    },
    /// A generated key file beside the SQLite database (the JWT key, or the key-encryption
    /// key) cannot be read, written or used.
    #[error(
        "{} file {}: {problem} (fix or delete it, or set {var})",
        key_name(var),
        Quoted(path)
    )]
    KeyFile {
        /// The variable the file stands in for: `JWT_SECRET_KEY` or `JWT_KEY_ENCRYPTION_KEY`.
        var: &'static str,
        /// The key file, e.g. `auth.db.jwt-key`.
        path: PathBuf,
        /// What went wrong, e.g. `holds 12 bytes, expected at least 32`.
        problem: String,
    },
}

impl ConfigError {
    /// An [`Invalid`](Self::Invalid) error that echoes `value` (which must not be a secret).
    pub fn invalid(var: &'static str, value: &str, expected: impl Into<String>) -> Self {
        Self::Invalid {
            var,
            value: Some(value.to_owned()),
            expected: expected.into(),
        }
    }

    /// An [`Invalid`](Self::Invalid) error that does not show the value, for secrets.
    pub fn invalid_secret(var: &'static str, expected: impl Into<String>) -> Self {
        Self::Invalid {
            var,
            value: None,
            expected: expected.into(),
        }
    }

    /// A [`KeyFile`](Self::KeyFile) error for `path`.
    pub fn key_file(path: impl Into<PathBuf>, problem: impl fmt::Display) -> Self {
        Self::key_file_for("JWT_SECRET_KEY", path, problem)
    }

    /// A [`KeyFile`](Self::KeyFile) error for the file standing in for `var`.
    pub fn key_file_for(
        var: &'static str,
        path: impl Into<PathBuf>,
        problem: impl fmt::Display,
    ) -> Self {
        Self::KeyFile {
            var,
            path: path.into(),
            problem: problem.to_string().replace(['\n', '\r'], " "),
        }
    }

    /// The variable to fix (the one a key file stands in for, for a key-file problem).
    pub fn var(&self) -> &'static str {
        match self {
            Self::Invalid { var, .. }
            | Self::Missing { var, .. }
            | Self::Conflict { var, .. }
            | Self::KeyFile { var, .. } => var,
        }
    }
}

/// What a key file holds, for its error line.
fn key_name(var: &str) -> &'static str {
    if var == "JWT_KEY_ENCRYPTION_KEY" {
        "JWT key-encryption key"
    } else {
        "JWT key"
    }
}

/// Shows `="value"` with quotes and control characters escaped, cut to [`MAX_ECHO_CHARS`].
struct Echo<'a>(Option<&'a str>);

impl fmt::Display for Echo<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(value) = self.0 else {
            return Ok(());
        };
        match value.char_indices().nth(MAX_ECHO_CHARS) {
            Some((cut, _)) => write!(f, "={:?}…", &value[..cut]),
            None => write!(f, "={value:?}"),
        }
    }
}

/// Shows a path quoted and escaped, so it stays on one line.
struct Quoted<'a>(&'a PathBuf);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0.display().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::ConfigError;

    #[test]
    fn invalid_names_the_variable_and_quotes_the_value() {
        let err = ConfigError::invalid("PORT", "abc", "expected an integer from 0 to 65535");
        assert_eq!(
            err.to_string(),
            r#"invalid PORT="abc": expected an integer from 0 to 65535"#
        );
        assert_eq!(err.var(), "PORT");
    }

    #[test]
    fn a_secret_value_is_never_shown() {
        let err =
            ConfigError::invalid_secret("JWT_SECRET_KEY", "must be at least 32 bytes (got 5)");
        assert_eq!(
            err.to_string(),
            "invalid JWT_SECRET_KEY: must be at least 32 bytes (got 5)"
        );
    }

    #[test]
    fn control_characters_in_a_value_stay_on_one_line() {
        let err = ConfigError::invalid("HOST", "a\nb\"c", "expected an IP address");
        let shown = err.to_string();
        assert!(!shown.contains('\n'), "{shown}");
        assert!(shown.contains(r#""a\nb\"c""#), "{shown}");
    }

    #[test]
    fn a_very_long_value_is_cut() {
        let err = ConfigError::invalid("API_TITLE", &"x".repeat(1000), "expected less");
        let shown = err.to_string();
        assert!(shown.len() < 250, "{shown}");
        assert!(shown.contains('…'));
    }

    #[test]
    fn a_key_file_problem_names_the_file_on_one_line() {
        let err = ConfigError::key_file("/tmp/a b/auth.db.jwt-key", "cannot read:\nno access");
        let shown = err.to_string();
        assert!(shown.contains(r#""/tmp/a b/auth.db.jwt-key""#), "{shown}");
        assert!(!shown.contains('\n'), "{shown}");
        assert_eq!(err.var(), "JWT_SECRET_KEY");
    }
}
