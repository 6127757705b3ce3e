-- Images editors upload in the admin. The key names the image by its
-- content and size (`img-<hash>-<w>x<h>`); its resized variants are files
-- under `<files>/media/<key>/`, the original beside them, never served.
-- `alt` is JSON: the alternative text per language.
CREATE TABLE media (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    alt TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (site_id, key)
);
