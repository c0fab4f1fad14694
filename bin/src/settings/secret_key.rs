//! The JWT signing key when `JWT_SECRET_KEY` is not set: generated on first start and kept in
//! a file beside the SQLite database, so tokens survive a restart.
//!
//! This is the only place that writes the key. The file holds a random key in base64url, at
//! least as long as `JWT_ALGORITHM`'s hash (RFC 7518 §3.2), is created with mode 0600 on unix,
//! and is never overwritten: two instances starting together agree on whichever key reached
//! the file first. A kept key too short for the configured algorithm (generated for HS256,
//! then `JWT_ALGORITHM=HS512`) is refused rather than replaced: replacing it would sign every
//! user out and could race with another instance still using the old key, so the operator
//! decides (delete the file, or set `JWT_SECRET_KEY`).

use std::ffi::OsString;
use std::fs::{self, OpenOptions};
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};

use auth_crypto::JwtAlgorithm;
use auth_persistence::Backend;
use secrecy::SecretString;

use super::load::min_secret_bytes;
use super::{ConfigError, Settings};

/// Appended to the SQLite file's path to name the key file: `auth.db` → `auth.db.jwt-key`.
pub const KEY_FILE_SUFFIX: &str = ".jwt-key";

/// Appended to the SQLite file's path to name the key-encryption key file:
/// `auth.db` → `auth.db.jwt-kek`.
pub const KEK_FILE_SUFFIX: &str = ".jwt-kek";

/// What a generated key file holds: the variable it stands in for and its shortest length.
pub(super) struct KeySpec {
    var: &'static str,
    min: usize,
    /// Who needs `min` bytes, for the error on a short file.
    needs: String,
}

impl KeySpec {
    /// The JWT signing key for `algorithm`.
    pub(super) fn jwt(algorithm: JwtAlgorithm) -> Self {
        Self {
            var: "JWT_SECRET_KEY",
            min: min_secret_bytes(algorithm),
            needs: format!("JWT_ALGORITHM={} needs", algorithm.as_str()),
        }
    }

    /// The key-encryption key of the signing keys.
    pub(super) fn kek() -> Self {
        Self {
            var: "JWT_KEY_ENCRYPTION_KEY",
            min: auth_crypto::MIN_KEK_BYTES,
            needs: "a key-encryption key needs".to_owned(),
        }
    }
}

impl Settings {
    /// The JWT key to sign with: `JWT_SECRET_KEY` when set; otherwise, with SQLite, a random
    /// key at least as long as the algorithm's hash, generated on first start and kept in
    /// `<database file>.jwt-key` (for example `auth.db.jwt-key`), created with mode 0600 on
    /// unix and read again on later starts. A warning naming the file (never the key) is
    /// logged each time that key is used.
    ///
    /// An in-memory SQLite database (`sqlite://:memory:`) gets a fresh key that is not kept.
    ///
    /// # Errors
    ///
    /// - [`ConfigError::Missing`] for `JWT_SECRET_KEY` with a PostgreSQL `DATABASE_URL`:
    ///   there is no file to keep a generated key beside, and every instance must share one.
    /// - [`ConfigError::KeyFile`] when the key file cannot be read or written, or holds fewer
    ///   than the algorithm needs (corrupted, or generated for a shorter hash).
    pub fn resolve_jwt_secret(&self) -> Result<SecretString, ConfigError> {
        if let Some(key) = &self.jwt_secret_key {
            return Ok(key.clone());
        }
        let db_path = match self.database.backend() {
            Backend::Postgres => {
                return Err(ConfigError::Missing {
                    var: "JWT_SECRET_KEY",
                    why: format!(
                        "required with a PostgreSQL DATABASE_URL (at least {} bytes)",
                        min_secret_bytes(self.jwt_algorithm)
                    ),
                });
            }
            Backend::Sqlite => self
                .database
                .url()
                .strip_prefix("sqlite://")
                .unwrap_or_default(),
        };
        if db_path == ":memory:" {
            tracing::warn!(
                "JWT_SECRET_KEY is not set and the database is in memory: using a random key \
                 that is lost on restart"
            );
            return Ok(SecretString::from(random_key(self.jwt_algorithm)));
        }
        load_or_create(&key_file_path(db_path), self.jwt_algorithm)
    }

