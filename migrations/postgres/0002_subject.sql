-- On PostgreSQL, 0001 creates the schema as SQLite's 0002_subject.sql leaves it.
SELECT 1;
