//! One SQL text, two databases: the queries the hub and the catalog share run on SQLite
//! (rusqlite, the kiosk's and the embedded hub's file) or on PostgreSQL (a chain's hub).
//!
//! [`Sql`] is a connection of either kind. Queries are written once, in the SQL both
//! speak, with `?1`-style parameters (PostgreSQL sees `$1`, see [`super::pg`]); a query
//! that must differ asks [`Sql::dialect`]. Values cross as [`Param`] and come back
//! through [`Column`], which reads what either database returns for the same query
//! (PostgreSQL's `int4` for a literal, `numeric` for a `SUM`, `bool` for a comparison)
//! into the Rust type the code asked for.
//!
//! Why not an ORM or two sets of queries: see ARCHITECTURE.md, "One SQL text".

use std::ops::Deref;

/// Which SQL a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// The driver's words with the server's ("db error" alone says nothing).
    #[error("{}", super::pg::explain(.0))]
    Postgres(#[from] postgres::Error),
    /// PostgreSQL refused a statement's text (or the connection broke preparing it).
    #[error("{}; the statement began: {sql}", super::pg::explain(.source))]
    Prepare { sql: String, source: postgres::Error },
    #[error("the query returned no rows")]
    NoRows,
    #[error("column {column}: {message}")]
    Column { column: usize, message: String },
    /// A value the code could not turn into SQL or back (a JSON body, a key out of range).
    #[error("{0}")]
    Value(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A value error, for the code around the queries.
    pub fn value(message: impl std::fmt::Display) -> Error {
        Error::Value(message.to_string())
    }

    /// The database is out of reach or busy: the request may succeed if tried again
    /// later (the hub answers 503 with `Retry-After`).
    pub fn is_unavailable(&self) -> bool {
        match self {
            Error::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => {
                matches!(
                    f.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                )
            }
            Error::Postgres(e) | Error::Prepare { source: e, .. } => super::pg::is_unavailable(e),
            _ => false,
        }
    }

    /// A `UNIQUE` or `CHECK` constraint refused the row.
    pub fn is_constraint(&self) -> bool {
        match self {
            Error::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => f.code == rusqlite::ErrorCode::ConstraintViolation,
            Error::Postgres(e) => e.code().is_some_and(|c| c.code().starts_with("23")),
            _ => false,
        }
    }
}

/// A value bound to a query's parameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
    Bool(bool),
    /// An unsigned number past `i64::MAX`: refused when bound.
    TooBig,
}

/// What can be bound to a parameter: numbers, text, bytes, booleans, and `Option`s of them.
pub trait Param: Sync {
    fn value(&self) -> Value<'_>;
}

macro_rules! int_param {
    ($($t:ty),*) => {$(
        impl Param for $t {
            fn value(&self) -> Value<'_> {
                i64::try_from(*self).map_or(Value::TooBig, Value::Int)
            }
        }
    )*};
}
int_param!(i8, i16, i32, i64, u8, u16, u32, u64, usize, isize);

impl Param for f64 {
    fn value(&self) -> Value<'_> {
        Value::Real(*self)
    }
}
impl Param for bool {
    fn value(&self) -> Value<'_> {
        Value::Bool(*self)
    }
}
impl Param for str {
    fn value(&self) -> Value<'_> {
        Value::Text(self)
    }
}
impl Param for String {
    fn value(&self) -> Value<'_> {
        Value::Text(self)
    }
}
impl Param for [u8] {
    fn value(&self) -> Value<'_> {
        Value::Blob(self)
    }
}
impl<const N: usize> Param for [u8; N] {
    fn value(&self) -> Value<'_> {
        Value::Blob(self)
    }
}
impl Param for Vec<u8> {
    fn value(&self) -> Value<'_> {
        Value::Blob(self)
    }
}
impl<T: Param + ?Sized> Param for &T {
    fn value(&self) -> Value<'_> {
        (**self).value()
    }
}
impl<T: Param> Param for Option<T> {
    fn value(&self) -> Value<'_> {
        self.as_ref().map_or(Value::Null, Param::value)
    }
}
impl Param for std::borrow::Cow<'_, str> {
    fn value(&self) -> Value<'_> {
        Value::Text(self)
    }
}
impl Param for Value<'_> {
    fn value(&self) -> Value<'_> {
        *self
    }
}

/// A value read from SQLite, bound as it was (moving a hub to PostgreSQL).
impl Param for rusqlite::types::Value {
    fn value(&self) -> Value<'_> {
        use rusqlite::types::Value as Sqlite;
        match self {
            Sqlite::Null => Value::Null,
            Sqlite::Integer(v) => Value::Int(*v),
            Sqlite::Real(v) => Value::Real(*v),
            Sqlite::Text(v) => Value::Text(v),
            Sqlite::Blob(v) => Value::Blob(v),
        }
    }
}

