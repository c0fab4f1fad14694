-- Append-only security history. No foreign keys: the history outlives the rows it mentions.
CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    event TEXT NOT NULL,
    reason TEXT,
    request_id TEXT,
    user_id BIGINT,
    session_id TEXT,
    client_ip TEXT
);
CREATE INDEX audit_events_user_id_idx ON audit_events (user_id);
