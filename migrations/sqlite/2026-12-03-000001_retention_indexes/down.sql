DROP INDEX audit_events_occurred_at_idx;
DROP INDEX throttles_updated_at_idx;
DROP INDEX device_tokens_expires_at_idx;
DROP INDEX sessions_last_used_at_idx;
