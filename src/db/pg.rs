//! PostgreSQL for the hub of a chain: a connection that speaks [`Sql`], its migrations,
//! and the pool of them.
//!
//! Statements are written with SQLite's `?1` parameters and rewritten to `$1` once per
//! text ([`placeholders`]); the prepared statement is then kept on the connection.
//! Values are bound by what PostgreSQL inferred for each parameter, so an `i64` may fill
//! an `int4` or a `bool` column (see [`super::sql::Value`]).

use std::cell::RefCell;
use std::collections::HashMap;
use std::error::Error as StdError;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::BytesMut;
use postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};

use super::sql::{Dialect, Error, Param, Result, Row, Sql, Value};
use super::tls::{Mode, Tls};
use tokio_postgres_rustls::MakeRustlsConnect;

type BoxError = Box<dyn StdError + Sync + Send>;

/// Most prepared statements kept per connection; past it the cache starts again.
const STATEMENTS: usize = 512;

/// The advisory lock migrations run under: hubs starting together migrate once.
const MIGRATION_LOCK: i64 = 0x5654_4d49; // "VTMI"

/// A connection to the hub's PostgreSQL database.
pub struct Client {
    client: RefCell<postgres::Client>,
    statements: RefCell<HashMap<String, postgres::Statement>>,
}

/// A PostgreSQL database to connect to: the settings rust-postgres reads, and the TLS
/// the URL asked for (see [`super::tls`]).
#[derive(Clone)]
pub struct Target {
    config: postgres::Config,
    tls: Tls,
    /// Made on the first connection and shared by the clones (the CA files and the
    /// system's store are read once).
    connector: Arc<OnceLock<std::result::Result<MakeRustlsConnect, String>>>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("config", &self.config)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

impl std::ops::Deref for Target {
    type Target = postgres::Config;

    fn deref(&self) -> &postgres::Config {
        &self.config
    }
}

impl std::ops::DerefMut for Target {
    fn deref_mut(&mut self) -> &mut postgres::Config {
        &mut self.config
    }
}

impl Target {
    /// A rust-postgres client with the URL's TLS, without [`Client`]'s statement cache.
    pub fn connect_raw(&self) -> Result<postgres::Client> {
        if self.tls.mode == Mode::Disable {
            return Ok(self.config.connect(postgres::NoTls)?);
        }
        let connector = self.connector.get_or_init(|| self.tls.connector()).clone();
        Ok(self.config.connect(connector.map_err(Error::Value)?)?)
    }
}

/// Reads a `postgres://` URL (or a `key=value` string), with a connect timeout and the
/// hub's name in `pg_stat_activity`.
pub fn config(url: &str) -> Result<Target, String> {
    let (url, tls) = super::tls::split(url)?;
    let mut config = postgres::Config::from_str(&url).map_err(|e| format!("the database URL is not valid: {e}"))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(5));
    }
    if config.get_application_name().is_none() {
        config.application_name("vitrine-hub");
    }
    config.keepalives_idle(Duration::from_secs(30));
    // A hub that stalls holding a lock (a paused machine, a lost network) must not stop
    // the others for long: its idle transaction is ended, and a wait for a lock gives up
    // (the request is answered 503, to be tried again).
    //
    // Every statement is planned for its values (`force_custom_plan`): a plan PostgreSQL
    // cached while a table was empty (a new hub, a first import) would otherwise scan
    // the whole table on every later call until the next autovacuum, and a lookup of
    // 64 keys walks an index where a stale plan reads 50,000 rows.
    let limits = "-c lock_timeout=10s -c idle_in_transaction_session_timeout=60s -c plan_cache_mode=force_custom_plan";
    let options = match config.get_options() {
        Some(given) if !given.is_empty() => format!("{given} {limits}"),
        _ => limits.to_owned(),
    };
    config.options(&options);
    Ok(Target {
        config,
        tls,
        connector: Arc::default(),
    })
}

