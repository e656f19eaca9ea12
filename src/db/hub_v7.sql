-- Measurement: what kiosks report of their visits, the web store's customers' consent
-- and orders. Days are the shop's local days (`YYYY-MM-DD`), fixed when the hub stores
-- a row. Everything here is deleted after the retention period (25 months by default).

-- Kiosk events as received. (device_id, event_id) makes a resend harmless. A search's
-- text is never kept here, only in search_term, and its time only to the hour.
CREATE TABLE kiosk_event (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,  -- the order stored in, never reused (exports' cursor)
    device_id  INTEGER NOT NULL,
    event_id   TEXT NOT NULL,
    store_code TEXT NOT NULL,
    day        TEXT NOT NULL,
    at         INTEGER NOT NULL,      -- unix milliseconds, the kiosk's clock (never ahead of the hub's)
    visit      TEXT,
    kind       TEXT NOT NULL,
    sku        TEXT,
    detail     TEXT,                  -- a view's source, an end's reason, a sign-in's method
    value      INTEGER,               -- a visit's seconds, a search's results, a list's items
    UNIQUE (device_id, event_id)
);
CREATE INDEX kiosk_event_by_at ON kiosk_event (at);

-- One row per kiosk visit, from its events: what visit counts and lengths are read from.
CREATE TABLE kiosk_visit (
    visit      TEXT PRIMARY KEY,
    device_id  INTEGER NOT NULL,
    store_code TEXT NOT NULL,
    day        TEXT NOT NULL,         -- the day it started
    started_at INTEGER NOT NULL,      -- unix milliseconds
    seconds    INTEGER,               -- when it ended
    reason     TEXT,
    signed_in  INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX kiosk_visit_by_day ON kiosk_visit (day, store_code);

-- Events counted per day, shop, kiosk, kind and SKU ('' for none): what reports read.
CREATE TABLE event_count (
    day        TEXT NOT NULL,
    store_code TEXT NOT NULL,
    device_id  INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    sku        TEXT NOT NULL,
    n          INTEGER NOT NULL,
    PRIMARY KEY (day, store_code, device_id, kind, sku)
) WITHOUT ROWID;

-- What shoppers searched for, per shop and day: never tied to a visit.
CREATE TABLE search_term (
    day        TEXT NOT NULL,
    store_code TEXT NOT NULL,
    query      TEXT NOT NULL,
    n          INTEGER NOT NULL,
    PRIMARY KEY (day, store_code, query)
) WITHOUT ROWID;

-- Events a kiosk deleted unsent to stay within its bound on disk, per kiosk.
CREATE TABLE events_dropped (
    device_id  INTEGER PRIMARY KEY,
    n          INTEGER NOT NULL,
    last_at    INTEGER NOT NULL       -- unix milliseconds
);

-- Whether a customer agreed that their kiosk visits be linked to their orders, as the
-- web store says. No row: no.
CREATE TABLE consent (
    customer    TEXT PRIMARY KEY,
    measurement INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL      -- unix milliseconds
) WITHOUT ROWID;

-- The web store's orders, as posted (body_hash tells a resend from a different order
-- under the same id).
CREATE TABLE web_order (
    order_id     TEXT PRIMARY KEY,
    customer     TEXT NOT NULL,
    placed_at    INTEGER NOT NULL,    -- unix milliseconds
    currency     TEXT NOT NULL,
    channel      TEXT NOT NULL,       -- online | shop
    utm_source   TEXT,
    utm_medium   TEXT,
    utm_campaign TEXT,
    utm_content  TEXT,
    utm_term     TEXT,
    store        TEXT,                -- landing: the shop code a kiosk's link carried
    visit        TEXT,                -- landing: the visit a kiosk's link carried
    body_hash    BLOB NOT NULL,
    received_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX web_order_by_placed ON web_order (placed_at);
CREATE INDEX web_order_by_customer ON web_order (customer);

CREATE TABLE web_order_line (
    order_id   TEXT NOT NULL REFERENCES web_order (order_id) ON DELETE CASCADE,
    line       INTEGER NOT NULL,
    sku        TEXT NOT NULL,
    quantity   INTEGER NOT NULL,
    unit_minor INTEGER NOT NULL,      -- minor units of the order's currency
    refunded   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (order_id, line)
) WITHOUT ROWID;

-- Refunds and cancellations received, so that a resend refunds nothing twice.
CREATE TABLE web_refund (
    order_id    TEXT NOT NULL REFERENCES web_order (order_id) ON DELETE CASCADE,
    refund_id   TEXT NOT NULL,
    body_hash   BLOB NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (order_id, refund_id)
) WITHOUT ROWID;

-- Sign-ins by customer and time: attribution looks a customer's visits up by both.
CREATE INDEX visit_by_customer_time ON visit (customer, signed_in_at);

-- Webhooks (Standard Webhooks 1.0) to the web store: endpoints a web store key
-- registered, messages written in the same transaction as the change they announce,
-- and one delivery per message and endpoint, retried on a schedule.
CREATE TABLE webhook_endpoint (
    id              INTEGER PRIMARY KEY,
    api_key_id      INTEGER NOT NULL REFERENCES api_key (id),
    url             TEXT NOT NULL,
    events          TEXT NOT NULL,    -- JSON list of event types; [] for all
    secret          TEXT NOT NULL,    -- whsec_…
    previous_secret TEXT,             -- also signs until previous_until (a rotation)
    previous_until  INTEGER,          -- unix milliseconds
    created_at      INTEGER NOT NULL,
    failing_since   INTEGER,          -- the first failure of the current run of failures
    last_failure_at INTEGER,          -- a run ends with a success, or a day without failures
    disabled_at     INTEGER,
    disabled_reason TEXT
);

CREATE TABLE webhook_message (
    id         INTEGER PRIMARY KEY,
    msg_id     TEXT NOT NULL UNIQUE,  -- the webhook-id header
    type       TEXT NOT NULL,
    payload    TEXT NOT NULL,         -- the JSON body sent
    created_at INTEGER NOT NULL       -- unix milliseconds
);
CREATE INDEX webhook_message_by_time ON webhook_message (created_at);

CREATE TABLE webhook_delivery (
    message_id  INTEGER NOT NULL REFERENCES webhook_message (id) ON DELETE CASCADE,
    endpoint_id INTEGER NOT NULL REFERENCES webhook_endpoint (id) ON DELETE CASCADE,
    state       TEXT NOT NULL,        -- pending | delivered | failed
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     INTEGER,              -- unix milliseconds, while pending
    last_status INTEGER,
    last_error  TEXT,
    last_at     INTEGER,
    PRIMARY KEY (message_id, endpoint_id)
) WITHOUT ROWID;
CREATE INDEX webhook_delivery_due ON webhook_delivery (next_at) WHERE state = 'pending';

-- A secret of this hub's, drawn once: exports name a visit by a keyed hash of its id,
-- which nothing else the web store sees carries.
CREATE TABLE hub_secret (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;
INSERT INTO hub_secret (name, value) VALUES ('export_visit_key', randomblob(32));

-- Where each export (GA4, PostHog) is in kiosk_event: the last seq it forwarded.
CREATE TABLE export_cursor (
    name TEXT PRIMARY KEY,
    seq  INTEGER NOT NULL
) WITHOUT ROWID;
