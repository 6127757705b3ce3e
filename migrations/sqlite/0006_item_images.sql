-- A share image for a page or a news post: a file name under <data>/files/.
ALTER TABLE pages ADD COLUMN image TEXT;
ALTER TABLE news_posts ADD COLUMN image TEXT;
