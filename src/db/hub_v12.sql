-- Several hubs on one database (PostgreSQL) share what one hub kept in memory.

-- Work one hub does at a time for all: a scheduled feed fetch, an export, the retention
-- sweep. The holder renews its lease while it works; another hub takes it once it ran out.
CREATE TABLE hub_lease (
    name   TEXT PRIMARY KEY,
    holder TEXT NOT NULL,        -- a hub process's random id
    until  INTEGER NOT NULL      -- unix milliseconds
) WITHOUT ROWID;

-- Sign-in with the phone (hub::pairing): whichever hub a kiosk's poll or the web store's
-- confirmation reaches finds the pairing here. Rows are forgotten a lifetime after
-- they expire; a new pairing of a kiosk marks its earlier ones replaced.
CREATE TABLE pairing (
    device_code BLOB PRIMARY KEY,    -- SHA-256 of the kiosk's handle
    user_code   TEXT NOT NULL UNIQUE,
    device_id   INTEGER NOT NULL,
    store_code  TEXT NOT NULL,
    started_at  INTEGER NOT NULL,    -- unix milliseconds
    expires_at  INTEGER NOT NULL,
    last_poll   INTEGER,
    decision    TEXT NOT NULL,       -- pending | approved | denied | replaced
    token       TEXT                 -- the customer token, from approval to collection
) WITHOUT ROWID;
CREATE INDEX pairing_by_device ON pairing (device_id, started_at);
CREATE INDEX pairing_by_expiry ON pairing (expires_at);
