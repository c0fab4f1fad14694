-- A refresh rewrites a session's current token hash and last use. With an index on either
-- column, every refresh also inserted an entry into every index of the table; with neither,
-- PostgreSQL can update the row without touching an index (a heap-only tuple, when its page
-- has room) and SQLite writes the table's b-tree only.
-- No query looks a session up by its token hash (rotation finds it by id), and the retention
-- purge now finds sessions by their end, which never changes after sign-in.
DROP INDEX sessions_current_jti_hash_idx;
DROP INDEX sessions_last_used_at_idx;
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);
