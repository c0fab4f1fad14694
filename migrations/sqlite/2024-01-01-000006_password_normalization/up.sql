-- Which password hashes were made from the NFKC form of the password. Hashes stored before
-- normalisation (this service's older ones, the Python service's bcrypt ones) were made from
-- the bytes as typed: they stay FALSE until the next successful sign-in rehashes them.
ALTER TABLE users ADD COLUMN password_normalized BOOLEAN NOT NULL DEFAULT 0;

-- Data migrations done in Rust after the SQL ones (Unicode normalisation is not available in
-- SQLite's SQL): one row per step, written in the same transaction as the step's changes.
CREATE TABLE data_migrations (
    name TEXT PRIMARY KEY NOT NULL,
    applied_at TIMESTAMP NOT NULL
);
