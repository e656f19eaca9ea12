-- The chain's brand as set in the console (one row): the JSON of `protocol::brand::Brand`,
-- the logo's bytes and its own fonts' (titles, text). `hub.toml [brand]`, when present,
-- is shown instead.
CREATE TABLE brand (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    body        TEXT NOT NULL,
    logo        BLOB,
    titles_font BLOB,
    text_font   BLOB,
    updated_at  INTEGER NOT NULL
);
