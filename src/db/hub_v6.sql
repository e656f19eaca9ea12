-- Counters that must only ever grow, across restarts and deletions: the next wishlist
-- change id (an erasure may delete the newest lines; their ids are never given again).
CREATE TABLE hub_counter (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO hub_counter (name, value)
SELECT 'next_change_id', COALESCE(MAX(change_id), 0) + 1 FROM wishlist;

-- A sign-in is a grant: the kiosk that recorded it may write and read that customer's
-- list for that visit until grant_until (the token's expiry plus the offline grace).
-- token_hash (SHA-256 of the token's signed claims) makes each token sign in one visit.
ALTER TABLE visit ADD COLUMN token_hash BLOB;
ALTER TABLE visit ADD COLUMN grant_until INTEGER;  -- unix milliseconds
CREATE UNIQUE INDEX visit_by_token ON visit (token_hash) WHERE token_hash IS NOT NULL;

-- Aliases of erased customers, in the order erased: kiosks pull them and delete every
-- trace they hold. Kept 90 days; the customer's reference is not here.
CREATE TABLE erased_alias (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    alias      TEXT NOT NULL,
    erased_at  INTEGER NOT NULL    -- unix seconds
);
CREATE INDEX erased_alias_by_alias ON erased_alias (alias);

-- The picture triggers again, without `OR IGNORE`: an upsert of a variant imposes its own
-- conflict handling on the statements of the triggers it fires, so a variant whose
-- picture changed while a picture it names was already known failed the whole import.
DROP TRIGGER catalog_image_on_insert;
DROP TRIGGER catalog_image_on_update;

CREATE TRIGGER catalog_image_on_insert AFTER INSERT ON variant BEGIN
    INSERT INTO catalog_image (url)
    SELECT DISTINCT url FROM (
        SELECT NEW.image_link AS url WHERE NEW.image_link IS NOT NULL
        UNION SELECT value FROM json_each(NEW.additional_images)
    ) WHERE url NOT IN (SELECT url FROM catalog_image);
END;

CREATE TRIGGER catalog_image_on_update AFTER UPDATE OF image_link, additional_images ON variant BEGIN
    INSERT INTO catalog_image (url)
    SELECT DISTINCT url FROM (
        SELECT NEW.image_link AS url WHERE NEW.image_link IS NOT NULL
        UNION SELECT value FROM json_each(NEW.additional_images)
    ) WHERE url NOT IN (SELECT url FROM catalog_image);
END;

-- Lines clocked more than a day ahead before clocks were bounded: brought back to now,
-- or they would win every later edit and drag every kiosk's clock along.
UPDATE wishlist SET hlc = (CAST(strftime('%s', 'now') AS INTEGER) * 1000) << 16
WHERE hlc > ((CAST(strftime('%s', 'now') AS INTEGER) + 86400) * 1000) << 16;
