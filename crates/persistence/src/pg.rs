//! Opening one PostgreSQL connection with the configured TLS. The pool, the migrations and the
//! test databases all connect through here, so every connection honours `sslmode`.

use std::error::Error as _;
use std::sync::Arc;

use diesel::ConnectionError;
use diesel_async::AsyncPgConnection;
use rustls::ClientConfig;

use crate::RepoError;
use crate::tls::{MakeRustls, TlsFailure};

/// Where and how to connect: the driver's settings (with the `sslmode` it understands) and
/// the rustls configuration doing the checks the URL asked for (`None`: plain TCP).
#[derive(Clone)]
pub(crate) struct PgTarget {
    pub(crate) driver: tokio_postgres::Config,
    pub(crate) tls: Option<Arc<ClientConfig>>,
}

/// Why a connection could not be opened.
#[derive(Debug)]
pub(crate) enum ConnectError {
    /// The TLS handshake failed: a setting or certificate to fix, not an outage to wait out.
    Tls(TlsFailure),
    /// The server could not be reached or refused the session.
    Other(ConnectionError),
}

impl From<ConnectError> for RepoError {
    fn from(err: ConnectError) -> Self {
        match err {
            ConnectError::Tls(tls) => Self::Tls(tls.to_string()),
            ConnectError::Other(other) => Self::unavailable(other),
        }
    }
}

impl From<ConnectError> for ConnectionError {
    fn from(err: ConnectError) -> Self {
        match err {
            ConnectError::Tls(tls) => Self::BadConnection(tls.to_string()),
            ConnectError::Other(other) => other,
        }
    }
}

/// Opens one connection to `target`.
pub(crate) async fn connect(target: &PgTarget) -> Result<AsyncPgConnection, ConnectError> {
    let connection = if let Some(tls) = &target.tls {
        let (client, connection) = target
            .driver
            .connect(MakeRustls(tls.clone()))
            .await
            .map_err(|e| classify(&e))?;
        AsyncPgConnection::try_from_client_and_connection(client, connection).await
    } else {
        let (client, connection) = target
            .driver
            .connect(tokio_postgres::NoTls)
            .await
            .map_err(|e| classify(&e))?;
        AsyncPgConnection::try_from_client_and_connection(client, connection).await
    };
    connection.map_err(ConnectError::Other)
}

/// A failed handshake carries our [`TlsFailure`] somewhere in its causes.
fn classify(err: &tokio_postgres::Error) -> ConnectError {
    let mut cause = err.source();
    while let Some(current) = cause {
        if let Some(tls) = current.downcast_ref::<TlsFailure>() {
            return ConnectError::Tls(tls.clone());
        }
        cause = current.source();
    }
    ConnectError::Other(ConnectionError::BadConnection(err.to_string()))
}
