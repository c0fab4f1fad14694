DROP INDEX sessions_expires_at_idx;
CREATE INDEX sessions_last_used_at_idx ON sessions (last_used_at);
CREATE INDEX sessions_current_jti_hash_idx ON sessions (current_jti_hash);
