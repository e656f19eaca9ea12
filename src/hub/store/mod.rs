//! The hub's SQLite file: one writer thread, a small pool of readers.
//!
//! - [`writer`]: the writer thread and its group commit of pushes;
//! - [`ingest`]: a pushed batch applied (stream, sequence, each op's facts and result);
//! - [`merge`]: what to do with an op, as pure functions (no SQLite, `now` passed in);
//! - [`devices`]: enrollment codes and kiosks;
//! - [`keys`]: web store API keys, and who holds a bearer token;
//! - [`feeds`]: a feed parsed off the async threads and imported on the writer;
//! - [`wishlist`]: the web store's changes feed and snapshot, a customer's list, erasure;
//! - [`cursors`]: the feeds' opaque cursors.
//!
//! Every write goes through the writer thread, which owns the only writing connection.
//! Reads (changes feeds, credentials) use pooled read-only connections; WAL lets them
//! run beside the writer.

pub mod cursors;
pub mod devices;
pub mod feeds;
pub mod ingest;
pub mod keys;
pub mod merge;
pub mod wishlist;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::mpsc;

use jiff::Timestamp;
use rusqlite::Connection;
use tokio::sync::oneshot;

pub use cursors::{Feed, decode_cursor, encode_cursor};
pub use devices::{EnrollError, create_enroll_code, enroll};
pub use keys::{create_key, principal};
pub use wishlist::{customer_wishlist, erase_customer, is_erased, wishlist_page};
pub use writer::Writer;

use super::auth::Scope;
use super::customers;
use crate::catalog::Catalog;
use crate::db::{self, DbError, Schema};
use crate::protocol::{PushRequest, PushResponse};
use writer::{Job, PushJob, WriteJob};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("the hub's database is unavailable: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("the hub is shutting down")]
    Closed,
}

/// Who is sending a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Device { id: i64, store_code: String },
    Key { id: i64, name: String, scopes: Vec<Scope> },
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

pub struct Manager {
    path: PathBuf,
}

impl r2d2::ManageConnection for Manager {
    type Connection = Connection;
    type Error = DbError;

    fn connect(&self) -> Result<Connection, DbError> {
        let conn = db::open(&self.path, Schema::Hub)?;
        conn.pragma_update(None, "query_only", true)?;
        Ok(conn)
    }

    fn is_valid(&self, conn: &mut Connection) -> Result<(), DbError> {
        Ok(conn.execute_batch("SELECT 1")?)
    }

    fn has_broken(&self, _: &mut Connection) -> bool {
        false
    }
}

/// The hub's database, shared by every request.
#[derive(Clone)]
pub struct Store {
    jobs: mpsc::Sender<Job>,
    pool: r2d2::Pool<Manager>,
}

impl Store {
    /// Opens (creating and migrating) the database and starts the writer thread.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let conn = db::open(path, Schema::Hub)?;
        customers::ensure_hub_key(&conn, Timestamp::now())?;
        let next_change: i64 =
            conn.query_row("SELECT COALESCE(MAX(change_id), 0) + 1 FROM wishlist", [], |r| r.get(0))?;
        let mut writer = Writer::new(Catalog::with_connection(conn, true), next_change);
        let (jobs, queue) = mpsc::channel();
        std::thread::Builder::new()
            .name("hub-writer".into())
            .spawn(move || writer::run(&mut writer, &queue))
            .expect("the writer thread starts");
        let pool = r2d2::Pool::builder()
            .max_size(8)
            .min_idle(Some(1))
            .build(Manager { path: path.to_owned() })?;
        Ok(Store { jobs, pool })
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

    /// Runs `f` on a pooled read-only connection, off the async threads.
    pub async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let conn = pool.get()?;
            Ok(f(&conn)?)
        })
        .await
        .map_err(|_| StoreError::Closed)?
    }
}
