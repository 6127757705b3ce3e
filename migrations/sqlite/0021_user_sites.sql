-- The sites a user may edit, by key; a user without rows edits every site
-- of the install. Keys, not ids: a user may be added before the sites
-- exist (`casefile user add --site KEY` before the first start).
CREATE TABLE user_sites (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    site_key TEXT NOT NULL,
    PRIMARY KEY (user_id, site_key)
);
