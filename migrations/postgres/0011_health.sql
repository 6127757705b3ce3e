-- On PostgreSQL, 0001 creates the schema as SQLite's 0011_health.sql leaves it.
SELECT 1;
