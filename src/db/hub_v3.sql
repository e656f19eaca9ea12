-- Identifying shoppers: the keys that sign their QR tokens, the aliases tokens name them
-- by, and the visits they signed in to at a kiosk.

-- Ed25519 keys. A token is good only if issued inside its key's window. The hub's own
-- keys have their secret here (it signs for the web store); a web store's own key has
-- only its public half and the API key that registered it.
CREATE TABLE signing_key (
    id          INTEGER PRIMARY KEY CHECK (id BETWEEN 1 AND 65535),
    public_key  BLOB NOT NULL,
    secret      BLOB,
    api_key_id  INTEGER REFERENCES api_key (id),
    not_before  INTEGER NOT NULL,  -- unix seconds
    not_after   INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER,
    CHECK ((secret IS NULL) <> (api_key_id IS NULL))
);

-- A token names a customer by an 8-byte alias (16 hex digits), never by the web store's
-- reference: that would not fit beside the signature, and kiosks need not know it.
CREATE TABLE customer_alias (
    alias      TEXT PRIMARY KEY,
    customer   TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;

-- A customer signed in at a kiosk: one row per kiosk visit (the ops' session).
-- id orders the web store's visits feed.
CREATE TABLE visit (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    session      TEXT NOT NULL UNIQUE,
    customer     TEXT NOT NULL,
    store_code   TEXT NOT NULL,
    device_id    INTEGER NOT NULL,
    signed_in_at INTEGER NOT NULL  -- unix milliseconds, from the op's clock
);
CREATE INDEX visit_by_customer ON visit (customer);
