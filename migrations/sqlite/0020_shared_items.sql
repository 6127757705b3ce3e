-- Items one site shows although another stores them (a campaign's timeline
-- event on the documentary's site): stored once, under the site that owns
-- it, and listed here for every other site that includes it. An edit is
-- one write; every including site's content version moves with it.
CREATE TABLE item_sites (
    item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    PRIMARY KEY (item_id, site_id)
);
CREATE INDEX item_sites_by_site ON item_sites (site_id);

-- What a site shows: its own items and those it includes, `in_site` being
-- the site asked about and `site_id` the site that stores the item.
CREATE VIEW site_items AS
SELECT i.site_id AS in_site, i.* FROM items i
UNION ALL
SELECT s.site_id AS in_site, i.* FROM items i JOIN item_sites s ON s.item_id = i.id;
