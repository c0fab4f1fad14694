-- Devices an account signed in from: an opaque token per device, stored only as a SHA-256
-- hash. Attempts that present a live one are throttled in that device's own bucket, so
-- strangers' failures cannot lock the owner's devices out.
CREATE TABLE device_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX device_tokens_user_id_idx ON device_tokens (user_id);
