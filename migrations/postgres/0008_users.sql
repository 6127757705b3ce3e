-- On PostgreSQL, 0001 creates the schema as SQLite's 0008_users.sql leaves it.
SELECT 1;