/// Where a URL points, without its password: for messages and logs.
pub fn describe(config: &postgres::Config) -> String {
    let host = config
        .get_hosts()
        .first()
        .map(|h| match h {
            postgres::config::Host::Tcp(name) => name.clone(),
            postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .unwrap_or_default();
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let db = config.get_dbname().or(config.get_user()).unwrap_or("");
    format!("postgres://{host}:{port}/{db}")
}

impl Client {
    pub fn connect(target: &Target) -> Result<Client> {
        let client = target.connect_raw()?;
        Ok(Client {
            client: RefCell::new(client),
            statements: RefCell::new(HashMap::new()),
        })
    }

    /// Whether the connection broke (the server went away): the pool drops it.
    pub fn is_closed(&self) -> bool {
        self.client.borrow().is_closed()
    }

    fn prepare(&self, sql: &str) -> Result<postgres::Statement> {
        if let Some(stmt) = self.statements.borrow().get(sql) {
            return Ok(stmt.clone());
        }
        let stmt = self
            .client
            .borrow_mut()
            .prepare(&placeholders(sql))
            .map_err(|source| Error::Prepare {
                sql: sql
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .chars()
                    .take(160)
                    .collect(),
                source,
            })?;
        let mut cache = self.statements.borrow_mut();
        if cache.len() >= STATEMENTS {
            cache.clear();
        }
        cache.insert(sql.to_owned(), stmt.clone());
        Ok(stmt)
    }

    /// The client itself, for what [`Sql`] does not cover (migrations, `COPY`).
    pub fn raw(&self) -> std::cell::RefMut<'_, postgres::Client> {
        self.client.borrow_mut()
    }
}

fn bind<'a>(params: &'a [&'a dyn Param]) -> Vec<Value<'a>> {
    params.iter().map(|p| p.value()).collect()
}

fn refs<'a>(values: &'a [Value<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    values.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

impl Sql for Client {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn execute(&self, sql: &str, params: &[&dyn Param]) -> Result<u64> {
        let stmt = self.prepare(sql)?;
        let values = bind(params);
        Ok(self.client.borrow_mut().execute(&stmt, &refs(&values))?)
    }

    fn each(&self, sql: &str, params: &[&dyn Param], each: &mut dyn FnMut(&Row<'_>) -> Result<()>) -> Result<()> {
        let stmt = self.prepare(sql)?;
        let values = bind(params);
        let rows = self.client.borrow_mut().query(&stmt, &refs(&values))?;
        for row in &rows {
            each(&Row::Postgres(row))?;
        }
        Ok(())
    }

    fn batch(&self, sql: &str) -> Result<()> {
        Ok(self.client.borrow_mut().batch_execute(sql)?)
    }
}

/// Rewrites `?1` (and a bare `?`) to PostgreSQL's `$1`, leaving quoted text, quoted
/// names and comments alone.
pub fn placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    let mut bare = 0;
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                out.push(c);
                for d in chars.by_ref() {
                    out.push(d);
                    if d == c {
                        break;
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                out.push(c);
                for d in chars.by_ref() {
                    out.push(d);
                    if d == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                out.push(c);
                out.extend(chars.next());
                let mut last = ' ';
                for d in chars.by_ref() {
                    out.push(d);
                    if last == '*' && d == '/' {
                        break;
                    }
                    last = d;
                }
            }
            '?' => {
                out.push('$');
                if chars.peek().is_some_and(char::is_ascii_digit) {
                    while let Some(d) = chars.next_if(char::is_ascii_digit) {
                        out.push(d);
                    }
                } else {
                    bare += 1;
                    out.push_str(&bare.to_string());
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// An error with its causes: the driver's own words ("error connecting to server")
/// say little without the system's ("Connection refused").
pub fn explain(e: &dyn StdError) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        cause = c.source();
    }
    text
}

/// Whether an error means the database is out of reach, restarting or overloaded,
/// rather than that the request was wrong: the caller may try again later.
pub fn is_unavailable(e: &postgres::Error) -> bool {
    if e.is_closed() || e.code().is_none() && e.source().is_some_and(|s| s.is::<std::io::Error>()) {
        return true;
    }
    e.code().is_some_and(|c| {
        let code = c.code();
        // 08: connection exception; 57P0x: shutting down, cannot connect now; 53:
        // insufficient resources; 40001 / 40P01: a serialization failure or deadlock;
        // 55P03: a lock not had within lock_timeout; 25P03: an idle transaction ended.
        code.starts_with("08")
            || code.starts_with("57P")
            || code.starts_with("53")
            || ["40001", "40P01", "55P03", "25P03"].contains(&code)
    })
}

/// A column as PostgreSQL sent it (binary format), read by [`super::sql::Column`].
pub struct Raw<'a> {
    ty: Type,
    bytes: Option<&'a [u8]>,
}

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(Raw {
            ty: ty.clone(),
            bytes: Some(raw),
        })
    }
    fn from_sql_null(ty: &Type) -> Result<Self, BoxError> {
        Ok(Raw {
            ty: ty.clone(),
            bytes: None,
        })
    }
    fn accepts(_: &Type) -> bool {
        true
    }
}

impl<'a> Raw<'a> {
    pub fn is_null(&self) -> bool {
        self.bytes.is_none()
    }

    fn present(&self) -> Result<&'a [u8], String> {
        self.bytes.ok_or_else(|| "NULL where a value was expected".to_owned())
    }

    fn decode<T: FromSql<'a>>(&self) -> Result<T, String> {
        T::from_sql(&self.ty, self.present()?).map_err(|e| e.to_string())
    }

    /// An integer from any integer type, a boolean, or a `numeric` without a fraction.
    pub fn integer(&self) -> Result<i64, String> {
        match self.ty {
            Type::INT8 => self.decode::<i64>(),
            Type::INT4 => self.decode::<i32>().map(i64::from),
            Type::INT2 => self.decode::<i16>().map(i64::from),
            Type::OID => self.decode::<u32>().map(i64::from),
            Type::BOOL => self.decode::<bool>().map(i64::from),
            Type::NUMERIC => numeric(self.present()?)?.integer(),
            ref other => Err(format!("a {other} column cannot be read as an integer")),
        }
    }

    pub fn real(&self) -> Result<f64, String> {
        match self.ty {
            Type::FLOAT8 => self.decode::<f64>(),
            Type::FLOAT4 => self.decode::<f32>().map(f64::from),
            Type::NUMERIC => Ok(numeric(self.present()?)?.real()),
            #[allow(clippy::cast_precision_loss)]
            _ => self.integer().map(|v| v as f64),
        }
    }

    pub fn text(&self) -> Result<&'a str, String> {
        match self.ty {
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN | Type::JSON => {
                std::str::from_utf8(self.present()?).map_err(|e| e.to_string())
            }
            ref other => Err(format!("a {other} column cannot be read as text")),
        }
    }

    pub fn bytes(&self) -> Result<&'a [u8], String> {
        match self.ty {
            Type::BYTEA | Type::TEXT | Type::VARCHAR => self.present(),
            ref other => Err(format!("a {other} column cannot be read as bytes")),
        }
    }
}

