-- The chain's brand as set in the console (one row): the JSON of `protocol::brand::Brand`
-- and the logo's bytes. `hub.toml [brand]`, when present, is shown instead.
CREATE TABLE brand (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    body       TEXT NOT NULL,
    logo       BLOB,
    updated_at INTEGER NOT NULL
);
