-- hub_v12.sql, for PostgreSQL: what one hub kept in memory, shared by several.

CREATE TABLE hub_lease (
    name   TEXT COLLATE "C" PRIMARY KEY,
    holder TEXT COLLATE "C" NOT NULL,
    until  BIGINT NOT NULL
);

CREATE TABLE pairing (
    device_code BYTEA PRIMARY KEY,
    user_code   TEXT COLLATE "C" NOT NULL UNIQUE,
    device_id   BIGINT NOT NULL,
    store_code  TEXT COLLATE "C" NOT NULL,
    started_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    last_poll   BIGINT,
    decision    TEXT COLLATE "C" NOT NULL,
    token       TEXT COLLATE "C"
);
CREATE INDEX pairing_by_device ON pairing (device_id, started_at);
CREATE INDEX pairing_by_expiry ON pairing (expires_at);
