-- On PostgreSQL, 0001 creates the schema as SQLite's 0005_document_text.sql leaves it.
SELECT 1;
