-- On PostgreSQL, 0001 creates the schema as SQLite's 0016_newsletters.sql leaves it.
SELECT 1;
