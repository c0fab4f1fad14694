-- Attempt counters for throttling and lockout, shared by every instance of the service.
-- One row per key (e.g. a client address with an account); updated with atomic upserts.
CREATE TABLE throttles (
    key TEXT PRIMARY KEY NOT NULL,
    hits BIGINT NOT NULL,
    window_started_at TIMESTAMP NOT NULL,
    blocked_until TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);
