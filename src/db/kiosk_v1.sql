-- The kiosk's own tables, beside the catalog's.

-- The hub this kiosk is enrolled with, and its credential (one row).
CREATE TABLE device (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    hub_url     TEXT NOT NULL,
    device_id   INTEGER NOT NULL,
    store_code  TEXT NOT NULL,
    token       TEXT NOT NULL,
    enrolled_at INTEGER NOT NULL
);

-- The sender's state (one row). The stream id is random, chosen when the file is made.
CREATE TABLE sync_state (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    stream     TEXT NOT NULL,
    next_seq   INTEGER NOT NULL,
    hlc        INTEGER NOT NULL,
    attempts   INTEGER NOT NULL,
    retry_at   INTEGER,            -- unix milliseconds
    last_push  INTEGER,
    last_error TEXT,
    last_pull  INTEGER
);
INSERT INTO sync_state (id, stream, next_seq, hlc, attempts)
VALUES (1, lower(hex(randomblob(16))), 1, 0, 0);

-- The local view of wishlists: what the screen shows. local = 1 when this kiosk wrote it.
CREATE TABLE wishlist (
    owner_kind TEXT NOT NULL,      -- customer | visit
    owner      TEXT NOT NULL,
    sku        TEXT NOT NULL,
    present    INTEGER NOT NULL,
    hlc        INTEGER NOT NULL,
    session    TEXT,
    local      INTEGER NOT NULL,
    PRIMARY KEY (owner_kind, owner, sku)
) WITHOUT ROWID;

-- Ops waiting for the hub, in order; written in the same transaction as the view.
CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY,
    stream     TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    hlc        INTEGER NOT NULL,
    owner_kind TEXT NOT NULL,
    owner      TEXT NOT NULL,
    sku        TEXT NOT NULL,
    action     TEXT NOT NULL,      -- add | remove
    session    TEXT,
    state      TEXT NOT NULL,      -- pending | rejected
    reason     TEXT,
    UNIQUE (stream, seq)
);
CREATE INDEX outbox_by_state ON outbox (state, id);
