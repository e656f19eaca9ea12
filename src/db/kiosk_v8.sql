-- The chain's brand as the hub last sent it (JSON, `protocol::brand::Brand`), and the
-- logo and fonts it names, fetched once per digest: shown without a restart, and offline.
ALTER TABLE hub_settings ADD COLUMN brand TEXT;
CREATE TABLE brand_logo (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    sha256 TEXT NOT NULL,
    bytes  BLOB NOT NULL
);
CREATE TABLE brand_font (
    sha256 TEXT PRIMARY KEY,
    bytes  BLOB NOT NULL
) WITHOUT ROWID;