    /// The key-encryption key sealing the EdDSA and ES256 private keys, `None` with HMAC:
    /// `JWT_KEY_ENCRYPTION_KEY` when set; otherwise, with SQLite, a random key generated on
    /// first start and kept in `<database file>.jwt-kek`, with the same warning, mode and owner
    /// checks as the generated JWT key.
    ///
    /// # Errors
    ///
    /// - [`ConfigError::Missing`] for `JWT_KEY_ENCRYPTION_KEY` with a PostgreSQL
    ///   `DATABASE_URL` and an asymmetric algorithm.
    /// - [`ConfigError::KeyFile`] when the key file cannot be read or written, or is short.
    pub fn resolve_key_encryption_key(&self) -> Result<Option<SecretString>, ConfigError> {
        if !self.jwt_algorithm.is_asymmetric() {
            return Ok(None);
        }
        if let Some(key) = &self.jwt_key_encryption_key {
            return Ok(Some(key.clone()));
        }
        let db_path = match self.database.backend() {
            Backend::Postgres => {
                return Err(ConfigError::Missing {
                    var: "JWT_KEY_ENCRYPTION_KEY",
                    why: format!(
                        "required with a PostgreSQL DATABASE_URL and JWT_ALGORITHM={} (at least \
                         {} bytes)",
                        self.jwt_algorithm.as_str(),
                        auth_crypto::MIN_KEK_BYTES
                    ),
                });
            }
            Backend::Sqlite => self
                .database
                .url()
                .strip_prefix("sqlite://")
                .unwrap_or_default(),
        };
        if db_path == ":memory:" {
            tracing::warn!(
                "JWT_KEY_ENCRYPTION_KEY is not set and the database is in memory: using a random \
                 key that is lost on restart"
            );
            return Ok(Some(SecretString::from(random_bytes(
                auth_crypto::MIN_KEK_BYTES,
            ))));
        }
        let path = PathBuf::from(format!("{db_path}{KEK_FILE_SUFFIX}"));
        load_or_create_file(&path, &KeySpec::kek()).map(Some)
    }
}

/// The key file beside the SQLite database at `db_path`.
pub(super) fn key_file_path(db_path: &str) -> PathBuf {
    PathBuf::from(format!("{db_path}{KEY_FILE_SUFFIX}"))
}

/// A random key for `algorithm`: enough 256-bit tokens, in base64url, to reach its hash size
/// in both length and entropy.
fn random_key(algorithm: JwtAlgorithm) -> String {
    random_bytes(min_secret_bytes(algorithm))
}

/// Enough 256-bit random tokens, in base64url, to reach `min` bytes of length and entropy.
fn random_bytes(min: usize) -> String {
    (0..min.div_ceil(32))
        .map(|_| auth_crypto::random_token())
        .collect()
}

/// Reads the key at `path` for `algorithm`, creating it first if there is none.
pub(super) fn load_or_create(
    path: &Path,
    algorithm: JwtAlgorithm,
) -> Result<SecretString, ConfigError> {
    load_or_create_file(path, &KeySpec::jwt(algorithm))
}

/// Reads the key at `path`, creating it first if there is none.
pub(super) fn load_or_create_file(
    path: &Path,
    spec: &KeySpec,
) -> Result<SecretString, ConfigError> {
    let var = spec.var;
    if let Some(key) = read_key(path, spec)? {
        tracing::warn!(
            key_file = %path.display(),
            "{var} is not set: using the generated key kept beside the SQLite database"
        );
        return Ok(key);
    }
    if let Some(key) = create_key(path, spec)? {
        tracing::warn!(
            key_file = %path.display(),
            "{var} is not set: generated a new key and kept it beside the SQLite database; set \
             {var} to manage the key yourself"
        );
        return Ok(key);
    }
    // Another instance created the file between our read and our create.
    read_key(path, spec)?
        .ok_or_else(|| ConfigError::key_file_for(spec.var, path, "vanished while being created"))
}

