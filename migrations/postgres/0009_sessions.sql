-- On PostgreSQL, 0001 creates the schema as SQLite's 0009_sessions.sql leaves it.
SELECT 1;
