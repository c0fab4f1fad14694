-- User ids are never reused, also after an account is deleted (the audit trail keeps the ids
-- of deleted accounts). Without AUTOINCREMENT, SQLite hands out the largest id + 1, which is a
-- deleted account's id again; AUTOINCREMENT needs the table rebuilt.
--
-- The rebuild follows SQLite's procedure for schema changes (sqlite.org/lang_altertable.html,
-- "Making Other Kinds Of Table Schema Changes"): `sessions` and `device_tokens` reference
-- `users` with ON DELETE CASCADE, so with foreign keys on, dropping the old table would delete
-- every session and device token. Foreign keys are switched off (only possible outside a
-- transaction, hence metadata.toml), the table is rebuilt in one transaction, the references
-- are checked before it commits, and foreign keys are switched on again.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
CREATE TABLE users_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    email TEXT NOT NULL,
    email_normalized TEXT NOT NULL UNIQUE,
    username TEXT NOT NULL,
    username_normalized TEXT NOT NULL UNIQUE,
    hashed_password TEXT NOT NULL,
    is_active BOOLEAN NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    last_login TIMESTAMP,
    password_normalized BOOLEAN NOT NULL DEFAULT 0
);
INSERT INTO users_rebuilt (id, email, email_normalized, username, username_normalized,
    hashed_password, is_active, created_at, updated_at, last_login, password_normalized)
SELECT id, email, email_normalized, username, username_normalized,
    hashed_password, is_active, created_at, updated_at, last_login, password_normalized
FROM users;
DROP TABLE users;
ALTER TABLE users_rebuilt RENAME TO users;
-- Ids the audit trail mentions are taken too, even when their account is gone already.
INSERT INTO sqlite_sequence (name, seq)
SELECT 'users', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'users');
UPDATE sqlite_sequence
SET seq = MAX(seq, COALESCE((SELECT MAX(user_id) FROM audit_events), 0),
    COALESCE((SELECT MAX(id) FROM users), 0))
WHERE name = 'users';
-- Any reference left dangling fails the CHECK, which rolls the rebuild back.
CREATE TEMP TABLE users_rebuild_check (dangling INTEGER NOT NULL CHECK (dangling = 0));
INSERT INTO users_rebuild_check SELECT COUNT(*) FROM pragma_foreign_key_check;
DROP TABLE users_rebuild_check;
COMMIT;
PRAGMA foreign_keys = ON;
