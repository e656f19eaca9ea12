-- The kiosk's own search index (src/catalog/search), in place of FTS5: for each folded
-- term of a language, the product groups it is in, each with the best field it is in
-- (0 title, 1 brand, 2 category, 3 colours, 4 description), varint-coded by id. Terms
-- ending in `*` are the one- and two-letter prefixes of the terms.
CREATE TABLE search_posting (
    lang     TEXT NOT NULL,
    term     TEXT NOT NULL,
    postings BLOB NOT NULL,
    PRIMARY KEY (lang, term)
) WITHOUT ROWID;

-- The shop's synonym rules (`fr: pull = pullover`), as the hub last sent them.
CREATE TABLE search_synonym (
    position INTEGER PRIMARY KEY,
    rule     TEXT NOT NULL
);

-- A product group's indexed description (its start), kept so that a change can remove
-- the terms it had.
ALTER TABLE product ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
UPDATE product SET search_text = COALESCE((SELECT description FROM product_fts WHERE rowid = product.id), '');
DROP TABLE product_fts;

-- An empty catalog's index is complete; one imported before this version is built at
-- its first search.
INSERT INTO catalog_meta (key, value) SELECT 'search_index', 'v1' WHERE NOT EXISTS (SELECT 1 FROM product);

-- Search ranks what is in stock here first, reading each stocked SKU's product group:
-- from this index alone rather than from the variant's wide row (a large catalog's shop
-- stock is read in a fraction of the time).
DROP INDEX variant_by_sku;
CREATE INDEX variant_by_sku ON variant (sku, lang, group_id);
