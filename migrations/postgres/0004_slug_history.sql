-- On PostgreSQL, 0001 creates the schema as SQLite's 0004_slug_history.sql leaves it.
SELECT 1;
