-- Accounts. Email and username are unique without regard to case: the lower-cased copies
-- carry the unique constraints, the spelling given at registration is kept for display.
CREATE TABLE users (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email TEXT NOT NULL,
    email_normalized TEXT NOT NULL CONSTRAINT users_email_normalized_key UNIQUE,
    username TEXT NOT NULL,
    username_normalized TEXT NOT NULL CONSTRAINT users_username_normalized_key UNIQUE,
    hashed_password TEXT NOT NULL,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    last_login TIMESTAMP
);
