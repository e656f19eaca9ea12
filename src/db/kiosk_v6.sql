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
