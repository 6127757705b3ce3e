-- The person a campaign is about, for structured data (schema.org Person).
-- One per site, optional. Facts only as the sources give them.
CREATE TABLE site_subjects (
    site_id INTEGER PRIMARY KEY REFERENCES sites(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    birth_date TEXT,
    birth_place TEXT,
    nationality TEXT
);
