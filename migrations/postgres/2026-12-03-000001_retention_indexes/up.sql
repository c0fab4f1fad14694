-- Indexes for the retention purge, which deletes in small batches by these columns: sessions
-- whose newest token has expired, device tokens past their end, throttle counters untouched
-- for long, audit events past the retention period.
CREATE INDEX sessions_last_used_at_idx ON sessions (last_used_at);
CREATE INDEX device_tokens_expires_at_idx ON device_tokens (expires_at);
CREATE INDEX throttles_updated_at_idx ON throttles (updated_at);
CREATE INDEX audit_events_occurred_at_idx ON audit_events (occurred_at);
