//! Opening a SQLite database: pragmas and versioned migrations.
//!
//! Every connection goes through [`open`], so every file is in WAL mode with foreign
//! keys on and the schema at the latest version before anything reads it. A kiosk and a
//! hub share the catalog tables and add their own; the file records which it is
//! (`PRAGMA application_id`), so one is never opened as the other.

pub mod cluster;
pub mod pg;
pub mod sql;
pub mod tls;

pub use sql::{Column, Dialect, Error, Param, Result, Row, Sql, Tx, chunked, params};

/// The PostgreSQL advisory locks a transaction takes before it appends to a feed that
/// readers follow with a cursor. PostgreSQL hands out sequence values when rows are
/// inserted, not when they commit: two hubs writing at once could commit 8 after a
/// reader has passed 9, and the reader would never see 8. Holding the feed's lock from
/// the first id to the commit makes ids commit in order. SQLite's one writer already does.
/// The wishlist's changes, and the visits and erasures feeds written beside them.
pub const FEED_LOCK_WISHLIST: i64 = 0x5654_4657; // "VTFW"
pub const FEED_LOCK_CATALOG: i64 = 0x5654_4643; // "VTFC"
pub const FEED_LOCK_EVENTS: i64 = 0x5654_4645; // "VTFE"

/// The hub's own signing keys: two hubs starting together on an empty database make one.
pub const LOCK_SIGNING_KEYS: i64 = 0x5654_4b53; // "VTKS"

/// Takes a feed's lock for the rest of the transaction (PostgreSQL only; see above).
/// Outside a transaction it would be let go at once: call it after `begin`.
pub fn lock_feed(conn: &dyn Sql, lock: i64) -> Result<()> {
    if conn.dialect() == Dialect::Postgres {
        conn.query_row("SELECT pg_advisory_xact_lock(?1)", params![lock], |_| Ok(()))?;
    }
    Ok(())
}

/// A connection the hub owns, to either database.
pub enum Conn {
    Sqlite(Connection),
    Postgres(Box<pg::Client>),
}

impl Sql for Conn {
    fn dialect(&self) -> Dialect {
        (**self).dialect()
    }
    fn execute(&self, sql: &str, params: &[&dyn Param]) -> Result<u64> {
        (**self).execute(sql, params)
    }
    fn each(&self, sql: &str, params: &[&dyn Param], each: &mut dyn FnMut(&Row<'_>) -> Result<()>) -> Result<()> {
        (**self).each(sql, params, each)
    }
    fn batch(&self, sql: &str) -> Result<()> {
        (**self).batch(sql)
    }
}

/// A `Conn` is used as the [`Sql`] it holds.
impl std::ops::Deref for Conn {
    type Target = dyn Sql;
    fn deref(&self) -> &(dyn Sql + 'static) {
        match self {
            Conn::Sqlite(c) => c,
            Conn::Postgres(c) => &**c,
        }
    }
}

impl Conn {
    /// The connection as the shared queries take it.
    pub fn sql(&self) -> &dyn Sql {
        &**self
    }

    /// Whether it can no longer be used (a PostgreSQL server that went away).
    pub fn is_broken(&self) -> bool {
        match self {
            Conn::Sqlite(_) => false,
            Conn::Postgres(c) => c.is_closed(),
        }
    }
}

use std::path::Path;

use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot open the database {path}: {source}")]
    Open { path: String, source: rusqlite::Error },
    #[error(
        "cannot bring the database {path} to the current schema: {source}; restore a backup or start from an empty file"
    )]
    Migrate {
        path: String,
        source: rusqlite_migration::Error,
    },
    #[error("{path} is a {found} database, not a {wanted} one")]
    WrongKind {
        path: String,
        found: &'static str,
        wanted: &'static str,
    },
    #[error(transparent)]
    Sql(#[from] rusqlite::Error),
    #[error("cannot reach the database {url}: {why}")]
    Connect { url: String, why: String },
    #[error("cannot bring the database {url} to the current schema: {why}")]
    MigratePostgres { url: String, why: String },
    #[error(transparent)]
    Query(#[from] sql::Error),
}

/// Which program a database belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    /// Catalog, local wishlist, outbox and sync state.
    Kiosk,
    /// Catalog and its change log, devices, keys, streams and wishlists.
    Hub,
}

impl Schema {
    fn application_id(self) -> i32 {
        match self {
            Schema::Kiosk => 0x5654_4b31, // "VTK1"
            Schema::Hub => 0x5654_4831,   // "VTH1"
        }
    }

    fn name(self) -> &'static str {
        match self {
            Schema::Kiosk => "kiosk",
            Schema::Hub => "hub",
        }
    }
}

/// The kiosk's database file inside its data directory.
pub const KIOSK_DB: &str = "kiosk.sqlite";

/// A time kept in SQLite as unix milliseconds.
pub fn from_ms(ms: Option<i64>) -> Option<jiff::Timestamp> {
    ms.and_then(|v| jiff::Timestamp::from_millisecond(v).ok())
}

