//! A data migration: brings stored emails and their case-insensitive keys to Unicode NFC.
//!
//! Emails used to be stored as typed, so "josé@…" with a precomposed "é" and with "e" + U+0301
//! could be two accounts. New rows are NFC ([`users::normalize`](crate::users::normalize));
//! this step rewrites older rows once. SQLite's SQL has no Unicode normalisation, so it runs in
//! Rust after the SQL migrations, inside one transaction that also records it in
//! `data_migrations`: it runs once, and a failed run changes nothing and runs again at the next
//! start. Two rows that would share a key stop it with an error naming their ids.

use std::collections::BTreeMap;

use diesel::SqliteConnection;
use diesel::prelude::*;
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use time::PrimitiveDateTime;
use unicode_normalization::UnicodeNormalization as _;

use crate::RepoError;
use crate::schema::{data_migrations, users};
use crate::users::normalize;

/// Name of this step in `data_migrations`.
const NAME: &str = "2024-01-01-000006_email_nfc";

/// A row whose email or key changes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Change {
    pub(crate) id: i64,
    pub(crate) email: String,
    pub(crate) key: String,
}

/// Rows that would share one key once normalised.
#[derive(Debug, thiserror::Error)]
#[error(
    "users {} have the same email once normalised to Unicode NFC; merge or rename them, then start again",
    format_ids(.0)
)]
pub(crate) struct Collision(pub(crate) Vec<Vec<i64>>);

fn format_ids(groups: &[Vec<i64>]) -> String {
    groups
        .iter()
        .map(|ids| {
            let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
            ids.join(" and ")
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The changes that bring `(id, email, email_normalized)` rows to NFC.
///
/// # Errors
///
/// A [`Collision`] listing every group of ids that would share a key.
pub(crate) fn plan(rows: Vec<(i64, String, String)>) -> Result<Vec<Change>, Collision> {
    let mut by_key: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut changes = Vec::new();
    for (id, email, key) in rows {
        let nfc: String = email.nfc().collect();
        let new_key = normalize(&nfc);
        by_key.entry(new_key.clone()).or_default().push(id);
        if nfc != email || new_key != key {
            changes.push(Change {
                id,
                email: nfc,
                key: new_key,
            });
        }
    }
    let collisions: Vec<Vec<i64>> = by_key.into_values().filter(|ids| ids.len() > 1).collect();
    if collisions.is_empty() {
        Ok(changes)
    } else {
        Err(Collision(collisions))
    }
}

/// Defines the step for one backend's synchronous connection: Diesel checks each query per
/// backend, so the body is written once and expanded twice.
macro_rules! define_step {
    ($(#[$meta:meta])* $name:ident, $conn_ty:ty) => {
        $(#[$meta])*
        pub(crate) fn $name(conn: &mut $conn_ty, now: PrimitiveDateTime) -> Result<usize, RepoError> {
            conn.transaction::<usize, RepoError, _>(|c| {
                let done: i64 = data_migrations::table
                    .filter(data_migrations::name.eq(NAME))
                    .count()
                    .get_result(c)?;
                if done > 0 {
                    return Ok(0);
                }
                let rows: Vec<(i64, String, String)> = users::table
                    .select((users::id, users::email, users::email_normalized))
                    .order(users::id)
                    .load(c)?;
                let changes = plan(rows).map_err(|collision| RepoError::Migration(collision.into()))?;
                // Two passes: a row may take a key that another changed row still holds. The
                // placeholder has no `@`, so no email can hold it.
                for change in &changes {
                    diesel::update(users::table.find(change.id))
                        .set(users::email_normalized.eq(format!("renormalizing #{}", change.id)))
                        .execute(c)?;
                }
                for change in &changes {
                    diesel::update(users::table.find(change.id))
                        .set((
                            users::email.eq(&change.email),
                            users::email_normalized.eq(&change.key),
                        ))
                        .execute(c)?;
                }
                diesel::insert_into(data_migrations::table)
                    .values((data_migrations::name.eq(NAME), data_migrations::applied_at.eq(now)))
                    .execute(c)?;
                if !changes.is_empty() {
                    tracing::info!(rows = changes.len(), "normalised stored emails to Unicode NFC");
                }
                Ok(changes.len())
            })
        }
    };
}

define_step!(
    /// Runs the step on PostgreSQL unless it was done already; returns how many rows changed.
    on_postgres,
    AsyncConnectionWrapper<AsyncPgConnection>
);
define_step!(
    /// Runs the step on SQLite unless it was done already; returns how many rows changed.
    on_sqlite,
    SqliteConnection
);

#[cfg(test)]
mod tests {
    use super::{Change, plan};

    fn row(id: i64, email: &str, key: &str) -> (i64, String, String) {
        (id, email.to_owned(), key.to_owned())
    }

    #[test]
    fn decomposed_rows_change_and_composed_ones_do_not() {
        let rows = vec![
            row(1, "Jose\u{301}@example.com", "jose\u{301}@example.com"),
            row(2, "ann@example.com", "ann@example.com"),
        ];
        assert_eq!(
            plan(rows).unwrap(),
            vec![Change {
                id: 1,
                email: "Jos\u{e9}@example.com".to_owned(),
                key: "jos\u{e9}@example.com".to_owned(),
            }]
        );
    }

    #[test]
    fn rows_that_would_share_a_key_are_named() {
        let rows = vec![
            row(3, "Jose\u{301}@example.com", "jose\u{301}@example.com"),
            row(4, "ann@example.com", "ann@example.com"),
            row(7, "jos\u{e9}@example.com", "jos\u{e9}@example.com"),
        ];
        let message = plan(rows).unwrap_err().to_string();
        assert!(
            message.starts_with("users 3 and 7 have the same email"),
            "{message}"
        );
    }
}
