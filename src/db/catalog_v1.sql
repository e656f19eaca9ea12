-- Catalog, as the product and local inventory feeds describe it.

-- One row per SKU and content language (a retailer exports one product feed per language).
CREATE TABLE variant (
    lang              TEXT NOT NULL,
    sku               TEXT NOT NULL,
    group_id          TEXT NOT NULL,
    title             TEXT NOT NULL,
    description       TEXT NOT NULL,
    brand             TEXT,
    gtin              TEXT,           -- GTIN-14
    mpn               TEXT,
    category          TEXT,
    size              TEXT,
    color             TEXT,
    gender            TEXT,
    age_group         TEXT,
    price_minor       INTEGER NOT NULL,
    currency          TEXT NOT NULL,
    sale_minor        INTEGER,
    sale_starts       INTEGER,        -- unix seconds
    sale_ends         INTEGER,
    availability      TEXT NOT NULL,  -- online availability
    link              TEXT,
    image_link        TEXT,
    additional_images TEXT NOT NULL,  -- JSON array of URLs
    content_hash      INTEGER NOT NULL,
    PRIMARY KEY (lang, sku)
) WITHOUT ROWID;
CREATE INDEX variant_by_sku ON variant (sku);
CREATE INDEX variant_by_group ON variant (lang, group_id);
CREATE INDEX variant_by_gtin ON variant (gtin) WHERE gtin IS NOT NULL;
CREATE INDEX variant_by_mpn ON variant (mpn) WHERE mpn IS NOT NULL;

-- One row per product group (item_group_id) and language: what a result card shows.
-- Derived from `variant` by the importer, never written otherwise.
CREATE TABLE product (
    id            INTEGER PRIMARY KEY,
    lang          TEXT NOT NULL,
    group_id      TEXT NOT NULL,
    title         TEXT NOT NULL,
    brand         TEXT,
    category      TEXT,
    price_min     INTEGER NOT NULL,
    sale_min      INTEGER,
    currency      TEXT NOT NULL,
    image_link    TEXT,
    colors        TEXT NOT NULL,
    variant_count INTEGER NOT NULL,
    UNIQUE (lang, group_id)
);
CREATE INDEX product_by_category ON product (lang, category, title);
CREATE INDEX product_by_title ON product (lang, title);
CREATE INDEX product_on_sale ON product (lang, sale_min) WHERE sale_min IS NOT NULL;

-- Search: rowid = product.id. Diacritics folded, prefix indexes for search-as-you-type.
CREATE VIRTUAL TABLE product_fts USING fts5(
    title, brand, category, colors, description,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2 3'
);

-- Local inventory: one row per shop and SKU.
CREATE TABLE stock (
    store_code   TEXT NOT NULL,
    sku          TEXT NOT NULL,
    quantity     INTEGER,
    availability TEXT NOT NULL,
    price_minor  INTEGER,
    currency     TEXT,
    sale_minor   INTEGER,
    sale_starts  INTEGER,
    sale_ends    INTEGER,
    content_hash INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,   -- unix seconds of the import that last changed it
    PRIMARY KEY (store_code, sku)
) WITHOUT ROWID;
CREATE INDEX stock_by_sku ON stock (sku);

CREATE TABLE catalog_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
