//! How to reach the database: the URL, which backend it names, how PostgreSQL is protected
//! (`sslmode`, `sslrootcert`), and the pool's limits.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr as _;
use std::time::Duration;

use crate::pg::PgTarget;
use crate::tls::{SslMode, client_config};
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
/// A PostgreSQL URL may carry libpq's `sslmode` (`disable`, `prefer` (the default), `require`,
/// `verify-ca`, `verify-full`) and `sslrootcert` (a PEM file of trusted roots); see the
/// [`tls`](crate::SslMode) module for what each checks.
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
    /// PostgreSQL only: the `statement_timeout` set by
    /// [`with_statement_timeout`](Self::with_statement_timeout), if any.
    statement_timeout: Option<Duration>,
    /// PostgreSQL only: the driver's settings and the TLS checks.
    postgres: Option<PgTarget>,
    /// PostgreSQL only: the `sslmode` asked for.
    ssl_mode: Option<SslMode>,
    /// PostgreSQL only: the `sslrootcert` file, if any.
    ssl_root_cert: Option<PathBuf>,
}

impl DbConfig {
    /// Settings for `url` with default limits: 20 connections on PostgreSQL, 4 on SQLite,
    /// a 5 s acquire timeout and a 5 s SQLite busy timeout.
    ///
    /// `url` is `postgres://…`, `postgresql://…` or `sqlite://PATH` (a relative path after
    /// `sqlite://` is relative to the working directory; `sqlite:///abs/path.db` is absolute).
    ///
    /// # Errors
    ///
    /// [`RepoError::UnsupportedUrl`] for any other scheme or an empty SQLite path;
    /// [`RepoError::InvalidUrl`] for a PostgreSQL URL the driver cannot read, an unknown
    /// `sslmode`, or an `sslrootcert` file that cannot be read (or, for `verify-*` without
    /// it, no system roots).
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
            // Enough that concurrent commits share PostgreSQL's WAL flushes instead of queueing
            // for a connection: refresh along 32 chains gained 13-20% over 10 connections.
            Backend::Postgres => 20,
            Backend::Sqlite => 4,
        };
        let (postgres, ssl_mode, ssl_root_cert) = match backend {
            Backend::Postgres => {
                let parsed = postgres_target(&url)?;
                (Some(parsed.0), Some(parsed.1), parsed.2)
            }
            Backend::Sqlite => (None, None, None),
        };
        Ok(Self {
            url,
            backend,
            max_connections,
            acquire_timeout: Duration::from_secs(5),
            sqlite_busy_timeout: Duration::from_secs(5),
            statement_timeout: None,
            postgres,
            ssl_mode,
            ssl_root_cert,
        })
    }

    /// The longest one repository call may take, checkout included, measured by the client:
    /// the acquire timeout plus the server's own bound on the work (`statement_timeout` on
    /// PostgreSQL, the busy timeout on SQLite). A link that turned slow delays every packet
    /// without the server knowing, so only a client-side deadline ends such a call.
    ///
    /// `None` on PostgreSQL without a statement timeout (set with
    /// [`with_statement_timeout`](Self::with_statement_timeout)): statements may then run as
    /// long as they need, and only the caller's own timeout bounds them.
    ///
    /// ```
    /// use std::time::Duration;
    /// use auth_persistence::DbConfig;
    ///
    /// let pg = DbConfig::new("postgres://app@db/auth").unwrap();
    /// assert_eq!(pg.call_deadline(), None);
    /// let pg = pg.with_statement_timeout(Duration::from_secs(3));
    /// assert_eq!(pg.call_deadline(), Some(Duration::from_secs(8)));
    /// let sqlite = DbConfig::new("sqlite://auth.db").unwrap();
    /// assert_eq!(sqlite.call_deadline(), Some(Duration::from_secs(10)));
    /// ```
    pub fn call_deadline(&self) -> Option<Duration> {
        let server_bound = match self.backend {
            Backend::Postgres => self.statement_timeout?,
            Backend::Sqlite => self.sqlite_busy_timeout,
        };
        Some(self.acquire_timeout + server_bound)
    }

    /// The `sslmode` of a PostgreSQL URL (`prefer` when it names none); `None` for SQLite.
    pub fn ssl_mode(&self) -> Option<SslMode> {
        self.ssl_mode
    }

    /// For PostgreSQL, how to connect.
    pub(crate) fn postgres_target(&self) -> Result<&PgTarget, RepoError> {
        self.postgres.as_ref().ok_or(RepoError::UnsupportedUrl)
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

/// Reads a PostgreSQL URL: takes out `sslmode` and `sslrootcert` (tokio-postgres refuses
/// `verify-*` and does not know `sslrootcert`), gives the driver the rest and the mode it
/// knows, and builds the TLS checks the URL asked for.
fn postgres_target(url: &str) -> Result<(PgTarget, SslMode, Option<PathBuf>), RepoError> {
    let invalid = |message: String| RepoError::InvalidUrl(message);
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut kept = Vec::new();
    let (mut mode, mut root) = (SslMode::Prefer, None);
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = url::form_urlencoded::parse(pair.as_bytes())
            .next()
            .unwrap_or_default();
        match &*key {
            "sslmode" => mode = SslMode::parse(&value).map_err(invalid)?,
            "sslrootcert" => root = Some(PathBuf::from(value.into_owned())),
            _ => kept.push(pair),
        }
    }
    let driver_url = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    let mut driver = tokio_postgres::Config::from_str(&driver_url)
        .map_err(|e| invalid(format!("invalid PostgreSQL URL: {e}")))?;
    driver.ssl_mode(mode.for_driver());
    let tls = client_config(mode, root.as_deref()).map_err(invalid)?;
    Ok((PgTarget { driver, tls }, mode, root))
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
            .field("statement_timeout", &self.statement_timeout)
            .field("ssl_mode", &self.ssl_mode)
            .field("ssl_root_cert", &self.ssl_root_cert)
            .finish_non_exhaustive()
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

    fn invalid(url: &str) -> String {
        match DbConfig::new(url) {
            Err(crate::RepoError::InvalidUrl(why)) => why,
            other => panic!("expected an invalid URL, got {other:?}"),
        }
    }

    #[test]
    fn sslmode_defaults_to_prefer_and_reads_libpq_spellings() {
        use crate::SslMode;
        let mode = |url: &str| DbConfig::new(url).unwrap().ssl_mode();
        assert_eq!(mode("postgres://h/db"), Some(SslMode::Prefer));
        assert_eq!(
            mode("postgres://h/db?sslmode=disable"),
            Some(SslMode::Disable)
        );
        assert_eq!(
            mode("postgres://h/db?application_name=x&sslmode=require"),
            Some(SslMode::Require)
        );
        let snakeoil = "/etc/ssl/certs/ssl-cert-snakeoil.pem";
        for (text, expected) in [
            ("verify-ca", SslMode::VerifyCa),
            ("verify-full", SslMode::VerifyFull),
        ] {
            let url = format!("postgres://h/db?sslmode={text}&sslrootcert={snakeoil}");
            let config = DbConfig::new(url).unwrap();
            assert_eq!(config.ssl_mode(), Some(expected));
            // The driver is given what it knows: require, and no sslrootcert.
            let target = config.postgres_target().unwrap();
            assert_eq!(
                target.driver.get_ssl_mode(),
                tokio_postgres::config::SslMode::Require
            );
            assert!(target.tls.is_some());
        }
        let plain = DbConfig::new("postgres://h/db?sslmode=disable").unwrap();
        assert!(plain.postgres_target().unwrap().tls.is_none());
        assert_eq!(mode("sqlite://auth.db"), None);
    }

    #[test]
    fn an_unknown_sslmode_is_refused_with_the_accepted_values() {
        assert_eq!(
            invalid("postgres://h/db?sslmode=verify"),
            "unknown sslmode \"verify\" (expected disable, prefer, require, verify-ca or \
             verify-full)"
        );
        assert!(invalid("postgres://h/db?sslmode=").starts_with("unknown sslmode"));
    }

    #[test]
    fn a_missing_or_empty_sslrootcert_is_refused() {
        let missing =
            invalid("postgres://h/db?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem");
        assert!(
            missing.starts_with("database TLS: cannot read sslrootcert /nonexistent/ca.pem"),
            "{missing}"
        );
        assert!(!missing.contains('\n'));
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate").unwrap();
        let refused = invalid(&format!(
            "postgres://h/db?sslmode=require&sslrootcert={}",
            empty.display()
        ));
        assert!(refused.ends_with("no certificate in the file"), "{refused}");
    }

    #[test]
    fn other_parameters_reach_the_driver() {
        let config =
            DbConfig::new("postgres://u@h:5433/db?application_name=auth&sslmode=require").unwrap();
        let driver = &config.postgres_target().unwrap().driver;
        assert_eq!(driver.get_application_name(), Some("auth"));
        assert_eq!(driver.get_ports(), [5433]);
        assert!(
            invalid("postgres://h/db?connect_timeout=soon").starts_with("invalid PostgreSQL URL")
        );
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
