-- On PostgreSQL, 0001 creates the schema as SQLite's 0013_two_factor.sql leaves it.
SELECT 1;
