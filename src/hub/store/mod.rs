//! The hub's database (a SQLite file, or PostgreSQL for a chain): one writer thread, a
//! small pool of readers.
//!
//! - [`writer`]: the writer thread and its group commit of pushes;
//! - [`ingest`]: a pushed batch applied (stream, sequence, each op's facts and result);
//! - [`pending`]: what a group of pushes reads and writes, a few statements at a time;
//! - [`merge`]: what to do with an op, as pure functions (no SQLite, `now` passed in);
//! - [`devices`]: enrollment codes and kiosks;
//! - [`keys`]: web store API keys, and who holds a bearer token;
//! - [`feeds`]: a feed parsed off the async threads and imported on the writer;
//! - [`wishlist`]: the web store's changes feed and snapshot, a customer's list, erasure;
//! - [`cursors`]: the feeds' opaque cursors;
//! - [`pairings`]: sign-in with the phone's pairings;
//! - [`leases`]: work one hub of several does for all;
//! - [`migrate`]: an embedded hub moved into PostgreSQL.
//!
//! Every write of this hub goes through its writer thread, which owns its writing
//! connection. Reads (changes feeds, credentials) use pooled connections: read-only
//! SQLite ones beside the writer (WAL), or PostgreSQL ones. On PostgreSQL several hubs
//! share the database; what keeps them apart is in the database (locks, claims), never
//! in one hub's memory.

pub mod cursors;
pub mod devices;
pub mod feeds;
pub mod ingest;
pub mod keys;
pub mod leases;
pub mod merge;
pub mod migrate;
pub mod pairings;
pub mod pending;
pub mod wishlist;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};

use jiff::{SignedDuration, Timestamp};
use tokio::sync::oneshot;

pub use cursors::{Feed, decode_cursor, decode_snapshot_cursor, encode_cursor, encode_snapshot_cursor};
pub use devices::{EnrollError, create_enroll_code, enroll};
pub use keys::{create_key, principal};
pub use wishlist::{SnapshotPage, customer_wishlist, erase_customer, is_erased, snapshot_page, wishlist_page};
pub use writer::Writer;

use super::auth::Scope;
use super::customers;
use crate::db::{self, Conn, DbError, Schema, Sql};
use crate::protocol::{PushRequest, PushResponse};
use writer::{Job, PushJob, WriteJob};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("database error: {0}")]
    Query(#[from] db::Error),
    #[error("the hub's database is unavailable: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("the hub is shutting down")]
    Closed,
    #[error("{0}")]
    Locked(String),
}

/// What the writer checks pushed ops against, from the hub's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    /// How far ahead of the hub's clock an op's clock may be.
    pub max_skew: SignedDuration,
    /// The audience a customer token must name to sign in at this hub's kiosks.
    pub audience: String,
    /// How long after its token expired a sign-in may still reach the hub, and its
    /// grant lasts.
    pub offline_grace: SignedDuration,
}

impl Default for Rules {
    fn default() -> Rules {
        Rules {
            max_skew: SignedDuration::from_mins(5),
            audience: "vitrine".to_owned(),
            offline_grace: SignedDuration::from_hours(72),
        }
    }
}

/// Who is sending a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Device { id: i64, store_code: String },
    Key { id: i64, name: String, scopes: Vec<Scope> },
}

impl Principal {
    /// How the hub's log names it: `device 7 (PARIS)` or `key 2 (web store)`.
    pub fn name(&self) -> String {
        match self {
            Principal::Device { id, store_code } => format!("device {id} ({store_code})"),
            Principal::Key { id, name, .. } => format!("key {id} ({name})"),
        }
    }
}

/// Why a push was refused as a whole. Nothing of it was stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    #[error("ops before seq {expected} are missing on this stream")]
    Gap { expected: u64 },
    #[error("seq {seq} was already received on this stream with different content")]
    Diverged { seq: u64 },
    #[error("this stream belongs to another sender; start a new stream")]
    StreamTaken,
    #[error("{0}")]
    Invalid(String),
    /// The database failed: the cause, for the hub's log only.
    #[error("the hub could not store this batch: {0}")]
    Store(String),
}

