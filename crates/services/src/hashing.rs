//! Password hashing off the async workers, a bounded number at a time.
//!
//! Argon2id is deliberately slow and memory-hard: it runs on Tokio's blocking pool, behind a
//! semaphore sized to the cores, carrying the caller's tracing span.

use std::sync::Arc;

use auth_crypto::{CryptoError, HashedPassword, PasswordForm, PasswordHasher, Verification};
use secrecy::SecretString;
use tokio::sync::Semaphore;

use crate::error::{Fault, Invalid, RegisterError};

/// Why a new password could not be hashed.
#[derive(Debug)]
pub(crate) enum HashError {
    /// The scheme cannot take this password (bcrypt over 72 bytes).
    Invalid(Invalid),
    /// The hashing backend failed.
    Fault(Fault),
}

impl From<HashError> for RegisterError {
    fn from(err: HashError) -> Self {
        match err {
            HashError::Invalid(invalid) => Self::Invalid(invalid),
            HashError::Fault(fault) => Self::Fault(fault),
        }
    }
}

/// The hasher and the permits that bound its concurrency.
#[derive(Debug, Clone)]
pub(crate) struct HashingPool {
    hasher: PasswordHasher,
    permits: Arc<Semaphore>,
}

impl HashingPool {
    pub(crate) fn new(hasher: PasswordHasher, concurrency: usize) -> Self {
        Self {
            hasher,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&PasswordHasher) -> T + Send + 'static,
    ) -> Result<T, Fault> {
        // The permit travels with the work: if the caller goes away (a timeout, a closed
        // connection), the hashing goes on and keeps its place until it is done.
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(Fault::internal)?;
        let hasher = self.hasher.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            span.in_scope(|| work(&hasher))
        })
        .await
        .map_err(Fault::internal)
    }

    /// Hashes the NFKC form of a new password with the configured scheme.
    pub(crate) async fn hash(&self, password: SecretString) -> Result<HashedPassword, HashError> {
        match self.run(move |h| h.hash(&password)).await {
            Ok(Ok(hash)) => Ok(hash),
            Ok(Err(CryptoError::PasswordTooLong { max_bytes })) => Err(HashError::Invalid(
                Invalid::field("password", format!("must be at most {max_bytes} bytes")),
            )),
            Ok(Err(other)) => Err(HashError::Fault(Fault::internal(other))),
            Err(fault) => Err(HashError::Fault(fault)),
        }
    }

    /// Verifies `password` against `stored`, made from the `form` of the password: exactly one
    /// verification whatever the form. A stored hash that cannot be used (malformed,
    /// hostile parameters) counts as a mismatch after a dummy verification, so the answer and
    /// its timing stay those of a wrong password. A failing hashing backend is an internal
    /// error, not a wrong password.
    pub(crate) async fn verify(
        &self,
        password: SecretString,
        stored: String,
        form: PasswordForm,
    ) -> Result<Verification, Fault> {
        self.run(move |h| match h.verify(&password, &stored, form) {
            Err(CryptoError::MalformedHash | CryptoError::HostileHash) => {
                tracing::error!("stored password hash is unusable; treating as a mismatch");
                h.dummy_verify(&password);
                Ok(Verification::Mismatch)
            }
            other => other,
        })
        .await?
        .map_err(Fault::internal)
    }

    /// Spends the time of one verification for an account that does not exist.
    pub(crate) async fn dummy_verify(&self, password: SecretString) -> Result<(), Fault> {
        self.run(move |h| h.dummy_verify(&password)).await
    }
}
