-- Every picture URL the catalog has named, so the hub serves kiosks those and no others
-- (it is not an open proxy). Kept by triggers, whatever path writes variants; a URL the
-- catalog stops naming stays allowed: it came from the web store's own feed.
CREATE TABLE catalog_image (
    url TEXT PRIMARY KEY
) WITHOUT ROWID;

CREATE TRIGGER catalog_image_on_insert AFTER INSERT ON variant BEGIN
    INSERT OR IGNORE INTO catalog_image (url) SELECT NEW.image_link WHERE NEW.image_link IS NOT NULL;
    INSERT OR IGNORE INTO catalog_image (url) SELECT value FROM json_each(NEW.additional_images);
END;

CREATE TRIGGER catalog_image_on_update AFTER UPDATE OF image_link, additional_images ON variant BEGIN
    INSERT OR IGNORE INTO catalog_image (url) SELECT NEW.image_link WHERE NEW.image_link IS NOT NULL;
    INSERT OR IGNORE INTO catalog_image (url) SELECT value FROM json_each(NEW.additional_images);
END;

INSERT OR IGNORE INTO catalog_image (url) SELECT image_link FROM variant WHERE image_link IS NOT NULL;
INSERT OR IGNORE INTO catalog_image (url) SELECT j.value FROM variant, json_each(variant.additional_images) AS j;