/// The lock only one hub's writer holds on a database (`hub.sqlite.lock`): a second hub
/// on the same data directory would hand out the same change ids. A writer that is
/// stopping (a hub restarted in-process) is given a few seconds to let go.
fn writer_lock(path: &Path) -> Result<std::fs::File, StoreError> {
    let lock_path = path.with_extension("sqlite.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| StoreError::Locked(format!("cannot open {}: {e}", lock_path.display())))?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StoreError::Locked(format!(
                    "another hub is using {}; stop it first",
                    path.display()
                )));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(StoreError::Locked(format!("cannot lock {}: {e}", lock_path.display())));
            }
        }
    }
}

/// Clears its flag when dropped, including by a panic's unwind.
struct AliveWhileHeld(Arc<AtomicBool>);

impl Drop for AliveWhileHeld {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

/// Where the hub keeps its state.
#[derive(Debug, Clone)]
pub enum Place {
    /// The embedded SQLite file.
    File(PathBuf),
    /// A PostgreSQL database other hubs may share.
    Postgres(Box<db::pg::Target>),
}

/// Reads a PostgreSQL database's `postgres://` URL (`--database`, `--to`).
pub fn postgres_config(url: &str) -> Result<db::pg::Target, String> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err("the database must be a postgres:// URL".to_owned());
    }
    db::pg::config(url)
}

impl Place {
    /// Reads `--database`: a `postgres://` URL.
    pub fn postgres(url: &str) -> Result<Place, String> {
        let config =
            postgres_config(url).map_err(|e| format!("{e} (without one, the hub keeps a SQLite file in --data)"))?;
        Ok(Place::Postgres(Box::new(config)))
    }

    /// A connection of its own (created and migrated if needed), for the admin
    /// commands and what a hub reads as it starts.
    pub fn connect(&self) -> Result<Conn, DbError> {
        match self {
            Place::File(path) => Ok(Conn::Sqlite(db::open(path, Schema::Hub)?)),
            Place::Postgres(config) => Ok(Conn::Postgres(Box::new(db::open_postgres(config)?))),
        }
    }

    /// Where it is, without a password: for logs and messages.
    pub fn describe(&self) -> String {
        match self {
            Place::File(path) => path.display().to_string(),
            Place::Postgres(config) => db::pg::describe(config),
        }
    }
}

pub enum Manager {
    Sqlite(PathBuf),
    Postgres(Box<db::pg::Target>),
}

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = DbError;

    fn connect(&self) -> Result<Conn, DbError> {
        match self {
            Manager::Sqlite(path) => {
                let conn = db::open(path, Schema::Hub)?;
                conn.pragma_update(None, "query_only", true)?;
                Ok(Conn::Sqlite(conn))
            }
            Manager::Postgres(config) => db::pg::Client::connect(config)
                .map(|c| Conn::Postgres(Box::new(c)))
                .map_err(|e| DbError::Connect {
                    url: db::pg::describe(config),
                    why: db::pg::explain(&e),
                }),
        }
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), DbError> {
        Ok(conn.sql().batch("SELECT 1")?)
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.is_broken()
    }
}

/// The hub's database, shared by every request.
#[derive(Clone)]
pub struct Store {
    jobs: mpsc::Sender<Job>,
    pool: r2d2::Pool<Manager>,
    /// Cleared when the writer thread ends, however it ends.
    writer_alive: Arc<AtomicBool>,
    /// Signalled after each commit: what waits for changes (webhook deliveries) looks.
    committed: Arc<tokio::sync::Notify>,
    dialect: db::Dialect,
    /// This hub process among those sharing the database: who holds its leases.
    instance: Arc<str>,
}

