-- Back to a plain INTEGER PRIMARY KEY, rebuilt the same careful way as in up.sql.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
CREATE TABLE users_rebuilt (
    id INTEGER PRIMARY KEY NOT NULL,
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
CREATE TEMP TABLE users_rebuild_check (dangling INTEGER NOT NULL CHECK (dangling = 0));
INSERT INTO users_rebuild_check SELECT COUNT(*) FROM pragma_foreign_key_check;
DROP TABLE users_rebuild_check;
COMMIT;
PRAGMA foreign_keys = ON;
