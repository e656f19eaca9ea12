-- The web store's pages this kiosk links to, as the hub said last (one row).
CREATE TABLE hub_settings (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    list_url   TEXT,
    pairing    INTEGER NOT NULL,  -- 1 if shoppers can sign in with their phone
    fetched_at INTEGER NOT NULL   -- unix milliseconds
);

-- Customer tokens this kiosk accepted, by hash, until they expire: a restart does not
-- make a used code good again.
CREATE TABLE token_seen (
    hash       BLOB PRIMARY KEY,
    expires_at INTEGER NOT NULL   -- unix seconds
) WITHOUT ROWID;
