-- On PostgreSQL, 0001 creates the schema as SQLite's 0007_items.sql leaves it.
SELECT 1;
