DROP TABLE data_migrations;
ALTER TABLE users DROP COLUMN password_normalized;
