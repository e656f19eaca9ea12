-- What happened at the kiosks' staff keypads: logins, wrong PINs, lockouts.
CREATE TABLE staff_event (
    id           INTEGER PRIMARY KEY,  -- the order the hub received them in
    device_id    INTEGER NOT NULL,
    event_id     TEXT NOT NULL,     -- the kiosk's id for the event: a resend is ignored
    store_code   TEXT NOT NULL,
    at           INTEGER NOT NULL,  -- unix milliseconds, the kiosk's clock
    kind         TEXT NOT NULL,     -- login | failure | lockout
    staff_id     INTEGER,
    locked_until INTEGER,
    received_at  INTEGER NOT NULL,  -- unix milliseconds, the hub's clock
    UNIQUE (device_id, event_id)
);
CREATE INDEX staff_event_by_store ON staff_event (store_code, at);