/// `params![a, b]`: a query's parameters, in order.
#[macro_export]
macro_rules! sql_params {
    () => { &[] as &[&dyn $crate::db::Param] };
    ($($p:expr),+ $(,)?) => { &[$(&$p as &dyn $crate::db::Param),+] as &[&dyn $crate::db::Param] };
}
pub use crate::sql_params as params;

impl rusqlite::ToSql for Value<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match *self {
            Value::Null => ValueRef::Null,
            Value::Int(v) => ValueRef::Integer(v),
            Value::Real(v) => ValueRef::Real(v),
            Value::Text(v) => ValueRef::Text(v.as_bytes()),
            Value::Blob(v) => ValueRef::Blob(v),
            Value::Bool(v) => ValueRef::Integer(i64::from(v)),
            Value::TooBig => {
                return Err(rusqlite::Error::ToSqlConversionFailure(
                    "an unsigned number past i64::MAX".into(),
                ));
            }
        }))
    }
}

/// Runs a statement over many rows in a few executions: `run` gets the statement's
/// `{rows}` part, `(?1, ?2), (?3, ?4)…`, and the parameters of one chunk of `params`
/// (`width` to a row). Chunks are powers of two up to 64 rows, so a handful of texts are
/// prepared (and cached) whatever the count. For `INSERT … VALUES {rows}`, and for
/// lookups as `JOIN (VALUES {rows}) AS asked ON t.a = asked.column1 …` (both databases
/// name the columns so; PostgreSQL plans `(a, b) IN (…)` slowly or scans the table).
pub fn chunked(
    params: &[&dyn Param],
    width: usize,
    mut run: impl FnMut(&str, &[&dyn Param]) -> Result<()>,
) -> Result<()> {
    const MOST: usize = 64;
    assert!(
        width > 0 && params.len().is_multiple_of(width),
        "params come in rows of {width}"
    );
    let mut rest = params;
    while !rest.is_empty() {
        let rows = (rest.len() / width).min(MOST);
        let chunk = 1 << rows.ilog2();
        let (now, later) = rest.split_at(chunk * width);
        let text = (0..chunk)
            .map(|r| {
                let cells: Vec<String> = (1..=width).map(|c| format!("?{}", r * width + c)).collect();
                format!("({})", cells.join(", "))
            })
            .collect::<Vec<_>>()
            .join(", ");
        run(&text, now)?;
        rest = later;
    }
    Ok(())
}

/// A row of a result, from either database.
pub enum Row<'a> {
    Sqlite(&'a rusqlite::Row<'a>),
    Postgres(&'a postgres::Row),
}

impl Row<'_> {
    /// The `i`th column (from 0) as `T`.
    pub fn get<T: Column>(&self, i: usize) -> Result<T> {
        let read = match self {
            Row::Sqlite(row) => T::from_sqlite(row.get_ref(i)?),
            Row::Postgres(row) => {
                let raw: super::pg::Raw<'_> = row.try_get(i)?;
                T::from_pg(raw)
            }
        };
        read.map_err(|message| Error::Column { column: i, message })
    }
}

