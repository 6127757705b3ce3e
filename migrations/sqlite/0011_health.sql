-- One row that /readyz rewrites: proof that the database still takes a
-- write (a full disk or a read-only file shows here first).
CREATE TABLE health (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    checked_at INTEGER NOT NULL
);
