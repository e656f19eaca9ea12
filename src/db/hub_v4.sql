-- Sales assistants, per shop. A PIN is kept only as an Argon2id hash (PHC string);
-- the kiosks of that shop receive the hashes to check PINs offline. Removing an
-- assistant keeps the row (the audit trail names them) but stops the hash going out.
CREATE TABLE staff (
    id          INTEGER PRIMARY KEY,
    store_code  TEXT NOT NULL,
    name        TEXT NOT NULL,
    pin_hash    TEXT NOT NULL,
    created_at  INTEGER NOT NULL,   -- unix seconds
    removed_at  INTEGER
);
CREATE UNIQUE INDEX staff_by_name ON staff (store_code, name) WHERE removed_at IS NULL;
