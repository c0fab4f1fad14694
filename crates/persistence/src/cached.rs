//! Prepared-statement caching for the hot writes.
//!
//! Diesel never caches an `UPDATE` or an upsert: their SQL can change with the values (a
//! changeset struct skips its `None` fields), so it prepares them again on every call. On
//! PostgreSQL that is one more round trip and a parse and plan per call; on SQLite, a compile.
//! A statement wrapped in [`Cached`] is cached under its SQL text and bind types instead,
//! which is exact whatever the values: the hot writes below have one shape each, and a write
//! of another shape gets its own entry.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::result::QueryResult;

/// `statement`, prepared once per connection and reused.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cached<Q>(pub(crate) Q);

impl<Q> QueryId for Cached<Q> {
    type QueryId = ();

    /// Keyed by SQL text: the type of an update statement does not fix its SQL.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Cached<Q> {
    type SqlType = Q::SqlType;
}

impl<Q: QueryFragment<DB>, DB: Backend> QueryFragment<DB> for Cached<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &DB) -> QueryResult<bool> {
        Ok(true)
    }
}
