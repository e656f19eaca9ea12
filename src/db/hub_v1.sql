-- The hub's own tables, beside the catalog's.

-- Every catalog row's latest state, for kiosks to pull "changes since a cursor".
-- One entry per key: INSERT OR REPLACE gives a changed key a new, higher id.
-- body is the row as JSON, NULL when the row was removed.
CREATE TABLE catalog_log (
    id    INTEGER PRIMARY KEY AUTOINCREMENT,
    kind  TEXT NOT NULL,          -- 'variant' (scope = lang) or 'stock' (scope = store code)
    scope TEXT NOT NULL,
    sku   TEXT NOT NULL,
    body  TEXT,
    UNIQUE (kind, scope, sku)
);

-- Kiosks. Credentials are stored as SHA-256 of a 256-bit random token.
CREATE TABLE device (
    id          INTEGER PRIMARY KEY,
    store_code  TEXT NOT NULL,
    name        TEXT,
    token_hash  BLOB NOT NULL UNIQUE,
    enrolled_at INTEGER NOT NULL,
    revoked_at  INTEGER
);

-- One-time enrollment codes, hashed; used_at is set when a kiosk exchanges one.
CREATE TABLE enroll_code (
    code_hash  BLOB PRIMARY KEY,
    store_code TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) WITHOUT ROWID;

-- Web store API keys, hashed.
CREATE TABLE api_key (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    key_hash   BLOB NOT NULL UNIQUE,
    scopes     TEXT NOT NULL,     -- space-separated, see hub::auth::Scope
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

-- Op streams: one per kiosk database, one or more per web store key.
CREATE TABLE stream (
    id         TEXT PRIMARY KEY,
    device_id  INTEGER REFERENCES device (id),
    key_id     INTEGER REFERENCES api_key (id),
    acked_seq  INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    CHECK ((device_id IS NULL) <> (key_id IS NULL))
) WITHOUT ROWID;

-- Every op received, by stream and seq: a resent op is recognised by its content hash.
CREATE TABLE op (
    stream  TEXT NOT NULL,
    seq     INTEGER NOT NULL,
    hash    INTEGER NOT NULL,
    status  TEXT NOT NULL,        -- applied | rejected
    reason  TEXT,
    PRIMARY KEY (stream, seq)
) WITHOUT ROWID;

-- Wishlist lines: the latest state per (owner, sku), last writer wins by (hlc, stream, seq).
-- change_id orders the changes feed; a line gets a new one each time it changes.
CREATE TABLE wishlist (
    owner_kind TEXT NOT NULL,     -- customer | visit
    owner      TEXT NOT NULL,
    sku        TEXT NOT NULL,
    present    INTEGER NOT NULL,
    hlc        INTEGER NOT NULL,
    stream     TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    channel    TEXT NOT NULL,     -- kiosk | webstore
    store_code TEXT,
    device_id  INTEGER,
    session    TEXT,
    change_id  INTEGER NOT NULL UNIQUE,
    changed_at INTEGER NOT NULL,  -- unix milliseconds
    PRIMARY KEY (owner_kind, owner, sku)
) WITHOUT ROWID;

-- Customers erased at the web store's request (GDPR): SHA-256 of the reference only.
CREATE TABLE erased_customer (
    ref_hash   BLOB PRIMARY KEY,
    erased_at  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE hub_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
