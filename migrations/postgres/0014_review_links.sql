-- On PostgreSQL, 0001 creates the schema as SQLite's 0014_review_links.sql leaves it.
SELECT 1;
