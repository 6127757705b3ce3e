-- The content model. Portable SQL: the same statements (with the PostgreSQL
-- spelling of the id columns) go into migrations/postgres/ when that backend
-- lands. Every item has a status, a publication time and created/updated
-- times (unix seconds, UTC). Per-language text lives in *_translations tables.

CREATE TABLE sites (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    default_lang TEXT NOT NULL,
    languages TEXT NOT NULL,          -- comma-separated, default first
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE site_translations (
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    lang TEXT NOT NULL,
    name TEXT NOT NULL,
    tagline TEXT NOT NULL,
    footer TEXT NOT NULL,
    PRIMARY KEY (site_id, lang)
);

CREATE TABLE site_hosts (
    host TEXT PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE
);

CREATE TABLE pages (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    template TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    published_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (site_id, key)
);

CREATE TABLE page_translations (
    page_id INTEGER NOT NULL REFERENCES pages(id) ON DELETE CASCADE,
    lang TEXT NOT NULL,
    slug TEXT NOT NULL,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (page_id, lang)
);

CREATE TABLE news_posts (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    date TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    published_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (site_id, key)
);

CREATE TABLE news_translations (
    news_id INTEGER NOT NULL REFERENCES news_posts(id) ON DELETE CASCADE,
    lang TEXT NOT NULL,
    slug TEXT NOT NULL,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (news_id, lang)
);

CREATE TABLE timeline_events (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    date TEXT NOT NULL,               -- YYYY, YYYY-MM or YYYY-MM-DD: the precision is the form
    end_date TEXT,
    status TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    published_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (site_id, key)
);

CREATE TABLE timeline_translations (
    event_id INTEGER NOT NULL REFERENCES timeline_events(id) ON DELETE CASCADE,
    lang TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (event_id, lang)
);

CREATE TABLE press_reports (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    title TEXT,                       -- the report's own title, untranslated
    outlet TEXT,
    date TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('article', 'op-ed', 'letter', 'radio', 'podcast', 'tv', 'film')),
    language TEXT NOT NULL,
    url TEXT,
    quote TEXT,
    status TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    published_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (site_id, key)
);

CREATE TABLE press_authors (
    report_id INTEGER NOT NULL REFERENCES press_reports(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (report_id, position)
);

CREATE TABLE press_translations (
    report_id INTEGER NOT NULL REFERENCES press_reports(id) ON DELETE CASCADE,
    lang TEXT NOT NULL,
    title TEXT NOT NULL,              -- a description where the report's title is unknown
    summary TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (report_id, lang)
);

CREATE TABLE people (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    position INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    published_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (site_id, key)
);

CREATE TABLE person_translations (
    person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    lang TEXT NOT NULL,
    role TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (person_id, lang)
);

CREATE TABLE statements (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    position INTEGER NOT NULL,
    date TEXT,
    quote TEXT,                       -- exact words, only where a source quotes them
    language TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    published_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (person_id, key)
);

CREATE TABLE statement_translations (
    statement_id INTEGER NOT NULL REFERENCES statements(id) ON DELETE CASCADE,
    lang TEXT NOT NULL,
    summary TEXT NOT NULL,
    translation TEXT,
    PRIMARY KEY (statement_id, lang)
);

CREATE TABLE books (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    title TEXT NOT NULL,
    year INTEGER,
    publisher TEXT,
    isbn TEXT,
    language TEXT NOT NULL,
    cover TEXT,
    status TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    published_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (site_id, key)
);

CREATE TABLE book_contributors (
    book_id INTEGER NOT NULL REFERENCES books(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,               -- author | co-author | foreword | translator | editor
    PRIMARY KEY (book_id, position)
);

CREATE TABLE book_links (
    book_id INTEGER NOT NULL REFERENCES books(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    label TEXT NOT NULL,
    url TEXT NOT NULL,
    PRIMARY KEY (book_id, position)
);

CREATE TABLE book_translations (
    book_id INTEGER NOT NULL REFERENCES books(id) ON DELETE CASCADE,
    lang TEXT NOT NULL,
    summary TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (book_id, lang)
);

CREATE TABLE evidence_items (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    position INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    published_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (site_id, key)
);

CREATE TABLE evidence_translations (
    evidence_id INTEGER NOT NULL REFERENCES evidence_items(id) ON DELETE CASCADE,
    lang TEXT NOT NULL,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    contested TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (evidence_id, lang)
);

CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    file_path TEXT,                   -- relative to the data folder's files/; NULL while not held
    media_type TEXT,
    date TEXT,
    status TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    published_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (site_id, key)
);

CREATE TABLE document_translations (
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    lang TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    PRIMARY KEY (document_id, lang)
);

CREATE TABLE media_items (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('video', 'audio')),
    provider TEXT,
    embed_url TEXT,
    page_url TEXT,
    date TEXT,
    status TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    published_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (site_id, key)
);

CREATE TABLE media_translations (
    media_id INTEGER NOT NULL REFERENCES media_items(id) ON DELETE CASCADE,
    lang TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    PRIMARY KEY (media_id, lang)
);

-- A citable source: a seed snapshot, a web page, a press report or a document.
CREATE TABLE sources (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('seed', 'url', 'press', 'document')),
    url TEXT,
    press_report_id INTEGER REFERENCES press_reports(id) ON DELETE SET NULL,
    document_id INTEGER REFERENCES documents(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (site_id, key)
);

CREATE TABLE source_translations (
    source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    lang TEXT NOT NULL,
    citation TEXT NOT NULL,
    PRIMARY KEY (source_id, lang)
);

-- Which source backs which item, in order. subject_type names the table
-- (page, news, timeline, press, person, statement, book, evidence, document, media).
CREATE TABLE citations (
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    subject_type TEXT NOT NULL,
    subject_id INTEGER NOT NULL,
    position INTEGER NOT NULL,
    source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    PRIMARY KEY (subject_type, subject_id, position)
);

-- Related items shown with a timeline event (press reports, documents, media).
CREATE TABLE timeline_links (
    event_id INTEGER NOT NULL REFERENCES timeline_events(id) ON DELETE CASCADE,
    target_type TEXT NOT NULL CHECK (target_type IN ('press', 'document', 'media')),
    target_id INTEGER NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (event_id, target_type, position)
);

CREATE TABLE menus (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    UNIQUE (site_id, key)
);

-- The main menu is the menu with key 'main'; a page is in it when it has a row here.
CREATE TABLE menu_items (
    menu_id INTEGER NOT NULL REFERENCES menus(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    page_id INTEGER NOT NULL REFERENCES pages(id) ON DELETE CASCADE,
    PRIMARY KEY (menu_id, position)
);

CREATE TABLE redirects (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    from_path TEXT NOT NULL,
    to_path TEXT NOT NULL,
    status_code INTEGER NOT NULL DEFAULT 301,
    created_at INTEGER NOT NULL,
    UNIQUE (site_id, from_path)
);

-- Room for the admin: a JSON snapshot of an item per saved version.
CREATE TABLE revisions (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    subject_type TEXT NOT NULL,
    subject_id INTEGER NOT NULL,
    data TEXT NOT NULL,
    author TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX revisions_subject ON revisions (subject_type, subject_id);

-- Bumped on every content change; servers compare it to know their page
-- cache is stale (also across processes sharing one database).
CREATE TABLE content_version (
    site_id INTEGER PRIMARY KEY REFERENCES sites(id) ON DELETE CASCADE,
    version INTEGER NOT NULL
);
