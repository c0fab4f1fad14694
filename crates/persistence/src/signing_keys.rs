//! The `signing_keys` table: asymmetric token-signing keys and where each is in its life.
//!
//! The lifecycle itself is decided by the caller: [`apply_locked`] reads the keys under a
//! lock that only one replica holds at a time (a PostgreSQL advisory lock, or SQLite's write
//! lock), hands them to the caller's decision, and writes the changes it returns in the same
//! transaction. Replicas arriving together take turns: the first makes the changes, the
//! others find them made.

use std::fmt;
use std::str::FromStr;

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::conn::{Conn, in_transaction, on_conn};
use crate::db_time::{from_db, to_db};
use crate::schema::signing_keys;
use crate::{DbPool, RepoError};

/// The advisory lock key PostgreSQL replicas take to change the key set.
const ROTATION_LOCK: i64 = 0x6a77_6b73; // "jwks"

/// Where a key is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyState {
    /// Published, not signing yet.
    Pending,
    /// Signing (from its activation time).
    Active,
    /// Superseded: published while tokens it signed may live.
    Retiring,
    /// Every token it signed has expired; no longer published.
    Retired,
    /// Withdrawn at once (compromised); its tokens are refused.
    Revoked,
}

impl KeyState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Retiring => "retiring",
            Self::Retired => "retired",
            Self::Revoked => "revoked",
        }
    }

    /// Whether keys in this state are published and verify tokens.
    pub fn is_published(self) -> bool {
        matches!(self, Self::Pending | Self::Active | Self::Retiring)
    }
}

impl fmt::Display for KeyState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KeyState {
    type Err = RepoError;

    fn from_str(s: &str) -> Result<Self, RepoError> {
        [
            Self::Pending,
            Self::Active,
            Self::Retiring,
            Self::Retired,
            Self::Revoked,
        ]
        .into_iter()
        .find(|state| state.as_str() == s)
        .ok_or_else(|| {
            RepoError::Database(diesel::result::Error::DeserializationError(
                format!("unknown signing key state {s:?}").into(),
            ))
        })
    }
}

/// A signing key as stored. `Debug` leaves out the sealed private key.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKeyRecord {
    /// Key id.
    pub kid: String,
    /// `EdDSA` or `ES256`.
    pub algorithm: String,
    /// The public key as a JWK (JSON).
    pub public_jwk: String,
    /// The private key, sealed with the key-encryption key.
    pub private_key: String,
    /// Where it is in its life.
    pub state: KeyState,
    /// When it was made.
    pub created_at: OffsetDateTime,
    /// When it starts (or started) signing.
    pub activates_at: OffsetDateTime,
    /// When the next key started signing.
    pub superseded_at: Option<OffsetDateTime>,
    /// When every token it signed has expired.
    pub retire_after: Option<OffsetDateTime>,
    /// When it was retired or revoked.
    pub retired_at: Option<OffsetDateTime>,
}

impl fmt::Debug for SigningKeyRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeyRecord")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("state", &self.state)
            .field("activates_at", &self.activates_at)
            .field("retire_after", &self.retire_after)
            .finish_non_exhaustive()
    }
}

/// A change to the key set, decided under the lock.
#[derive(Clone, PartialEq, Eq)]
pub enum KeyChange {
    /// Store a new key (its `superseded_at`, `retire_after` and `retired_at` as given).
    Insert(SigningKeyRecord),
    /// Move key `kid` to `state`, setting the three times as given.
    Update {
        /// Key id.
        kid: String,
        /// New state.
        state: KeyState,
        /// When the next key started signing.
        superseded_at: Option<OffsetDateTime>,
        /// When every token it signed has expired.
        retire_after: Option<OffsetDateTime>,
        /// When it was retired or revoked.
        retired_at: Option<OffsetDateTime>,
    },
}

impl fmt::Debug for KeyChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Insert(key) => f.debug_tuple("Insert").field(key).finish(),
            Self::Update { kid, state, .. } => f
                .debug_struct("Update")
                .field("kid", kid)
                .field("state", state)
                .finish_non_exhaustive(),
        }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = signing_keys)]
struct KeyRow {
    kid: String,
    algorithm: String,
    public_jwk: String,
    private_key: String,
    state: String,
    created_at: PrimitiveDateTime,
    activates_at: PrimitiveDateTime,
    superseded_at: Option<PrimitiveDateTime>,
    retire_after: Option<PrimitiveDateTime>,
    retired_at: Option<PrimitiveDateTime>,
}

