-- Two-factor sign-in. `totp_secret` is set once the user has confirmed a
-- code from their app; `totp_pending` holds a secret shown but not yet
-- confirmed; `totp_last_step` is the last time step accepted, so a code
-- works once (RFC 6238, 5.2). Recovery codes are stored as SHA-256.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_pending TEXT;
ALTER TABLE users ADD COLUMN totp_last_step INTEGER;

CREATE TABLE recovery_codes (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at INTEGER,
    PRIMARY KEY (user_id, code_hash)
);

-- Rules for the whole admin, set by owners: `require_two_factor` = '1'.
CREATE TABLE admin_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