/// A `numeric` in PostgreSQL's binary form: base-10000 digits and the weight of the first.
struct Numeric {
    negative: bool,
    weight: i16,
    digits: Vec<i16>,
}

fn numeric(raw: &[u8]) -> Result<Numeric, String> {
    let word = |i: usize| -> Result<i16, String> {
        raw.get(i * 2..i * 2 + 2)
            .map(|b| i16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "a truncated numeric".to_owned())
    };
    let count = usize::try_from(word(0)?).map_err(|_| "a malformed numeric")?;
    let sign = word(2)? as u16;
    if sign == 0xC000 {
        return Err("NaN cannot be read as a number".to_owned());
    }
    Ok(Numeric {
        negative: sign == 0x4000,
        weight: word(1)?,
        digits: (0..count).map(|i| word(4 + i)).collect::<Result<_, _>>()?,
    })
}

impl Numeric {
    fn integer(&self) -> Result<i64, String> {
        let mut value: i128 = 0;
        for (i, &d) in self.digits.iter().enumerate() {
            let power = i32::from(self.weight) - i32::try_from(i).unwrap_or(i32::MAX);
            if power < 0 {
                if d != 0 {
                    return Err("a number with a fraction cannot be read as an integer".to_owned());
                }
                continue;
            }
            let scaled = 10_000_i128
                .checked_pow(u32::try_from(power).unwrap_or(u32::MAX))
                .and_then(|p| p.checked_mul(i128::from(d)))
                .ok_or("a number too large for an integer")?;
            value = value.checked_add(scaled).ok_or("a number too large for an integer")?;
        }
        let value = if self.negative { -value } else { value };
        i64::try_from(value).map_err(|_| "a number too large for an integer".to_owned())
    }

