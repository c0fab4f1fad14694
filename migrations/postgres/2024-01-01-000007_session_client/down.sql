DROP INDEX sessions_user_id_created_at_idx;
ALTER TABLE sessions DROP COLUMN user_agent;
ALTER TABLE sessions DROP COLUMN ip;
