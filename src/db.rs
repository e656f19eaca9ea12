//! Opening the kiosk's SQLite database: pragmas and versioned migrations.
//!
//! Every connection goes through [`open`], so every file is in WAL mode with foreign
//! keys on and the schema at the latest version before anything reads it.

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
    #[error(transparent)]
    Sql(#[from] rusqlite::Error),
}

/// Page cache per connection, in KiB: enough for search to stay in memory on a tablet.
pub const CACHE_KIB: i64 = 16 * 1024;

/// The kiosk database schema, oldest first. Append; never edit a released step.
fn migrations() -> Migrations<'static> {
    Migrations::new(vec![M::up(include_str!("catalog/schema_v1.sql"))])
}

/// Opens (creating if needed) a database file and migrates it to the current schema.
pub fn open(path: &Path) -> Result<Connection, DbError> {
    let shown = path.display().to_string();
    let mut conn = Connection::open(path).map_err(|source| DbError::Open {
        path: shown.clone(),
        source,
    })?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    migrations()
        .to_latest(&mut conn)
        .map_err(|source| DbError::Migrate { path: shown, source })?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    #[test]
    fn migrations_are_valid() {
        assert!(super::migrations().validate().is_ok());
    }
}
