//! `vitrine hub migrate`: an embedded hub's whole state moved into PostgreSQL, for a shop
//! that became a chain.
//!
//! Both schemas describe the same tables with the same columns (PostgreSQL's first steps
//! are SQLite's, translated), so the move is generic: every table, every column, in one
//! PostgreSQL transaction. Either everything arrives and the counts match, or nothing
//! does: the target then holds only the schema and the secrets a hub makes on first
//! open, and can be moved into again.
//!
//! Tables are copied in the order PostgreSQL's steps created them, which puts a table
//! before those whose foreign keys name it; a later step that makes an older table
//! point at a newer one must keep that true (or this must order by `pg_constraint`).

use std::collections::BTreeSet;
use std::path::Path;

use crate::db::{self, Sql, params};

/// What is not moved: the leases of the running hubs, and the console's recent failed
/// sign-ins (a lockout in progress starts over; PostgreSQL's case-insensitive emails
/// fold more than SQLite's ASCII `NOCASE`, so two of SQLite's rows could be one key —
/// for console accounts, which are moved, such a pair stops the move on `operator`).
pub const NOT_MOVED: &[&str] = &["hub_lease", "signin_attempt"];

/// Rows read before they are written (64 to an `INSERT`).
const ROWS_AT_ONCE: usize = 512;

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("there is no hub database at {0}: say the data directory of the hub to move (--from-data)")]
    NoSource(String),
    #[error(transparent)]
    Open(#[from] db::DbError),
    #[error(transparent)]
    Locked(#[from] super::StoreError),
    #[error(
        "the target database already holds a hub's data ({table} is not empty): move into a new, \
         empty database, so that nothing there is mixed with or lost under the moved hub"
    )]
    NotEmpty { table: String },
    #[error("this build cannot move the hub's tables: {0}")]
    Schema(String),
    #[error("{table}: {source}")]
    Copy { table: String, source: db::Error },
    #[error("{table} has {from} rows in the embedded hub but {to} after the move; nothing was moved")]
    Count { table: String, from: u64, to: u64 },
    #[error(transparent)]
    Query(#[from] db::Error),
}

/// A table moved, and its rows (the same on both sides: they were counted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub table: String,
    pub rows: u64,
}

/// Moves the embedded hub at `from` (its `hub.sqlite`) into the empty PostgreSQL
/// database `to`, calling `progress` after each table. The source is locked as a
/// running hub locks it, so no hub writes to it meanwhile. It is brought to this
/// version's schema, as starting this version's hub on it would, and otherwise left as
/// it was: the way back is to start the hub on it again.
pub fn migrate(
    from: &Path,
    to: &crate::db::pg::Target,
    progress: &mut dyn FnMut(&Moved),
) -> Result<Vec<Moved>, MigrateError> {
    if !from.is_file() {
        return Err(MigrateError::NoSource(from.display().to_string()));
    }
    let _lock = super::writer_lock(from)?;
    // Opening brings an older file to the current schema, the one PostgreSQL's mirrors.
    let source = db::open(from, db::Schema::Hub)?;
    let target = db::open_postgres(to)?;
    let target: &dyn Sql = &target;

    // One snapshot of the source, one transaction on the target.
    let read = source.unchecked_transaction().map_err(db::Error::from)?;
    let write = target.begin()?;
    let tables = tables(&read, &*write)?;
    // No hub may start on the target while it fills: it would see half a hub.
    let all = tables.iter().map(|t| quoted(t)).collect::<Vec<_>>().join(", ");
    write.batch(&format!("LOCK TABLE {all} IN ACCESS EXCLUSIVE MODE"))?;
    refuse_unless_empty(&*write, &tables)?;
    write.execute("DELETE FROM hub_secret", params![])?;

    let mut moved = Vec::new();
    for table in &tables {
        copy(&read, &*write, table).map_err(|source| MigrateError::Copy {
            table: table.clone(),
            source,
        })?;
        // Counted apart from the copy, on both sides.
        let count = format!("SELECT count(*) FROM {}", quoted(table));
        let rows: u64 = sql(&read).one(&count, params![])?;
        let landed: i64 = write.one(&count, params![])?;
        let landed = u64::try_from(landed).unwrap_or(0);
        if landed != rows {
            return Err(MigrateError::Count {
                table: table.clone(),
                from: rows,
                to: landed,
            });
        }
        let done = Moved {
            table: table.clone(),
            rows,
        };
        progress(&done);
        moved.push(done);
    }
    continue_identities(&read, &*write)?;
    write.commit()?;
    Ok(moved)
}