/// A Rust type a column can be read into, from either database.
pub trait Column: Sized {
    fn from_sqlite(value: rusqlite::types::ValueRef<'_>) -> Result<Self, String>;
    fn from_pg(raw: super::pg::Raw<'_>) -> Result<Self, String>;
}

fn wrong(found: impl std::fmt::Debug, wanted: &str) -> String {
    format!("{found:?} cannot be read as {wanted}")
}

impl Column for i64 {
    fn from_sqlite(value: rusqlite::types::ValueRef<'_>) -> Result<Self, String> {
        match value {
            rusqlite::types::ValueRef::Integer(v) => Ok(v),
            other => Err(wrong(other.data_type(), "an integer")),
        }
    }
    fn from_pg(raw: super::pg::Raw<'_>) -> Result<Self, String> {
        raw.integer()
    }
}

macro_rules! narrow_column {
    ($($t:ty),*) => {$(
        impl Column for $t {
            fn from_sqlite(value: rusqlite::types::ValueRef<'_>) -> Result<Self, String> {
                let wide = i64::from_sqlite(value)?;
                <$t>::try_from(wide).map_err(|_| format!("{wide} is out of range for {}", stringify!($t)))
            }
            fn from_pg(raw: super::pg::Raw<'_>) -> Result<Self, String> {
                let wide = raw.integer()?;
                <$t>::try_from(wide).map_err(|_| format!("{wide} is out of range for {}", stringify!($t)))
            }
        }
    )*};
}
narrow_column!(i8, i16, i32, u8, u16, u32, u64, usize);

impl Column for bool {
    fn from_sqlite(value: rusqlite::types::ValueRef<'_>) -> Result<Self, String> {
        Ok(i64::from_sqlite(value)? != 0)
    }
    fn from_pg(raw: super::pg::Raw<'_>) -> Result<Self, String> {
        Ok(raw.integer()? != 0)
    }
}

impl Column for f64 {
    fn from_sqlite(value: rusqlite::types::ValueRef<'_>) -> Result<Self, String> {
        match value {
            rusqlite::types::ValueRef::Real(v) => Ok(v),
            #[allow(clippy::cast_precision_loss)]
            rusqlite::types::ValueRef::Integer(v) => Ok(v as f64),
            other => Err(wrong(other.data_type(), "a number")),
        }
    }
    fn from_pg(raw: super::pg::Raw<'_>) -> Result<Self, String> {
        raw.real()
    }
}

impl Column for String {
    fn from_sqlite(value: rusqlite::types::ValueRef<'_>) -> Result<Self, String> {
        match value {
            rusqlite::types::ValueRef::Text(v) => String::from_utf8(v.to_vec()).map_err(|e| e.to_string()),
            other => Err(wrong(other.data_type(), "text")),
        }
    }
    fn from_pg(raw: super::pg::Raw<'_>) -> Result<Self, String> {
        raw.text().map(str::to_owned)
    }
}

impl Column for Vec<u8> {
    fn from_sqlite(value: rusqlite::types::ValueRef<'_>) -> Result<Self, String> {
        match value {
            rusqlite::types::ValueRef::Blob(v) | rusqlite::types::ValueRef::Text(v) => Ok(v.to_vec()),
            other => Err(wrong(other.data_type(), "bytes")),
        }
    }
    fn from_pg(raw: super::pg::Raw<'_>) -> Result<Self, String> {
        raw.bytes().map(<[u8]>::to_vec)
    }
}

impl<const N: usize> Column for [u8; N] {
    fn from_sqlite(value: rusqlite::types::ValueRef<'_>) -> Result<Self, String> {
        let bytes = Vec::<u8>::from_sqlite(value)?;
        let n = bytes.len();
        bytes
            .try_into()
            .map_err(|_| format!("{n} bytes where {N} were expected"))
    }
    fn from_pg(raw: super::pg::Raw<'_>) -> Result<Self, String> {
        let bytes = raw.bytes()?;
        bytes
            .try_into()
            .map_err(|_| format!("{} bytes where {N} were expected", bytes.len()))
    }
}

impl<T: Column> Column for Option<T> {
    fn from_sqlite(value: rusqlite::types::ValueRef<'_>) -> Result<Self, String> {
        match value {
            rusqlite::types::ValueRef::Null => Ok(None),
            other => T::from_sqlite(other).map(Some),
        }
    }
    fn from_pg(raw: super::pg::Raw<'_>) -> Result<Self, String> {
        if raw.is_null() {
            Ok(None)
        } else {
            T::from_pg(raw).map(Some)
        }
    }
}

/// A connection to either database. Statements are prepared once per connection and
/// kept (both sides cache them), so running the same text again costs no parsing.
pub trait Sql {
    fn dialect(&self) -> Dialect;
    /// Runs a statement, returning how many rows it changed.
    fn execute(&self, sql: &str, params: &[&dyn Param]) -> Result<u64>;
    /// Runs a query, calling `each` for every row until it fails.
    fn each(&self, sql: &str, params: &[&dyn Param], each: &mut dyn FnMut(&Row<'_>) -> Result<()>) -> Result<()>;
    /// Runs statements separated by `;`, without parameters.
    fn batch(&self, sql: &str) -> Result<()>;
}

impl dyn Sql + '_ {
    /// The first row's `f`, or [`Error::NoRows`].
    pub fn query_row<T>(&self, sql: &str, params: &[&dyn Param], f: impl FnOnce(&Row<'_>) -> Result<T>) -> Result<T> {
        self.query_opt(sql, params, f)?.ok_or(Error::NoRows)
    }

    /// The first row's `f`, if there is a row.
    pub fn query_opt<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        f: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<Option<T>> {
        let mut f = Some(f);
        let mut out = None;
        self.each(sql, params, &mut |row| {
            if let Some(f) = f.take() {
                out = Some(f(row)?);
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// Every row's `f`, in order.
    pub fn query_map<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        mut f: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        self.each(sql, params, &mut |row| {
            out.push(f(row)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// The first column of the first row.
    pub fn one<T: Column>(&self, sql: &str, params: &[&dyn Param]) -> Result<T> {
        self.query_row(sql, params, |r| r.get(0))
    }

    /// Begins a transaction that takes the write lock at once (SQLite's `IMMEDIATE`): it
    /// is rolled back when dropped without [`Tx::commit`].
    pub fn begin(&self) -> Result<Tx<'_>> {
        self.batch(match self.dialect() {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres => "BEGIN",
        })?;
        Ok(Tx { db: self, open: true })
    }

    /// Begins a read-only transaction: its queries see one snapshot of the database.
    pub fn begin_read(&self) -> Result<Tx<'_>> {
        self.batch(match self.dialect() {
            Dialect::Sqlite => "BEGIN",
            Dialect::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        })?;
        Ok(Tx { db: self, open: true })
    }

    /// Picks the text for this connection's dialect, where the two differ.
    pub fn pick<'s>(&self, sqlite: &'s str, postgres: &'s str) -> &'s str {
        match self.dialect() {
            Dialect::Sqlite => sqlite,
            Dialect::Postgres => postgres,
        }
    }
}

/// An open transaction; rolled back when dropped unless committed.
pub struct Tx<'a> {
    db: &'a dyn Sql,
    open: bool,
}

impl Tx<'_> {
    pub fn commit(mut self) -> Result<()> {
        self.open = false;
        self.db.batch("COMMIT")
    }
}

impl<'a> Deref for Tx<'a> {
    type Target = dyn Sql + 'a;
    fn deref(&self) -> &Self::Target {
        self.db
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if self.open {
            let _ = self.db.batch("ROLLBACK");
        }
    }
}

fn bind<'a>(params: &'a [&'a dyn Param]) -> Vec<Value<'a>> {
    params.iter().map(|p| p.value()).collect()
}

impl Sql for rusqlite::Connection {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn execute(&self, sql: &str, params: &[&dyn Param]) -> Result<u64> {
        let changed = self
            .prepare_cached(sql)?
            .execute(rusqlite::params_from_iter(bind(params)))?;
        Ok(changed as u64)
    }

    fn each(&self, sql: &str, params: &[&dyn Param], each: &mut dyn FnMut(&Row<'_>) -> Result<()>) -> Result<()> {
        let mut stmt = self.prepare_cached(sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(bind(params)))?;
        while let Some(row) = rows.next()? {
            each(&Row::Sqlite(row))?;
        }
        Ok(())
    }

    fn batch(&self, sql: &str) -> Result<()> {
        Ok(self.execute_batch(sql)?)
    }
}

impl Sql for rusqlite::Transaction<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }
    fn execute(&self, sql: &str, params: &[&dyn Param]) -> Result<u64> {
        Sql::execute(&**self, sql, params)
    }
    fn each(&self, sql: &str, params: &[&dyn Param], each: &mut dyn FnMut(&Row<'_>) -> Result<()>) -> Result<()> {
        Sql::each(&**self, sql, params, each)
    }
    fn batch(&self, sql: &str) -> Result<()> {
        Sql::batch(&**self, sql)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_through_sqlite() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let db: &dyn Sql = &conn;
        db.batch("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, f INTEGER)")
            .unwrap();
        let n = db
            .execute(
                "INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5)",
                params![7_u32, 1.5, "é", vec![1_u8, 2], true],
            )
            .unwrap();
        assert_eq!(n, 1);
        let (i, r, s, b, f): (u32, f64, String, Vec<u8>, bool) = db
            .query_row("SELECT i, r, s, b, f FROM t", params![], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .unwrap();
        assert_eq!((i, r, s.as_str(), b, f), (7, 1.5, "é", vec![1, 2], true));
        let none: Option<i64> = db.one("SELECT NULL", params![]).unwrap();
        assert_eq!(none, None);
        assert!(matches!(
            db.one::<i64>("SELECT s FROM t", params![]),
            Err(Error::Column { column: 0, .. })
        ));
        assert!(db.execute("INSERT INTO t (i) VALUES (?1)", params![u64::MAX]).is_err());
        assert!(matches!(
            db.one::<i64>("SELECT i FROM t WHERE 0", params![]),
            Err(Error::NoRows)
        ));
    }

    #[test]
    fn a_dropped_transaction_rolls_back() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let db: &dyn Sql = &conn;
        db.batch("CREATE TABLE t (i INTEGER)").unwrap();
        {
            let tx = db.begin().unwrap();
            tx.execute("INSERT INTO t VALUES (1)", params![]).unwrap();
        }
        let tx = db.begin().unwrap();
        tx.execute("INSERT INTO t VALUES (2)", params![]).unwrap();
        tx.commit().unwrap();
        assert_eq!(db.one::<i64>("SELECT SUM(i) FROM t", params![]).unwrap(), 2);
    }
}