/// Page cache per connection, in KiB: enough for search to stay in memory on a tablet.
pub const CACHE_KIB: i64 = 16 * 1024;

/// Each program's schema, oldest step first. Append; never edit a released step.
fn migrations(schema: Schema) -> Migrations<'static> {
    let catalog = M::up(include_str!("catalog_v1.sql"));
    Migrations::new(match schema {
        Schema::Kiosk => vec![
            catalog,
            M::up(include_str!("kiosk_v1.sql")),
            M::up(include_str!("kiosk_v2.sql")),
            M::up(include_str!("kiosk_v3.sql")),
            M::up(include_str!("kiosk_v4.sql")),
            M::up(include_str!("kiosk_v5.sql")),
            M::up(include_str!("kiosk_v6.sql")),
            M::up(include_str!("kiosk_v7.sql")),
            M::up(include_str!("kiosk_v8.sql")),
            M::up(include_str!("kiosk_v9.sql")),
        ],
        Schema::Hub => vec![
            catalog,
            M::up(include_str!("hub_v1.sql")),
            M::up(include_str!("hub_v2.sql")),
            M::up(include_str!("hub_v3.sql")),
            M::up(include_str!("hub_v4.sql")),
            M::up(include_str!("hub_v5.sql")),
            M::up(include_str!("hub_v6.sql")),
            M::up(include_str!("hub_v7.sql")),
            M::up(include_str!("hub_v8.sql")),
            M::up(include_str!("hub_v9.sql")),
            M::up(include_str!("hub_v10.sql")),
            M::up(include_str!("hub_v11.sql")),
            M::up(include_str!("hub_v12.sql")),
        ],
    })
}

/// Opens (creating if needed) a database file and migrates it to the current schema.
///
/// Commits are `synchronous = FULL`: a wishlist edit the kiosk has shown as saved, or an
/// op the hub has acknowledged, survives a power cut. Writes are batched into few
/// transactions, so the cost is one flush per transaction.
pub fn open(path: &Path, schema: Schema) -> std::result::Result<Connection, DbError> {
    let shown = path.display().to_string();
    let mut conn = Connection::open(path).map_err(|source| DbError::Open {
        path: shown.clone(),
        source,
    })?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let id: i32 = conn.pragma_query_value(None, "application_id", |r| r.get(0))?;
    let version: i32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    // Catalogs made before the hub existed carry no id: they are kiosk catalogs.
    if id == 0 && (version == 0 || schema == Schema::Kiosk) {
        conn.pragma_update(None, "application_id", schema.application_id())?;
    } else if id != schema.application_id() {
        let found = [Schema::Kiosk, Schema::Hub]
            .into_iter()
            .find(|s| s.application_id() == id)
            .map_or("foreign", Schema::name);
        return Err(DbError::WrongKind {
            path: shown,
            found,
            wanted: schema.name(),
        });
    }
    migrations(schema)
        .to_latest(&mut conn)
        .map_err(|source| DbError::Migrate { path: shown, source })?;
    Ok(conn)
}

/// PostgreSQL's steps of the hub's schema, oldest first. Append; never edit a released step.
const POSTGRES_STEPS: &[(&str, &str)] = &[
    ("V1__hub", include_str!("postgres_v1.sql")),
    ("V2__shared_state", include_str!("postgres_v2.sql")),
];

/// The secrets, and their lengths in bytes, that SQLite's steps make with randomblob().
/// PostgreSQL has no such function without an extension, so the first hub to open the
/// database makes them, for all.
pub const SEEDED_SECRETS: &[(&str, usize)] = &[
    ("export_visit_key", 32),
    ("console_cookie_key", 64),
    ("console_csrf_salt", 32),
];

/// Connects to a hub's PostgreSQL database and brings it to the current schema (once,
/// however many hubs start together).
pub fn open_postgres(config: &pg::Target) -> std::result::Result<pg::Client, DbError> {
    let shown = pg::describe(config);
    let client = pg::Client::connect(config).map_err(|e| DbError::Connect {
        url: shown.clone(),
        why: pg::explain(&e),
    })?;
    pg::migrate(&mut client.raw(), POSTGRES_STEPS).map_err(|why| DbError::MigratePostgres { url: shown, why })?;
    for &(name, len) in SEEDED_SECRETS {
        let mut value = vec![0_u8; len];
        rand::fill(&mut value[..]);
        client.execute(
            "INSERT INTO hub_secret (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
            params![name, value],
        )?;
    }
    Ok(client)
}

#[cfg(test)]
mod tests {
    #[test]
    fn migrations_are_valid() {
        for schema in [super::Schema::Kiosk, super::Schema::Hub] {
            assert!(super::migrations(schema).validate().is_ok());
        }
    }

    #[test]
    fn a_hub_database_is_not_opened_as_a_kiosk_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hub.db");
        super::open(&path, super::Schema::Hub).unwrap();
        let err = super::open(&path, super::Schema::Kiosk).unwrap_err();
        assert!(err.to_string().ends_with("is a hub database, not a kiosk one"), "{err}");
    }
}
