-- The console: the people who sign in to it, their sessions, the audit log of every
-- change; and the fleet: what each kiosk last said of its health, its history per hour,
-- and the alerts that open and clear on it. Times are unix seconds.

-- A person with a console account. The password is an Argon2id PHC string. A manager
-- (and a viewer given shops) sees only the shops in operator_shop.
CREATE TABLE operator (
    id             INTEGER PRIMARY KEY,
    email          TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'viewer')),
    password_hash  TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    removed_at     INTEGER                       -- an account is removed, never deleted (the audit log names it)
);

-- Sign-in attempts per email, known or not (so the answers tell nobody which accounts
-- exist): counted before the password is checked, cleared by a success.
CREATE TABLE signin_attempt (
    email        TEXT PRIMARY KEY COLLATE NOCASE,
    failures     INTEGER NOT NULL,   -- attempts since the last success
    locked_until INTEGER
) WITHOUT ROWID;

CREATE TABLE operator_shop (
    operator_id INTEGER NOT NULL REFERENCES operator (id),
    store_code  TEXT NOT NULL,
    PRIMARY KEY (operator_id, store_code)
) WITHOUT ROWID;

-- Console sessions (tower-sessions records, JSON), so any hub on this database serves them.
CREATE TABLE console_session (
    id         TEXT PRIMARY KEY,
    record     TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX console_session_by_expiry ON console_session (expires_at);

-- Every change made from the console, the CLI and the web store's API. Append-only:
-- the triggers refuse any update or delete.
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    actor      TEXT NOT NULL,   -- 'console:<email>', 'cli', 'key:<id> (<name>)', 'kiosk:<id>'
    action     TEXT NOT NULL,   -- e.g. 'staff.add', 'enroll_code.create'
    store_code TEXT,            -- the shop it concerns, if one
    target     TEXT,            -- what it was done to
    detail     TEXT             -- anything else worth reading; never a secret
);
CREATE INDEX audit_log_by_store ON audit_log (store_code, id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

-- What each kiosk said of itself in its last heartbeat.
CREATE TABLE kiosk_health (
    device_id        INTEGER PRIMARY KEY REFERENCES device (id),
    received_at      INTEGER NOT NULL,   -- the hub's clock
    app_version      TEXT NOT NULL,
    settings_version INTEGER,
    clock_offset_ms  INTEGER NOT NULL,   -- the kiosk's clock minus the hub's
    report           TEXT NOT NULL        -- the heartbeat as received (JSON)
);

-- One row per kiosk per hour: the last heartbeat of that hour, for a kiosk's history.
CREATE TABLE kiosk_health_hour (
    device_id        INTEGER NOT NULL,
    hour             INTEGER NOT NULL,    -- unix seconds / 3600
    received_at      INTEGER NOT NULL,
    outbox_pending   INTEGER NOT NULL,
    outbox_rejected  INTEGER NOT NULL,
    camera           TEXT NOT NULL,
    disk_free_mb     INTEGER,
    clock_offset_ms  INTEGER,
    heartbeats       INTEGER NOT NULL,   -- received in that hour
    PRIMARY KEY (device_id, hour)
) WITHOUT ROWID;
CREATE INDEX kiosk_health_hour_by_hour ON kiosk_health_hour (hour);

-- Alerts on kiosks: opened when a condition is seen, cleared when it is gone.
CREATE TABLE kiosk_alert (
    id         INTEGER PRIMARY KEY,
    device_id  INTEGER NOT NULL,
    store_code TEXT NOT NULL,
    kind       TEXT NOT NULL,   -- offline, backlog_growing, clock_off, camera_waiting, disk_low
    detail     TEXT NOT NULL,
    opened_at  INTEGER NOT NULL,
    cleared_at INTEGER
);
CREATE UNIQUE INDEX kiosk_alert_open ON kiosk_alert (device_id, kind) WHERE cleared_at IS NULL;
CREATE INDEX kiosk_alert_by_store ON kiosk_alert (store_code, cleared_at);

-- The console's cookies: the key that encrypts its CSRF cookie and the salt of its form
-- tokens, the same for every hub on this database.
INSERT INTO hub_secret (name, value) VALUES ('console_cookie_key', randomblob(64));
INSERT INTO hub_secret (name, value) VALUES ('console_csrf_salt', randomblob(32));

-- Remote settings: what store ops set for the chain (target ''), a shop (its code) or a
-- kiosk (its device id); a kiosk gets them merged, its own over its shop's over the
-- chain's. `value` is JSON. Each target's version grows with each of its changes (from
-- hub_counter 'settings_version'), a removal included: a kiosk's version is the highest
-- of its three targets'.
CREATE TABLE kiosk_setting (
    scope  TEXT NOT NULL CHECK (scope IN ('chain', 'shop', 'kiosk')),
    target TEXT NOT NULL,
    name   TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (scope, target, name)
) WITHOUT ROWID;

CREATE TABLE kiosk_setting_version (
    scope   TEXT NOT NULL,
    target  TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (scope, target)
) WITHOUT ROWID;

-- Every feed import, uploaded, sent from the console or fetched on a schedule: what it
-- did, or why it was refused, with the first rejected items (item, line, id, reason).
CREATE TABLE feed_import (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    kind       TEXT NOT NULL,          -- products, inventory
    lang       TEXT,
    source     TEXT NOT NULL,          -- upload, console, fetch
    origin     TEXT NOT NULL,          -- the key's name, the account's email, the feed's URL
    outcome    TEXT NOT NULL,          -- imported, refused, fetch_failed
    imported   INTEGER NOT NULL DEFAULT 0,
    updated    INTEGER NOT NULL DEFAULT 0,
    unchanged  INTEGER NOT NULL DEFAULT 0,
    removed    INTEGER NOT NULL DEFAULT 0,
    rejected   INTEGER NOT NULL DEFAULT 0,
    error      TEXT,
    rejections TEXT NOT NULL DEFAULT '[]'  -- JSON, at most 1000
);
CREATE INDEX feed_import_by_origin ON feed_import (source, origin, id);
