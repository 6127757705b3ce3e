-- Former slugs of pages and news posts, per language: their old addresses
-- answer 301 to the current one. The admin adds a row when an editor
-- changes a slug; a bundle lists them as `old_slugs`.
CREATE TABLE slug_history (
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    item_type TEXT NOT NULL CHECK (item_type IN ('page', 'news')),
    item_key TEXT NOT NULL,
    lang TEXT NOT NULL,
    slug TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (site_id, item_type, lang, slug)
);
