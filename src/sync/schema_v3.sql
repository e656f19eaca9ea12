-- The web store's pages this kiosk links to, as the hub said last (one row).
CREATE TABLE hub_settings (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    list_url   TEXT,
    fetched_at INTEGER NOT NULL   -- unix milliseconds
);
