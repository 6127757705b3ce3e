-- On PostgreSQL, 0001 creates the schema as SQLite's 0012_inbox.sql leaves it.
SELECT 1;
