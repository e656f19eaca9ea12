-- Staff mode. The shop's assistants as the hub sent them last: names and Argon2id PIN
-- hashes, checked offline. Replaced whole at each pull.
CREATE TABLE staff (
    id       INTEGER PRIMARY KEY,  -- the hub's id
    name     TEXT NOT NULL,
    pin_hash TEXT NOT NULL
);

-- The chain's shops (the hub's `[[shop]]` config), for names and distances.
CREATE TABLE shop (
    code      TEXT PRIMARY KEY,
    name      TEXT NOT NULL,
    latitude  REAL,
    longitude REAL
) WITHOUT ROWID;

-- Wrong PINs in a row and the lock they set (one row): a restart does not unlock.
CREATE TABLE staff_guard (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    failures     INTEGER NOT NULL,
    locked_until INTEGER           -- unix milliseconds
);

-- Audit events of the keypad, kept until the hub has them.
CREATE TABLE staff_event (
    id           TEXT PRIMARY KEY,  -- random; the hub ignores a resend
    at           INTEGER NOT NULL,  -- unix milliseconds
    kind         TEXT NOT NULL,     -- login | failure | lockout
    staff_id     INTEGER,
    locked_until INTEGER
);
