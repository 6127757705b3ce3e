-- Review links: a signed, expiring address at which someone without an
-- account (the campaign's lawyer, a family member) reads an item as it
-- would be published, draft or not. The link's token carries `nonce`;
-- revoking or expiry here ends it whatever the token says.
CREATE TABLE review_links (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    nonce TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX review_links_item ON review_links (site_id, kind, key);
