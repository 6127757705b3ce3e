-- Signing in to the web admin: sessions and failed attempts.
--
-- A session is known by the SHA-256 of its cookie value; its CSRF token is
-- random per session. Failed sign-ins are kept per typed address and per
-- client address for the throttle, and purged after a day.

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE sign_in_failures (
    id INTEGER PRIMARY KEY,
    scope TEXT NOT NULL,                 -- 'email:<address>' or 'ip:<address>'
    at INTEGER NOT NULL
);
CREATE INDEX sign_in_failures_scope ON sign_in_failures (scope, at);
