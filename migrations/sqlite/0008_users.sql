-- People who edit the site, and how they prove it.
--
-- Users belong to the install, not to a site. Passwords are stored as
-- argon2id PHC strings; session ids and API tokens only as SHA-256 hashes,
-- so a copy of the database lets no one sign in.

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,          -- stored lower-case
    role TEXT NOT NULL CHECK (role IN ('owner', 'editor')),
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,     -- hex SHA-256 of the token
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
