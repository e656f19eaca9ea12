-- Imports keep their warnings apart from their rejections: what was dropped, repaired or
-- read differently so an item could land (a GTIN with a wrong check digit, a stray `&`).
ALTER TABLE feed_import ADD COLUMN warnings INTEGER NOT NULL DEFAULT 0;
ALTER TABLE feed_import ADD COLUMN warning_list TEXT NOT NULL DEFAULT '[]';  -- JSON, at most 1000
