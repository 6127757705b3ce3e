-- On PostgreSQL, 0001 creates the schema as SQLite's 0006_item_images.sql leaves it.
SELECT 1;
