-- Forms that act: petitions (content), and what visitors send (personal
-- data, never part of the content snapshot). Times are unix seconds, UTC.
-- Email addresses are stored trimmed and lowercased, and compared exactly
-- (never with LIKE). IP addresses are stored shortened (see web::client_ip).

-- A page can show a petition below its body.
ALTER TABLE pages ADD COLUMN petition TEXT;

CREATE TABLE petitions (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    open INTEGER NOT NULL DEFAULT 1,
    goal INTEGER,
    status TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    published_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (site_id, key)
);

CREATE TABLE petition_translations (
    petition_id INTEGER NOT NULL REFERENCES petitions(id) ON DELETE CASCADE,
    lang TEXT NOT NULL,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (petition_id, lang)
);

-- Newsletter subscribers. `confirm_nonce` is the secret behind the current
-- confirmation link (replaced by each new request, kept after use so that a
-- second click answers "already confirmed", cleared on unsubscribing);
-- `unsubscribe_nonce` is the secret behind every unsubscribe link.
CREATE TABLE subscribers (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    lang TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'unsubscribed')),
    confirm_nonce TEXT UNIQUE,
    unsubscribe_nonce TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    confirmed_at INTEGER,
    unsubscribed_at INTEGER,
    UNIQUE (site_id, email)
);

CREATE TABLE signatures (
    id INTEGER PRIMARY KEY,
    petition_id INTEGER NOT NULL REFERENCES petitions(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    country TEXT NOT NULL,
    show_name INTEGER NOT NULL,
    lang TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed')),
    confirm_nonce TEXT UNIQUE,
    created_at INTEGER NOT NULL,
    confirmed_at INTEGER,
    UNIQUE (petition_id, email)
);
CREATE INDEX signatures_public ON signatures (petition_id, status, confirmed_at);

-- Messages from the contact form.
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    lang TEXT NOT NULL,
    ip TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX messages_email ON messages (email);

-- Proof of consent (GDPR Art. 7(1)): what was agreed to, when, from where,
-- and when it was confirmed. `subject` says what it is for:
-- 'newsletter' or 'petition:<key>'.
CREATE TABLE consents (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    subject TEXT NOT NULL,
    text TEXT NOT NULL,
    lang TEXT NOT NULL,
    source_url TEXT NOT NULL,
    ip TEXT NOT NULL,
    given_at INTEGER NOT NULL,
    confirmed_at INTEGER,
    confirm_ip TEXT
);
CREATE INDEX consents_email ON consents (email);

-- "Manage my data" links: valid for a day, deleted after.
CREATE TABLE data_requests (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    nonce TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

-- When an address last got a confirmation-type mail, per purpose: at most
-- one a day, so a form cannot be used to flood someone's inbox.
CREATE TABLE mail_throttle (
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    email TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    PRIMARY KEY (site_id, purpose, email)
);

-- The outbox: every mail is written here in the same transaction as the
-- submission it belongs to, then sent by the mail worker. `state` moves
-- pending -> sending -> sent, or back to pending with a later
-- `next_attempt_at`, or to failed after too many tries or a permanent
-- rejection. The body is cleared once sent.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    message_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    reply_to TEXT,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    list_unsubscribe TEXT,
    state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    sent_at INTEGER
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_recipient ON outbox (recipient);
