-- Newsletters editors write and send to the confirmed subscribers of one
-- language. `sent_at` NULL: a draft. Each mail of an issue is an outbox row
-- that names it, so its progress is counted from the outbox.
CREATE TABLE newsletters (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    lang TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    sent_at INTEGER,
    recipients INTEGER NOT NULL DEFAULT 0
);
ALTER TABLE outbox ADD COLUMN newsletter_id INTEGER REFERENCES newsletters(id) ON DELETE SET NULL;
CREATE INDEX outbox_newsletter ON outbox (newsletter_id) WHERE newsletter_id IS NOT NULL;
