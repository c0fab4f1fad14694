//! What can go wrong in the data layer, classified so callers can react without parsing text.

use auth_errors::{AppError, BoxError};
use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// A failure of a repository call.
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
    /// The database cannot be reached: connection refused or closed, pool timeout, lock timeout.
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
            DieselError::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                _,
            )
            | DieselError::BrokenTransactionManager => Self::unavailable(err),
            // SQLite reports an exhausted busy timeout, and PostgreSQL a server going away, as
            // generic errors.
            DieselError::DatabaseError(_, ref info) if is_unavailable(info.message()) => {
                Self::unavailable(err)
            }
            other => Self::Database(other),
        }
    }
}

fn is_unavailable(message: &str) -> bool {
    const SIGNS: [&str; 6] = [
        "database is locked",
        "database is busy",
        "terminating connection",
        "connection closed",
        "the database system is shutting down",
        "too many clients",
    ];
    SIGNS.iter().any(|sign| message.contains(sign))
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for RepoError {
    fn from(err: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        Self::unavailable(err)
    }
}

impl From<RepoError> for AppError {
    /// `Conflict` becomes `USER_EXISTS`: the only unique constraints in this schema are the
    /// account identities.
    fn from(err: RepoError) -> Self {
        match err {
            RepoError::Conflict => AppError::UserExists,
            RepoError::NotFound => AppError::NotFound,
            RepoError::Unavailable(cause) => AppError::DatabaseUnavailable(cause),
            RepoError::Database(cause) => AppError::database(cause),
            other @ (RepoError::Migration(_) | RepoError::UnsupportedUrl) => {
                AppError::internal(other)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use auth_errors::{AppError, ErrorCode};
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
        assert_eq!(AppError::from(err).error_code(), ErrorCode::UserExists);
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
            assert_eq!(
                AppError::from(err).error_code(),
                ErrorCode::ServiceUnavailable
            );
        }
    }

    #[test]
    fn other_database_errors_are_internal_and_keep_their_text_out_of_the_detail() {
        let err = RepoError::from(db_error(
            DatabaseErrorKind::Unknown,
            "syntax error near SELECT",
        ));
        assert!(
            !err.is_outage(),
            "a request's bad data must not trip the breaker"
        );
        let app = AppError::from(err);
        assert_eq!(app.error_code(), ErrorCode::InternalError);
        assert!(!app.detail().contains("SELECT"));
    }

    #[test]
    fn missing_rows_are_not_found() {
        assert!(matches!(
            RepoError::from(DieselError::NotFound),
            RepoError::NotFound
        ));
    }
}
