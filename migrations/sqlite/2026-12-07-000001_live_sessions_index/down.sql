DROP INDEX sessions_live_user_idx;
