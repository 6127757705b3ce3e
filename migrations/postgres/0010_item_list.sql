-- On PostgreSQL, 0001 creates the schema as SQLite's 0010_item_list.sql leaves it.
SELECT 1;
