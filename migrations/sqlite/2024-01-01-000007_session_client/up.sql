-- Where a session is used from, for the account's list of sessions: the client address and
-- user agent recorded when the session opened, updated at each refresh (the user agent cut to
-- 256 characters). Older sessions have neither.
ALTER TABLE sessions ADD COLUMN ip TEXT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
-- The account's sessions, newest first.
CREATE INDEX sessions_user_id_created_at_idx ON sessions (user_id, created_at);
