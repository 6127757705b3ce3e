-- On PostgreSQL, 0001 creates the schema as SQLite's 0003_forms.sql leaves it.
SELECT 1;
