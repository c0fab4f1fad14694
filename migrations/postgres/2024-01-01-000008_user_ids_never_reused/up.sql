-- User ids are never reused, also after an account is deleted: the audit trail keeps the ids
-- of deleted accounts. An identity column never hands out a value twice, so PostgreSQL needs
-- no change; the rule is recorded on the column. (SQLite's table is rebuilt with
-- AUTOINCREMENT by the migration of the same name.)
COMMENT ON COLUMN users.id IS 'never reused, also after the account is deleted';
