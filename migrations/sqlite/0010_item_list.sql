-- What the admin's lists show, kept beside each item so that a list of
-- 10,000 posts is a paged query, not 10,000 JSON documents parsed per
-- request: the title (in the first language that has one) and the
-- languages that have a title. Written with the item on every write;
-- filled here for the rows that exist.

ALTER TABLE items ADD COLUMN title TEXT NOT NULL DEFAULT '';
ALTER TABLE items ADD COLUMN text_langs TEXT NOT NULL DEFAULT '';  -- 'de en', 'en', '' (no texts)

UPDATE items SET
    title = COALESCE(NULLIF(json_extract(data, '$.en.title'), ''), NULLIF(json_extract(data, '$.de.title'), ''), ''),
    text_langs = TRIM(
        CASE WHEN COALESCE(json_extract(data, '$.de.title'), '') <> '' THEN 'de ' ELSE '' END ||
        CASE WHEN COALESCE(json_extract(data, '$.en.title'), '') <> '' THEN 'en' ELSE '' END
    );

-- Covering: a list, its search and its count read this index, never the
-- rows with their JSON.
CREATE INDEX items_list ON items (site_id, kind, deleted_at, key, status, title, text_langs);
