//! How to reach the database: the URL, which backend it names, and the pool's limits.

use std::fmt;
use std::time::Duration;

use crate::{RepoError, redact_url};

mod statement_timeout;

/// The database engine a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// PostgreSQL, through diesel-async's own driver (no libpq).
    Postgres,
    /// Embedded SQLite (bundled), in a file.
    Sqlite,
}

impl Backend {
    /// The backend's name for logs and readiness reports: `postgres` or `sqlite`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::Sqlite => "sqlite",
        }
    }
}

/// Connection settings of the data layer.
///
/// `Debug` hides any password in the URL, so the value is safe to log.
///
/// ```
/// use auth_persistence::{Backend, DbConfig};
///
/// let config = DbConfig::new("postgres://app:s3cret@db:5432/auth").unwrap();
/// assert_eq!(config.backend(), Backend::Postgres);
/// assert!(!format!("{config:?}").contains("s3cret"));
/// assert!(DbConfig::new("mysql://db/auth").is_err());
/// ```
#[derive(Clone)]
pub struct DbConfig {
    url: String,
    backend: Backend,
    /// Most connections the pool opens. SQLite has one writer at a time, so keep it small there.
    pub max_connections: usize,
    /// How long a request waits for a free connection (or a new one) before the database
    /// counts as unavailable.
    pub acquire_timeout: Duration,
    /// How long SQLite waits for another writer before giving up.
    pub sqlite_busy_timeout: Duration,
}

impl DbConfig {
    /// Settings for `url` with default limits: 10 connections on PostgreSQL, 4 on SQLite,
    /// a 5 s acquire timeout and a 5 s SQLite busy timeout.
    ///
    /// `url` is `postgres://…`, `postgresql://…` or `sqlite://PATH` (a relative path after
    /// `sqlite://` is relative to the working directory; `sqlite:///abs/path.db` is absolute).
    ///
    /// # Errors
    ///
    /// [`RepoError::UnsupportedUrl`] for any other scheme or an empty SQLite path.
    pub fn new(url: impl Into<String>) -> Result<Self, RepoError> {
        let url = url.into();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url
            .strip_prefix("sqlite://")
            .is_some_and(|path| !path.is_empty())
        {
            Backend::Sqlite
        } else {
            return Err(RepoError::UnsupportedUrl);
        };
        let max_connections = match backend {
            Backend::Postgres => 10,
            Backend::Sqlite => 4,
        };
        Ok(Self {
            url,
            backend,
            max_connections,
            acquire_timeout: Duration::from_secs(5),
            sqlite_busy_timeout: Duration::from_secs(5),
        })
    }

    /// The backend the URL names.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL as given. It may hold a password: do not log it.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// For SQLite, the file path after `sqlite://`.
    pub(crate) fn sqlite_path(&self) -> &str {
        self.url.strip_prefix("sqlite://").unwrap_or(&self.url)
    }

    /// For SQLite, creates the database file empty with mode 0600 (owner only) on unix when
    /// it does not exist yet, before SQLite opens it: SQLite would create it with the umask's
    /// mode (often world-readable), and gives the `-wal` and `-shm` files the database file's
    /// mode. An existing file is left as it is; `:memory:` and `file:` URIs are skipped.
    pub(crate) fn create_sqlite_file(&self) -> std::io::Result<()> {
        if self.backend != Backend::Sqlite {
            return Ok(());
        }
        create_sqlite_file_at(self.sqlite_path())
    }

    /// The URL with any password replaced by `***`, as [`redact_url`] shows it.
    pub fn redacted_url(&self) -> String {
        redact_url(&self.url)
    }
}

/// [`DbConfig::create_sqlite_file`] for the SQLite file at `path`.
pub(crate) fn create_sqlite_file_at(path: &str) -> std::io::Result<()> {
    if path == ":memory:" || path.starts_with("file:") {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

impl fmt::Debug for DbConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DbConfig")
            .field("url", &self.redacted_url())
            .field("backend", &self.backend)
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("sqlite_busy_timeout", &self.sqlite_busy_timeout)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::{Backend, DbConfig};

    #[test]
    fn the_scheme_picks_the_backend() {
        assert_eq!(
            DbConfig::new("postgresql://h/db").unwrap().backend(),
            Backend::Postgres
        );
        assert_eq!(
            DbConfig::new("sqlite://auth.db").unwrap().backend(),
            Backend::Sqlite
        );
        assert_eq!(
            DbConfig::new("sqlite://auth.db").unwrap().sqlite_path(),
            "auth.db"
        );
        assert_eq!(
            DbConfig::new("sqlite:///var/a.db").unwrap().sqlite_path(),
            "/var/a.db"
        );
        for bad in ["", "auth.db", "sqlite://", "mysql://h/db", "http://x"] {
            assert!(DbConfig::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_are_redacted() {
        let shown = |url: &str| DbConfig::new(url).unwrap().redacted_url();
        assert_eq!(
            shown("postgres://u:p@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(shown("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(shown("sqlite://auth.db"), "sqlite://auth.db");
    }

    #[cfg(unix)]
    #[test]
    fn a_new_sqlite_file_is_created_owner_only_and_an_existing_one_left_alone() {
        use std::os::unix::fs::PermissionsExt as _;

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth.db");
        let config = DbConfig::new(format!("sqlite://{}", path.display())).unwrap();
        config.create_sqlite_file().unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::write(&path, b"kept").unwrap();
        config.create_sqlite_file().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"kept");
        DbConfig::new("sqlite://:memory:")
            .unwrap()
            .create_sqlite_file()
            .unwrap();
        DbConfig::new("postgres://h/db")
            .unwrap()
            .create_sqlite_file()
            .unwrap();
    }
}