impl Store {
    /// Opens (creating and migrating) the database and starts the writer thread, which
    /// applies `rules` to what is pushed. A PostgreSQL server that cannot be reached is
    /// an error here; one that goes away later is waited for.
    pub fn open(place: &Place, rules: Rules) -> Result<Store, StoreError> {
        let (conn, lock, manager, reconnect) = match place {
            Place::File(path) => {
                let lock = writer_lock(path)?;
                let conn = Conn::Sqlite(db::open(path, Schema::Hub)?);
                (conn, Some(lock), Manager::Sqlite(path.clone()), None)
            }
            Place::Postgres(config) => {
                let conn = Conn::Postgres(Box::new(db::open_postgres(config)?));
                (conn, None, Manager::Postgres(config.clone()), Some((**config).clone()))
            }
        };
        let dialect = conn.sql().dialect();
        customers::ensure_hub_key(conn.sql(), Timestamp::now())?;
        let next_change = writer::next_change_id(conn.sql())?;
        let mut writer = Writer::new(conn, reconnect, next_change, rules);
        let (jobs, queue) = mpsc::channel();
        let writer_alive = Arc::new(AtomicBool::new(true));
        let alive = AliveWhileHeld(writer_alive.clone());
        let committed = Arc::new(tokio::sync::Notify::new());
        let signal = committed.clone();
        std::thread::Builder::new()
            .name("hub-writer".into())
            .spawn(move || {
                // Held as long as this writer runs: no second one on the same file.
                let _lock = lock;
                let _alive = alive;
                writer::run(&mut writer, &queue, &signal);
            })
            .expect("the writer thread starts");
        let pool = r2d2::Pool::builder()
            .max_size(8)
            .min_idle(Some(1))
            .connection_timeout(std::time::Duration::from_secs(5))
            .build(manager)?;
        Ok(Store {
            jobs,
            pool,
            writer_alive,
            committed,
            dialect,
            instance: crate::protocol::new_id().into(),
        })
    }

    /// Which database this is.
    pub fn dialect(&self) -> db::Dialect {
        self.dialect
    }

    /// Whether the writer thread still runs: without it every write fails, so the hub
    /// is not healthy (`/healthz` says so and a supervisor restarts it).
    pub fn writer_alive(&self) -> bool {
        self.writer_alive.load(Ordering::SeqCst)
    }

    /// Signalled after each commit of the writer.
    pub fn committed(&self) -> Arc<tokio::sync::Notify> {
        self.committed.clone()
    }

    /// Runs `f` on the writer thread.
    pub async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Writer) -> T + Send + 'static,
    ) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        let job: WriteJob = Box::new(move |w| {
            let _ = reply.send(f(w));
        });
        self.jobs.send(Job::Write(job)).map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)
    }

    /// Stores a batch of ops (see the module documentation for the commit).
    pub async fn push(
        &self,
        principal: Principal,
        request: PushRequest,
        now: Timestamp,
    ) -> Result<Result<PushResponse, PushError>, StoreError> {
        let (reply, answer) = oneshot::channel();
        let job = PushJob {
            principal,
            request,
            now,
            reply,
        };
        self.jobs.send(Job::Push(job)).map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)
    }

    /// Takes or renews the lease `name` for this hub (see [`leases`]): whether it is
    /// this hub's turn to do that work. A database that cannot say means no.
    pub async fn lease(&self, name: &str, length: SignedDuration) -> bool {
        // One hub per SQLite file (its writer lock): all its work is its own, also the
        // leases a hub that ran before it on the file left behind.
        if self.dialect == db::Dialect::Sqlite {
            return true;
        }
        let (name, holder) = (name.to_owned(), self.instance.clone());
        match self
            .write(move |w| leases::take(w.db(), &name, &holder, length, Timestamp::now()))
            .await
        {
            Ok(Ok(held)) => held,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot take a lease; the work waits");
                false
            }
            Err(_) => false,
        }
    }

    /// Runs `f` on a pooled connection, off the async threads.
    pub async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Sql) -> db::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let conn = pool.get()?;
            Ok(f(conn.sql())?)
        })
        .await
        .map_err(|_| StoreError::Closed)?
    }
}
