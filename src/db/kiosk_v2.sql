-- The keys customer tokens may be signed with, as the hub published them last, and the
-- audience the tokens for this brand's kiosks name (one row).
CREATE TABLE token_trust (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    audience   TEXT NOT NULL,
    fetched_at INTEGER NOT NULL   -- unix milliseconds
);

CREATE TABLE token_key (
    key_id     INTEGER PRIMARY KEY,
    public_key BLOB NOT NULL,
    not_before INTEGER NOT NULL,  -- unix seconds
    not_after  INTEGER NOT NULL
);
