//! What can go wrong in the data layer, classified so callers can react without parsing text.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// Any error kept as a cause, for logs only.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A failure of a repository call. It says what happened to the data, never what a client
/// should be told: that is the caller's business.
///
/// Only [`Unavailable`](Self::Unavailable) and [`Database`](Self::Database) say something about
/// the health of the database ([`is_outage`](Self::is_outage)); a circuit breaker should count
/// those and nothing else.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RepoError {
    /// A unique constraint refused the write (also when two writers race).
    #[error("unique constraint violated")]
    Conflict,
    /// The row does not exist, or a row it refers to is gone.
    #[error("row not found")]
    NotFound,
    /// The database cannot be reached or cannot work: connection refused or closed, pool
    /// timeout, lock or busy timeout, a statement cancelled by PostgreSQL's
    /// `statement_timeout` (SQLSTATE 57014), a full disk.
    #[error("database unavailable")]
    Unavailable(#[source] BoxError),
    /// The database answered with an unexpected error.
    #[error("database error")]
    Database(#[source] DieselError),
    /// Applying the migrations failed.
    #[error("migration failed")]
    Migration(#[source] BoxError),
    /// `DATABASE_URL` names no supported backend.
    #[error("unsupported database url (expected postgres://, postgresql:// or sqlite://)")]
    UnsupportedUrl,
    /// A PostgreSQL URL that cannot be used as written (one line saying why: an unknown
    /// `sslmode`, an unreadable `sslrootcert`…).
    #[error("{0}")]
    InvalidUrl(String),
    /// The TLS handshake with PostgreSQL failed (one line: "database TLS: unknown issuer").
    /// Not an outage: waiting does not fix a certificate.
    #[error("{0}")]
    Tls(String),
}

impl RepoError {
    /// Whether this error means the database cannot be reached. Only these should count
    /// against a circuit breaker: an error caused by the data of one request (a value the
    /// database refuses, say) must not let a client open the breaker for everyone.
    pub fn is_outage(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }

    pub(crate) fn unavailable(cause: impl Into<BoxError>) -> Self {
        Self::Unavailable(cause.into())
    }
}

impl From<DieselError> for RepoError {
    fn from(err: DieselError) -> Self {
        match err {
            DieselError::NotFound
            | DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
                Self::NotFound
            }
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => Self::Conflict,
            ref outage if signals_outage(outage) => Self::unavailable(err),
            other => Self::Database(other),
        }
    }
}

/// Whether `err` says the database is unreachable or cannot work right now, rather than that
/// it refused this request's data.
fn signals_outage(err: &DieselError) -> bool {
    match err {
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        )
        | DieselError::BrokenTransactionManager => true,
        // SQLite reports an exhausted busy timeout or a full disk, and PostgreSQL a server
        // going away or a statement cancelled by its timeout, as generic errors: the driver
        // keeps the SQLSTATE to itself, so the (English) message is what is left.
        DieselError::DatabaseError(_, info) => is_unavailable(info.message()),
        // A commit lost with its connection fails, and so does the rollback after it.
        DieselError::RollbackErrorOnCommit {
            commit_error,
            rollback_error,
        } => signals_outage(commit_error) || signals_outage(rollback_error),
        _ => false,
    }
}

fn is_unavailable(message: &str) -> bool {
    const SIGNS: [&str; 8] = [
        "database is locked",
        "database is busy",
        "database or disk is full",
        "terminating connection",
        "connection closed",
        "the database system is shutting down",
        "too many clients",
        // 57014 (statement timeout, cancel request) and 55P03 (lock timeout).
        "canceling statement due to",
    ];
    SIGNS.iter().any(|sign| message.contains(sign))
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for RepoError {
    fn from(err: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        Self::unavailable(err)
    }
}

#[cfg(test)]
mod tests {
    use diesel::result::{DatabaseErrorKind, Error as DieselError};

    use super::RepoError;

    fn db_error(kind: DatabaseErrorKind, message: &str) -> DieselError {
        DieselError::DatabaseError(kind, Box::new(message.to_owned()))
    }

    #[test]
    fn unique_violations_are_conflicts_whatever_the_constraint_name() {
        let err = RepoError::from(db_error(DatabaseErrorKind::UniqueViolation, "dup"));
        assert!(matches!(err, RepoError::Conflict));
        assert!(!err.is_outage());
    }

    #[test]
    fn closed_connections_and_lock_timeouts_are_outages() {
        for err in [
            db_error(DatabaseErrorKind::ClosedConnection, "gone"),
            db_error(DatabaseErrorKind::Unknown, "database is locked"),
            db_error(DatabaseErrorKind::UnableToSendCommand, "broken pipe"),
            db_error(
                DatabaseErrorKind::Unknown,
                "FATAL: terminating connection due to administrator command",
            ),
        ] {
            let err = RepoError::from(err);
            assert!(matches!(err, RepoError::Unavailable(_)), "{err:?}");
            assert!(err.is_outage());
        }
    }

    #[test]
    fn a_commit_lost_with_its_connection_is_an_outage() {
        let err = RepoError::from(DieselError::RollbackErrorOnCommit {
            commit_error: Box::new(db_error(DatabaseErrorKind::UnableToSendCommand, "closed")),
            rollback_error: Box::new(db_error(DatabaseErrorKind::ClosedConnection, "closed")),
        });
        assert!(err.is_outage(), "{err:?}");
    }

    #[test]
    fn cancelled_statements_and_a_full_disk_are_outages() {
        for err in [
            db_error(
                DatabaseErrorKind::Unknown,
                "canceling statement due to statement timeout",
            ),
            db_error(
                DatabaseErrorKind::Unknown,
                "canceling statement due to lock timeout",
            ),
            db_error(DatabaseErrorKind::Unknown, "database or disk is full"),
        ] {
            let err = RepoError::from(err);
            assert!(matches!(err, RepoError::Unavailable(_)), "{err:?}");
            assert!(err.is_outage());
        }
    }

    #[test]
    fn other_database_errors_are_not_outages_and_keep_their_text_out_of_display() {
        let err = RepoError::from(db_error(
            DatabaseErrorKind::Unknown,
            "syntax error near SELECT",
        ));
        assert!(
            !err.is_outage(),
            "a request's bad data must not trip the breaker"
        );
        assert!(matches!(err, RepoError::Database(_)));
        assert!(!err.to_string().contains("SELECT"));
    }

    #[test]
    fn missing_rows_are_not_found() {
        assert!(matches!(
            RepoError::from(DieselError::NotFound),
            RepoError::NotFound
        ));
    }
}
