-- The language a user reads the admin in; NULL: the browser's preference.
ALTER TABLE users ADD COLUMN ui_lang TEXT;
