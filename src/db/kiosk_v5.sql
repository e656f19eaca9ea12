-- Signing in is proven to the hub: a sign_in op carries the customer's token.
ALTER TABLE outbox ADD COLUMN token TEXT;
-- Pending ops go out in sequence order (a restarted stream's sign-ins come first).
CREATE INDEX outbox_by_state_seq ON outbox (state, seq);

-- Who is signed in to the visit under way, with the token that proves it: the hub is
-- asked for their list with it, and a new stream sends the sign-in again before the
-- lines. Deleted when the visit ends, with the visit's lines.
CREATE TABLE signed_in (
    visit  TEXT NOT NULL,
    alias  TEXT NOT NULL,
    token  TEXT NOT NULL,
    hlc    INTEGER NOT NULL,
    PRIMARY KEY (visit, alias)
) WITHOUT ROWID;

-- Where the kiosk is in the hub's list of erased customers.
ALTER TABLE sync_state ADD COLUMN erasure_cursor TEXT NOT NULL DEFAULT '';

-- Ops the hub refused keep their number and reason, not what names the shopper.
UPDATE outbox SET owner = '', sku = '', session = NULL WHERE state = 'rejected';
