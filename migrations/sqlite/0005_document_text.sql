-- The text of a document's file (a PDF), extracted on import, for search.
ALTER TABLE documents ADD COLUMN extracted_text TEXT NOT NULL DEFAULT '';
