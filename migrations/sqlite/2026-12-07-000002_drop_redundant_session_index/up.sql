-- The index on sessions (user_id) alone is a prefix of sessions_user_id_created_at_idx, which
-- serves every lookup by user (the session list, signing out everywhere, the cascade of an
-- account's deletion) as well. Keeping both cost one more index page written with every
-- session opened.
DROP INDEX sessions_user_id_idx;
