-- The live sessions of one user, for the session limit checked at every sign-in and for the
-- session list. The index on (user_id, created_at) also holds every revoked session, which
-- the sign-in's query read and skipped one by one: a user who had signed in a thousand times
-- paid for a thousand rows on each sign-in, until the retention purge removed them.
CREATE INDEX sessions_live_user_idx ON sessions (user_id, created_at) WHERE revoked_at IS NULL;
