-- The sites a user may edit (see SQLite's 0021_user_sites.sql).
CREATE TABLE user_sites (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    site_key TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (user_id, site_key)
);
