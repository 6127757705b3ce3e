-- On PostgreSQL, 0001 creates the schema as SQLite's 0015_user_language.sql leaves it.
SELECT 1;
