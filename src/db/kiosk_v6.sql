-- Measurement events (visits, product views, scans, hearts, codes shown, searches, staff
-- look-ups), kept until the hub has them (`sync::events`). `seq` is the order they were
-- recorded in: they go out oldest first, and past the bound the oldest are deleted.
CREATE TABLE event (
    seq   INTEGER PRIMARY KEY,
    id    TEXT NOT NULL UNIQUE,  -- random; the hub ignores a resend
    at    INTEGER NOT NULL,      -- unix milliseconds
    visit TEXT,                  -- the visit's random id; NULL for searches and staff look-ups
    body  TEXT NOT NULL          -- the event's detail, as the wire's JSON (`EventDetail`)
);

-- Events deleted unsent to stay within the bound, not yet reported to the hub.
ALTER TABLE sync_state ADD COLUMN events_dropped INTEGER NOT NULL DEFAULT 0;

-- What is popular in this kiosk's shop, as the hub counted it (views and wishlist adds of
-- the last 30 days, per shop, never per person): replaced whole at each catalog pull.
-- The home screen's "popular in this shop" and search's ties read it.
CREATE TABLE popular (
    group_id TEXT PRIMARY KEY,
    score    INTEGER NOT NULL
) WITHOUT ROWID;
