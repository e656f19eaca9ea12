-- The hub never searches: the FTS5 index goes (kiosks keep their own, kiosk_v9.sql).
-- A product group's indexed description is kept beside it, as on kiosks.
ALTER TABLE product ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
DROP TABLE product_fts;