    fn real(&self) -> f64 {
        let value: f64 = self
            .digits
            .iter()
            .enumerate()
            .map(|(i, &d)| f64::from(d) * 10_000_f64.powi(i32::from(self.weight) - i32::try_from(i).unwrap_or(0)))
            .sum();
        if self.negative { -value } else { value }
    }
}

impl ToSql for Value<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let refused = || -> BoxError { format!("{self:?} cannot be bound to a {ty} parameter").into() };
        match *self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(v) => match *ty {
                Type::INT8 => v.to_sql(ty, out),
                Type::INT4 => i32::try_from(v).map_err(|_| refused())?.to_sql(ty, out),
                Type::INT2 => i16::try_from(v).map_err(|_| refused())?.to_sql(ty, out),
                Type::BOOL => (v != 0).to_sql(ty, out),
                #[allow(clippy::cast_precision_loss)]
                Type::FLOAT8 => (v as f64).to_sql(ty, out),
                _ => Err(refused()),
            },
            Value::Bool(v) => match *ty {
                Type::BOOL => v.to_sql(ty, out),
                Type::INT8 | Type::INT4 | Type::INT2 => Value::Int(i64::from(v)).to_sql(ty, out),
                _ => Err(refused()),
            },
            Value::Real(v) => match *ty {
                Type::FLOAT8 => v.to_sql(ty, out),
                #[allow(clippy::cast_possible_truncation)]
                Type::FLOAT4 => (v as f32).to_sql(ty, out),
                _ => Err(refused()),
            },
            Value::Text(v) => match *ty {
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN | Type::JSON => {
                    out.extend_from_slice(v.as_bytes());
                    Ok(IsNull::No)
                }
                _ => Err(refused()),
            },
            Value::Blob(v) => match *ty {
                Type::BYTEA => v.to_sql(ty, out),
                _ => Err(refused()),
            },
            Value::TooBig => Err("an unsigned number past i64::MAX".into()),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// The table that records which steps of the schema a database has had.
pub const HISTORY_TABLE: &str = "vitrine_schema_history";