/// The key in `path`, `None` if the file does not exist. On unix the file must belong to this
/// process's user and be neither group- nor other-accessible: a key others can read lets them
/// sign tokens, and one they own they can replace.
fn read_key(path: &Path, spec: &KeySpec) -> Result<Option<SecretString>, ConfigError> {
    let mut file = match fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(ConfigError::key_file_for(
                spec.var,
                path,
                format!("cannot read it: {e}"),
            ));
        }
    };
    // Checked on the open file, so the file checked is the file read.
    let metadata = file
        .metadata()
        .map_err(|e| ConfigError::key_file_for(spec.var, path, format!("cannot read it: {e}")))?;
    check_private(&metadata)
        .map_err(|problem| ConfigError::key_file_for(spec.var, path, problem))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|e| ConfigError::key_file_for(spec.var, path, format!("cannot read it: {e}")))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| ConfigError::key_file_for(spec.var, path, "does not hold UTF-8 text"))?;
    // Tolerate the trailing newline an editor adds.
    let key = text.trim_end();
    let min = spec.min;
    if key.len() < min {
        return Err(ConfigError::key_file_for(
            spec.var,
            path,
            format!("holds {} bytes, {} at least {min}", key.len(), spec.needs),
        ));
    }
    Ok(Some(SecretString::from(key)))
}

/// Refuses a key file that others could read or write, or that another user owns.
#[cfg(unix)]
fn check_private(metadata: &fs::Metadata) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt as _;

    let mode = metadata.mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(format!(
            "has mode {mode:04o}, expected 0600 (group and others must not access it; chmod 600)"
        ));
    }
    // The effective uid: the one that owns the files this process creates.
    let uid = rustix::process::geteuid().as_raw();
    if metadata.uid() != uid {
        return Err(format!(
            "is owned by uid {}, not by this process's uid {uid}",
            metadata.uid()
        ));
    }
    Ok(())
}

/// Only unix has owners and modes to check.
#[cfg(not(unix))]
fn check_private(_metadata: &fs::Metadata) -> Result<(), String> {
    Ok(())
}

/// Writes a new random key to `path` unless the file exists. Returns the key if this call
/// created the file, `None` if another process did first.
///
/// The key is written to a private temporary file that is then hard-linked into place, so a
/// concurrent reader never sees a half-written file. Where hard links are not supported, the
/// file is created in place instead.
fn create_key(path: &Path, spec: &KeySpec) -> Result<Option<SecretString>, ConfigError> {
    let key = random_bytes(spec.min);
    let temp = temp_path(path);
    write_new_private(&temp, key.as_bytes())
        .map_err(|e| ConfigError::key_file_for(spec.var, path, format!("cannot create it: {e}")))?;
    let linked = fs::hard_link(&temp, path);
    if let Err(e) = fs::remove_file(&temp) {
        tracing::debug!(temp_file = %temp.display(), error = %e, "cannot remove temporary key file");
    }
    let created = match linked {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(None),
        Err(_) => write_new_private(path, key.as_bytes()),
    };
    match created {
        Ok(()) => Ok(Some(SecretString::from(key))),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(None),
        Err(e) => Err(ConfigError::key_file_for(
            spec.var,
            path,
            format!("cannot create it: {e}"),
        )),
    }
}

/// A unique name beside `path` for the file being written.
fn temp_path(path: &Path) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(format!(".{}.tmp", uuid::Uuid::new_v4().simple()));
    PathBuf::from(name)
}

/// Creates `path` (failing if it exists), readable only by its owner on unix, and writes
/// `contents` to disk.
fn write_new_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}