/// The tables to move, parents before the children whose foreign keys name them (the
/// order PostgreSQL's steps created them in). Both sides must have the same ones.
fn tables(source: &rusqlite::Connection, target: &dyn Sql) -> Result<Vec<String>, MigrateError> {
    let ordered: Vec<String> = target.query_map(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname <> ?1 ORDER BY c.oid",
        params![db::pg::HISTORY_TABLE],
        |r| r.get(0),
    )?;
    // The kiosk's search index is SQLite's own (FTS5) and the hub never fills it.
    let in_source: BTreeSet<String> = sql(source)
        .query_map(
            "SELECT name FROM sqlite_schema WHERE type = 'table' \
             AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE 'product\\_fts%' ESCAPE '\\'",
            params![],
            |r| r.get(0),
        )?
        .into_iter()
        .collect();
    let in_target: BTreeSet<String> = ordered.iter().cloned().collect();
    if in_source != in_target {
        let only = |a: &BTreeSet<String>, b: &BTreeSet<String>| a.difference(b).cloned().collect::<Vec<_>>().join(", ");
        return Err(MigrateError::Schema(format!(
            "only in SQLite: [{}]; only in PostgreSQL: [{}]",
            only(&in_source, &in_target),
            only(&in_target, &in_source)
        )));
    }
    Ok(ordered
        .into_iter()
        .filter(|t| !NOT_MOVED.contains(&t.as_str()))
        .collect())
}

fn refuse_unless_empty(target: &dyn Sql, tables: &[String]) -> Result<(), MigrateError> {
    // A target that holds only the secrets a hub makes on first open is still empty; the
    // source's replace them.
    let seeded = db::SEEDED_SECRETS
        .iter()
        .map(|(s, _)| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ");
    for table in tables.iter().map(String::as_str).chain(NOT_MOVED.iter().copied()) {
        let unless = if table == "hub_secret" {
            format!(" WHERE name NOT IN ({seeded})")
        } else {
            String::new()
        };
        let used: bool = target.one(
            &format!("SELECT EXISTS (SELECT 1 FROM {}{unless})", quoted(table)),
            params![],
        )?;
        if used {
            return Err(MigrateError::NotEmpty {
                table: table.to_owned(),
            });
        }
    }
    Ok(())
}

/// Copies one table's rows. Its triggers are off meanwhile: the
/// rows they would add (the pictures a variant names) are copied as they were.
fn copy(source: &rusqlite::Connection, target: &dyn Sql, table: &str) -> db::Result<()> {
    let columns: Vec<String> = target.query_map(
        "SELECT column_name::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = ?1 ORDER BY ordinal_position",
        params![table],
        |r| r.get(0),
    )?;
    let in_source: BTreeSet<String> = sql(source)
        .query_map("SELECT name FROM pragma_table_info(?1)", params![table], |r| r.get(0))?
        .into_iter()
        .collect();
    if in_source != columns.iter().cloned().collect() {
        return Err(db::Error::value(format!(
            "its columns differ: SQLite has {in_source:?}, PostgreSQL {columns:?}"
        )));
    }
    let names = columns.iter().map(|c| quoted(c)).collect::<Vec<_>>().join(", ");
    let table_q = quoted(table);
    target.batch(&format!("ALTER TABLE {table_q} DISABLE TRIGGER USER"))?;
    let width = columns.len();
    let mut batch: Vec<rusqlite::types::Value> = Vec::with_capacity(ROWS_AT_ONCE * width);
    let flush = |batch: &mut Vec<rusqlite::types::Value>| -> db::Result<()> {
        let bound: Vec<&dyn db::Param> = batch.iter().map(|v| v as &dyn db::Param).collect();
        db::chunked(&bound, width, |rows, chunk| {
            target
                .execute(&format!("INSERT INTO {table_q} ({names}) VALUES {rows}"), chunk)
                .map(drop)
        })?;
        batch.clear();
        Ok(())
    };
    let mut select = source.prepare(&format!("SELECT {names} FROM {table_q}"))?;
    let mut read = select.query([])?;
    while let Some(row) = read.next()? {
        for i in 0..width {
            batch.push(row.get(i)?);
        }
        if batch.len() == ROWS_AT_ONCE * width {
            flush(&mut batch)?;
        }
    }
    flush(&mut batch)?;
    target.batch(&format!("ALTER TABLE {table_q} ENABLE TRIGGER USER"))?;
    Ok(())
}

/// Sets each identity column's next value past every id SQLite handed out, including
/// those of rows since deleted (`AUTOINCREMENT` remembers them in `sqlite_sequence`):
/// the feeds' cursors are such ids, and a reused one would be skipped by a reader.
fn continue_identities(source: &rusqlite::Connection, target: &dyn Sql) -> db::Result<()> {
    let identities: Vec<(String, String)> = target.query_map(
        "SELECT table_name::text, column_name::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND is_identity = 'YES'",
        params![],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    for (table, column) in identities {
        let copied: Option<i64> = target.one(
            &format!("SELECT max({}) FROM {}", quoted(&column), quoted(&table)),
            params![],
        )?;
        // `sqlite_sequence` exists once a table with `AUTOINCREMENT` does, as in every hub.
        let handed_out: Option<i64> =
            sql(source).one("SELECT max(seq) FROM sqlite_sequence WHERE name = ?1", params![table])?;
        let last = copied.max(handed_out);
        // `setval(…, n, false)`: the next value is n; with nothing ever handed out, 1.
        let next = last.map_or(1, |l| l + 1);
        target.query_row(
            "SELECT setval(pg_get_serial_sequence(?1, ?2), ?3, false)",
            params![table, column, next],
            |_| Ok(()),
        )?;
    }
    Ok(())
}

/// The source as the shared queries take it (only the copy reads its rows raw).
fn sql(source: &rusqlite::Connection) -> &dyn Sql {
    source
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