impl TryFrom<KeyRow> for SigningKeyRecord {
    type Error = RepoError;

    fn try_from(row: KeyRow) -> Result<Self, RepoError> {
        Ok(Self {
            kid: row.kid,
            algorithm: row.algorithm,
            public_jwk: row.public_jwk,
            private_key: row.private_key,
            state: row.state.parse()?,
            created_at: from_db(row.created_at),
            activates_at: from_db(row.activates_at),
            superseded_at: row.superseded_at.map(from_db),
            retire_after: row.retire_after.map(from_db),
            retired_at: row.retired_at.map(from_db),
        })
    }
}

/// Every key, oldest activation first.
///
/// # Errors
///
/// Database failures as [`RepoError::Unavailable`] or [`RepoError::Database`].
pub async fn list(pool: &DbPool) -> Result<Vec<SigningKeyRecord>, RepoError> {
    let mut pooled = pool.get().await?;
    list_on(&mut pooled.conn()).await
}

async fn list_on(conn: &mut Conn<'_>) -> Result<Vec<SigningKeyRecord>, RepoError> {
    let rows: Vec<KeyRow> = on_conn!(conn, |c| signing_keys::table
        .order((
            signing_keys::activates_at.asc(),
            signing_keys::created_at.asc()
        ))
        .select(KeyRow::as_select())
        .load(*c)
        .await)?;
    rows.into_iter().map(TryInto::try_into).collect()
}

/// Takes the rotation lock (waiting for another replica's transaction to end), hands every
/// key to `decide`, and writes the changes it returns, all in one transaction. Returns the
/// changes.
///
/// # Errors
///
/// Database failures as [`RepoError::Unavailable`] or [`RepoError::Database`]; nothing is
/// written then.
pub async fn apply_locked(
    pool: &DbPool,
    decide: &(dyn Fn(&[SigningKeyRecord]) -> Vec<KeyChange> + Sync),
) -> Result<Vec<KeyChange>, RepoError> {
    let mut pooled = pool.get().await?;
    in_transaction!(&mut pooled, |conn| {
        lock(conn).await?;
        let keys = list_on(conn).await?;
        let changes = decide(&keys);
        for change in &changes {
            write(conn, change).await?;
        }
        Ok(changes)
    })
}

/// Takes the rotation lock for the rest of the transaction, waiting for it if needed.
async fn lock(conn: &mut Conn<'_>) -> Result<(), RepoError> {
    match conn {
        Conn::Postgres(c) => {
            diesel::sql_query(format!("SELECT pg_advisory_xact_lock({ROTATION_LOCK})"))
                .execute(*c)
                .await?;
        }
        Conn::Sqlite(c) => {
            // A write, so the transaction holds SQLite's write lock from here on.
            diesel::sql_query("UPDATE signing_keys SET state = state WHERE 0")
                .execute(*c)
                .await?;
        }
    }
    Ok(())
}

async fn write(conn: &mut Conn<'_>, change: &KeyChange) -> Result<(), RepoError> {
    match change {
        KeyChange::Insert(key) => {
            let values = (
                signing_keys::kid.eq(&key.kid),
                signing_keys::algorithm.eq(&key.algorithm),
                signing_keys::public_jwk.eq(&key.public_jwk),
                signing_keys::private_key.eq(&key.private_key),
                signing_keys::state.eq(key.state.as_str()),
                signing_keys::created_at.eq(to_db(key.created_at)),
                signing_keys::activates_at.eq(to_db(key.activates_at)),
                signing_keys::superseded_at.eq(key.superseded_at.map(to_db)),
                signing_keys::retire_after.eq(key.retire_after.map(to_db)),
                signing_keys::retired_at.eq(key.retired_at.map(to_db)),
            );
            on_conn!(conn, |c| diesel::insert_into(signing_keys::table)
                .values(values)
                .execute(*c)
                .await)?;
        }
        KeyChange::Update {
            kid,
            state,
            superseded_at,
            retire_after,
            retired_at,
        } => {
            let values = (
                signing_keys::state.eq(state.as_str()),
                signing_keys::superseded_at.eq(superseded_at.map(to_db)),
                signing_keys::retire_after.eq(retire_after.map(to_db)),
                signing_keys::retired_at.eq(retired_at.map(to_db)),
            );
            on_conn!(conn, |c| diesel::update(
                signing_keys::table.filter(signing_keys::kid.eq(kid))
            )
            .set(values)
            .execute(*c)
            .await)?;
        }
    }
    Ok(())
}
