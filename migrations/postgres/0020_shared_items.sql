-- Items one site shows although another stores them (see SQLite's
-- 0020_shared_items.sql).
CREATE TABLE item_sites (
    item_id BIGINT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    site_id BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    PRIMARY KEY (item_id, site_id)
);
CREATE INDEX item_sites_by_site ON item_sites (site_id);

CREATE VIEW site_items AS
SELECT i.site_id AS in_site, i.* FROM items i
UNION ALL
SELECT s.site_id AS in_site, i.* FROM items i JOIN item_sites s ON s.item_id = i.id;
