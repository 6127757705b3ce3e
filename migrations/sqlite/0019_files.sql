-- Document files (PDFs), uploaded in the admin or imported with a bundle,
-- with the text read from them for search (`note` says why there is none).
-- The file is `<files>/<name>`, one folder for the install; it is served
-- only while a published document names it. A document's searchable text
-- (`items.file_text`) is copied from here when the document is saved.
CREATE TABLE files (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    media_type TEXT NOT NULL,
    text TEXT NOT NULL,
    note TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- The files documents named before: their text was kept with the item.
INSERT OR IGNORE INTO files (name, media_type, text, note, created_by, created_at)
SELECT json_extract(data, '$.file'), 'application/pdf', file_text, '', 'import', created_at
FROM items WHERE kind = 'document' AND json_extract(data, '$.file') IS NOT NULL
ORDER BY id;
