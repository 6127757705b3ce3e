-- The contact inbox: a message an editor has dealt with is marked done.
ALTER TABLE messages ADD COLUMN done_at INTEGER;
CREATE INDEX messages_inbox ON messages (site_id, done_at, created_at);
CREATE INDEX subscribers_admin ON subscribers (site_id, status, lang, created_at);
