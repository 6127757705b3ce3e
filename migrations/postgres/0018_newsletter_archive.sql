-- A sent newsletter the editors chose to show in the public archive, since.
ALTER TABLE newsletters ADD COLUMN archived_at BIGINT;