/// Brings the database to the latest schema, once however many hubs start together:
/// each waits on an advisory lock while another migrates.
pub fn migrate(client: &mut postgres::Client, steps: &[(&str, &str)]) -> Result<(), String> {
    let migrations = steps
        .iter()
        .map(|(name, sql)| refinery::Migration::unapplied(name, sql))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    // However long another hub's migration takes, this one waits for it.
    client
        .batch_execute("SET lock_timeout = 0")
        .map_err(|e| e.to_string())?;
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .map_err(|e| e.to_string())?;
    let ran = refinery::Runner::new(&migrations)
        .set_migration_table_name(HISTORY_TABLE)
        .run(client)
        .map(|_| ())
        .map_err(|e| e.to_string());
    let unlocked = client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]);
    let _ = client.batch_execute("RESET lock_timeout");
    ran?;
    unlocked.map(|_| ()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::placeholders;
    use crate::db::{Sql, params};

    fn client() -> super::Client {
        let cluster = crate::db::cluster::shared().expect("a PostgreSQL cluster for the tests");
        let url = cluster.hub_database().unwrap();
        super::Client::connect(&super::config(&url).unwrap()).unwrap()
    }

    #[test]
    fn values_round_trip_through_postgres() {
        let client = client();
        let db: &dyn Sql = &client;
        db.batch("CREATE TABLE t (i BIGINT, r DOUBLE PRECISION, s TEXT, b BYTEA, f BIGINT, n INTEGER)")
            .unwrap();
        let n = db
            .execute(
                "INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![7_u32, 1.5, "é", vec![1_u8, 2], true, 3_i64],
            )
            .unwrap();
        assert_eq!(n, 1);
        let (i, r, s, b, f): (u32, f64, String, Vec<u8>, bool) = db
            .query_row("SELECT i, r, s, b, f FROM t", params![], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .unwrap();
        assert_eq!((i, r, s.as_str(), b, f), (7, 1.5, "é", vec![1, 2], true));
        // What PostgreSQL types differently from SQLite reads the same.
        assert_eq!(db.one::<i64>("SELECT 1", params![]).unwrap(), 1);
        assert_eq!(db.one::<i64>("SELECT SUM(i) FROM t", params![]).unwrap(), 7);
        assert_eq!(db.one::<i64>("SELECT n FROM t", params![]).unwrap(), 3);
        assert!(db.one::<bool>("SELECT i > 6 FROM t", params![]).unwrap());
        assert!((db.one::<f64>("SELECT AVG(r) FROM t", params![]).unwrap() - 1.5).abs() < 1e-9);
        assert_eq!(
            db.one::<Option<i64>>("SELECT MAX(i) FROM t WHERE i > 99", params![])
                .unwrap(),
            None
        );
        assert!(matches!(
            db.one::<i64>("SELECT s FROM t", params![]),
            Err(crate::db::sql::Error::Column { column: 0, .. })
        ));
        assert!(db.execute("UPDATE t SET n = ?1", params![i64::MAX]).is_err());
    }

    #[test]
    fn transactions_and_constraints() {
        let client = client();
        let db: &dyn Sql = &client;
        db.batch("CREATE TABLE u (k TEXT PRIMARY KEY)").unwrap();
        {
            let tx = db.begin().unwrap();
            tx.execute("INSERT INTO u VALUES (?1)", params!["a"]).unwrap();
        }
        assert_eq!(db.one::<i64>("SELECT COUNT(*) FROM u", params![]).unwrap(), 0);
        db.execute("INSERT INTO u VALUES (?1)", params!["a"]).unwrap();
        let dup = db.execute("INSERT INTO u VALUES (?1)", params!["a"]).unwrap_err();
        assert!(dup.is_constraint(), "{dup}");
        assert!(!dup.is_unavailable());
    }

    #[test]
    fn placeholders_become_dollars_outside_quotes() {
        assert_eq!(
            placeholders("SELECT ?1, '?2', \"a?\", ? -- ?3\n, ?12 /*/ ?4 */ ?5"),
            "SELECT $1, '?2', \"a?\", $1 -- ?3\n, $12 /*/ ?4 */ $5"
        );
    }

    #[test]
    fn numerics_read_as_integers_and_reals() {
        // 12345678 = 1234 * 10000 + 5678; weight 1.
        let raw = [0, 2, 0, 1, 0, 0, 0, 0, 0x04, 0xD2, 0x16, 0x2E];
        let n = super::numeric(&raw).unwrap();
        assert_eq!(n.integer().unwrap(), 12_345_678);
        assert!((n.real() - 12_345_678.0).abs() < 1e-6);
        // 1.5 = 1 + 5000/10000; weight 0.
        let half = [0, 2, 0, 0, 0, 0, 0, 1, 0, 1, 0x13, 0x88];
        let n = super::numeric(&half).unwrap();
        assert!(n.integer().is_err());
        assert!((n.real() - 1.5).abs() < 1e-9);
        assert!(super::numeric(&[0, 1]).is_err());
    }
}
