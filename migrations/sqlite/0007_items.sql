-- Content as documents, written one item at a time.
--
-- Every item (page, news post, timeline event, source, redirect, …) and the
-- site's settings are one row of `items`: the item's JSON (the bundle
-- format's fields) plus the columns the store queries. `item_links` and
-- `item_names` are derived from the JSON on every write: what an item refers
-- to (so nothing can be deleted while something still refers to it) and the
-- names that must be unique in a site (slugs, former slugs, statement
-- anchors). Every write stores a revision in the same transaction.
--
-- The old per-kind tables only ever held the embedded default bundle (no
-- editor existed before this version), so they are dropped and the server
-- imports the default content again on its next start. Signatures, the one
-- personal data tied to a content row, move from the petition's row id to
-- its key and are kept.

CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    published_at INTEGER,
    data TEXT NOT NULL,
    file_text TEXT NOT NULL DEFAULT '',  -- a document's extracted text, for search
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    deleted_at INTEGER,                  -- in the trash since; NULL while live
    UNIQUE (site_id, kind, key)
);
CREATE INDEX items_by_kind ON items (site_id, kind, deleted_at, updated_at);

CREATE TABLE item_links (
    item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    site_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    PRIMARY KEY (item_id, kind, key)
);
CREATE INDEX item_links_target ON item_links (site_id, kind, key);

CREATE TABLE item_names (
    item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    site_id INTEGER NOT NULL,
    space TEXT NOT NULL,                 -- 'page:en', 'news:de', 'statement'
    name TEXT NOT NULL,
    PRIMARY KEY (site_id, space, name)
);
CREATE INDEX item_names_item ON item_names (item_id);

DROP TABLE revisions;
CREATE TABLE revisions (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('create', 'update', 'delete', 'restore')),
    data TEXT NOT NULL,                  -- the item's JSON after the change (before it, for a delete)
    author TEXT NOT NULL,
    note TEXT NOT NULL,
    version INTEGER NOT NULL,            -- the content version the change made
    created_at INTEGER NOT NULL
);
CREATE INDEX revisions_item ON revisions (site_id, kind, key, id);

CREATE TABLE signatures_by_key (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    petition TEXT NOT NULL,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    country TEXT NOT NULL,
    show_name INTEGER NOT NULL,
    lang TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed')),
    confirm_nonce TEXT UNIQUE,
    created_at INTEGER NOT NULL,
    confirmed_at INTEGER,
    UNIQUE (site_id, petition, email)
);
INSERT INTO signatures_by_key
    (id, site_id, petition, email, name, country, show_name, lang, status, confirm_nonce, created_at, confirmed_at)
SELECT s.id, p.site_id, p.key, s.email, s.name, s.country, s.show_name, s.lang, s.status, s.confirm_nonce,
       s.created_at, s.confirmed_at
FROM signatures s JOIN petitions p ON p.id = s.petition_id;
DROP TABLE signatures;
ALTER TABLE signatures_by_key RENAME TO signatures;
CREATE INDEX signatures_public ON signatures (site_id, petition, status, confirmed_at);

DROP TABLE citations;
DROP TABLE timeline_links;
DROP TABLE menu_items;
DROP TABLE menus;
DROP TABLE redirects;
DROP TABLE slug_history;
DROP TABLE source_translations;
DROP TABLE sources;
DROP TABLE page_translations;
DROP TABLE pages;
DROP TABLE news_translations;
DROP TABLE news_posts;
DROP TABLE timeline_translations;
DROP TABLE timeline_events;
DROP TABLE press_authors;
DROP TABLE press_translations;
DROP TABLE press_reports;
DROP TABLE statement_translations;
DROP TABLE statements;
DROP TABLE person_translations;
DROP TABLE people;
DROP TABLE book_contributors;
DROP TABLE book_links;
DROP TABLE book_translations;
DROP TABLE books;
DROP TABLE evidence_translations;
DROP TABLE evidence_items;
DROP TABLE document_translations;
DROP TABLE documents;
DROP TABLE media_translations;
DROP TABLE media_items;
DROP TABLE petition_translations;
DROP TABLE petitions;
DROP TABLE site_translations;
DROP TABLE site_subjects;
DROP TABLE site_hosts;
ALTER TABLE sites DROP COLUMN default_lang;
ALTER TABLE sites DROP COLUMN languages;

-- Mail claims carry a lease: a mail in `sending` whose lease ran out (its
-- worker died) is claimed again; nothing is requeued while a lease runs.
-- `claimed_by` names the instance (host and data folder): a restarted
-- instance takes back its own interrupted claims at once.
ALTER TABLE outbox ADD COLUMN claimed_until INTEGER;
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
