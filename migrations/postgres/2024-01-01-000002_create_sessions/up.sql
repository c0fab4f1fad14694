-- One row per sign-in: a chain of refresh tokens. Only SHA-256 hashes of token ids are
-- stored. `previous_jti_hash` and `rotated_at` serve the reuse grace window.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    current_jti_hash TEXT NOT NULL,
    previous_jti_hash TEXT,
    rotated_at TIMESTAMP,
    generation BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    revoked_reason TEXT
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_current_jti_hash_idx ON sessions (current_jti_hash);
