//! The hub's SQLite file: one writer thread, a small pool of readers.
//!
//! Every write goes through the writer thread, which owns the only writing connection.
//! Pushes that arrive together are committed together (group commit): each runs in its
//! own savepoint, so a refused batch leaves no trace, and one flush covers them all.
//! Replies are sent only after the commit: an acknowledged op is on disk.
//!
//! Reads (changes feeds, credentials) use pooled read-only connections; WAL lets them
//! run beside the writer.

use std::path::{Path, PathBuf};
use std::sync::mpsc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use tokio::sync::oneshot;

use super::auth::{self, Scope};
use super::customers;
use crate::catalog::Catalog;
use crate::db::{self, DbError, Schema};
use crate::protocol::{
    Action, CatalogChange, EnrollResponse, Op, OpResult, OpStatus, Origin, Owner, PushRequest, PushResponse, Visit,
    WishlistLine, valid_ref,
};
use crate::sync::hlc;

/// Most pushes committed in one transaction.
const GROUP_COMMIT: usize = 64;

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
    #[error("{0}")]
    Store(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnrollError {
    #[error("this enrollment code is not known; check it, or ask store ops for a new one")]
    Unknown,
    #[error("this enrollment code has expired; ask store ops for a new one")]
    Expired,
    #[error("this enrollment code was already used; ask store ops for a new one")]
    Used,
}

/// The writer's connection and what it keeps in memory between jobs.
pub struct Writer {
    pub catalog: Catalog,
    next_change: i64,
    hlc: u64,
}

type WriteJob = Box<dyn FnOnce(&mut Writer) + Send>;

struct PushJob {
    principal: Principal,
    request: PushRequest,
    now: Timestamp,
    reply: oneshot::Sender<Result<PushResponse, PushError>>,
}

enum Job {
    Push(PushJob),
    Write(WriteJob),
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
        let mut writer = Writer {
            catalog: Catalog::with_connection(conn, true),
            next_change,
            hlc: 0,
        };
        let (jobs, queue) = mpsc::channel();
        std::thread::Builder::new()
            .name("hub-writer".into())
            .spawn(move || write_loop(&mut writer, &queue))
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

fn write_loop(writer: &mut Writer, queue: &mpsc::Receiver<Job>) {
    while let Ok(job) = queue.recv() {
        match job {
            Job::Write(f) => f(writer),
            Job::Push(first) => {
                let mut group = vec![first];
                let mut after = None;
                while group.len() < GROUP_COMMIT {
                    match queue.try_recv() {
                        Ok(Job::Push(next)) => group.push(next),
                        Ok(other) => {
                            after = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                commit_pushes(writer, group);
                if let Some(Job::Write(f)) = after {
                    f(writer);
                }
            }
        }
    }
    tracing::info!("hub writer stopped");
}

fn commit_pushes(writer: &mut Writer, group: Vec<PushJob>) {
    let next_change = writer.next_change;
    let mut results = Vec::with_capacity(group.len());
    let outcome = (|| -> rusqlite::Result<()> {
        let Writer {
            catalog,
            next_change,
            hlc,
        } = writer;
        let tx = catalog
            .connection()
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for job in &group {
            // A savepoint per push: a refused batch is rolled back alone.
            let mut sp_change = *next_change;
            tx.execute_batch("SAVEPOINT push")?;
            let result = apply_push(&tx, &mut sp_change, hlc, &job.principal, &job.request, job.now);
            match &result {
                Ok(_) => {
                    tx.execute_batch("RELEASE push")?;
                    *next_change = sp_change;
                }
                Err(_) => tx.execute_batch("ROLLBACK TO push; RELEASE push")?,
            }
            results.push(result);
        }
        tx.commit()
    })();
    if let Err(e) = outcome {
        tracing::error!(error = %e, "a group of pushes could not be committed");
        writer.next_change = next_change;
        for job in group {
            let _ = job.reply.send(Err(PushError::Store(
                "the hub could not store this batch; retry later".to_owned(),
            )));
        }
        return;
    }
    for (job, result) in group.into_iter().zip(results) {
        let _ = job.reply.send(result);
    }
}

fn op_hash(op: &Op) -> i64 {
    let bytes = serde_json::to_vec(op).expect("ops serialise");
    xxhash_rust::xxh3::xxh3_64(&bytes) as i64
}

fn apply_push(
    tx: &Transaction<'_>,
    next_change: &mut i64,
    clock: &mut u64,
    principal: &Principal,
    request: &PushRequest,
    now: Timestamp,
) -> Result<PushResponse, PushError> {
    let sql = |e: rusqlite::Error| PushError::Store(format!("database error: {e}"));
    if !valid_ref(&request.stream) {
        return Err(PushError::Invalid(
            "stream must be 1 to 128 printable characters".to_owned(),
        ));
    }
    let (device_id, key_id) = match principal {
        Principal::Device { id, .. } => (Some(*id), None),
        Principal::Key { id, .. } => (None, Some(*id)),
    };
    let row: Option<(Option<i64>, Option<i64>, u64)> = tx
        .prepare_cached("SELECT device_id, key_id, acked_seq FROM stream WHERE id = ?1")
        .and_then(|mut s| {
            s.query_row([&request.stream], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()
        })
        .map_err(sql)?;
    let mut acked = match row {
        None => {
            tx.prepare_cached(
                "INSERT INTO stream (id, device_id, key_id, acked_seq, created_at) VALUES (?1, ?2, ?3, 0, ?4)",
            )
            .and_then(|mut s| s.execute(params![request.stream, device_id, key_id, now.as_second()]))
            .map_err(sql)?;
            0
        }
        Some((d, k, acked)) if d == device_id && k == key_id => acked,
        Some(_) => return Err(PushError::StreamTaken),
    };
    *clock = hlc::tick(*clock, now);
    let mut results = Vec::with_capacity(request.ops.len());
    for op in &request.ops {
        let hash = op_hash(op);
        if op.seq == 0 {
            return Err(PushError::Invalid("sequence numbers start at 1".to_owned()));
        }
        if op.seq <= acked {
            let stored: Option<i64> = tx
                .prepare_cached("SELECT hash FROM op WHERE stream = ?1 AND seq = ?2")
                .and_then(|mut s| s.query_row(params![request.stream, op.seq], |r| r.get(0)).optional())
                .map_err(sql)?;
            if stored.is_some_and(|h| h != hash) {
                return Err(PushError::Diverged { seq: op.seq });
            }
            results.push(OpResult {
                seq: op.seq,
                status: OpStatus::Duplicate,
                reason: None,
            });
            continue;
        }
        if op.seq != acked + 1 {
            return Err(PushError::Gap { expected: acked + 1 });
        }
        let (status, reason) = apply_op(tx, next_change, principal, &request.stream, op, now).map_err(sql)?;
        tx.prepare_cached("INSERT INTO op (stream, seq, hash, status, reason) VALUES (?1, ?2, ?3, ?4, ?5)")
            .and_then(|mut s| {
                s.execute(params![
                    request.stream,
                    op.seq,
                    hash,
                    if status == OpStatus::Applied {
                        "applied"
                    } else {
                        "rejected"
                    },
                    reason
                ])
            })
            .map_err(sql)?;
        *clock = hlc::observe(*clock, op.hlc);
        acked = op.seq;
        results.push(OpResult {
            seq: op.seq,
            status,
            reason: reason.map(str::to_owned),
        });
    }
    tx.prepare_cached("UPDATE stream SET acked_seq = ?1 WHERE id = ?2")
        .and_then(|mut s| s.execute(params![acked, request.stream]))
        .map_err(sql)?;
    Ok(PushResponse {
        acked_seq: acked,
        results,
        hub_hlc: *clock,
    })
}

/// Whether the web store erased this customer (their reference is kept only hashed).
pub fn is_erased(conn: &Connection, customer: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM erased_customer WHERE ref_hash = ?1)")?
        .query_row([auth::hash(customer)], |r| r.get(0))
}

/// Merges one op: last writer wins by (hlc, stream, seq). Returns its status and, if
/// rejected, the reason.
fn apply_op(
    tx: &Transaction<'_>,
    next_change: &mut i64,
    principal: &Principal,
    stream: &str,
    op: &Op,
    now: Timestamp,
) -> rusqlite::Result<(OpStatus, Option<&'static str>)> {
    let (kind, owner) = op.owner.parts();
    let from_webstore = matches!(principal, Principal::Key { .. });
    let sign_in = op.action == Action::SignIn;
    let valid = valid_ref(owner)
        && op.session.as_deref().is_none_or(valid_ref)
        && (kind == "customer" || !from_webstore)
        && if sign_in {
            // Only a kiosk signs a customer in, during a visit.
            op.sku.is_empty() && kind == "alias" && op.session.is_some()
        } else {
            valid_ref(&op.sku)
        };
    if !valid {
        return Ok((OpStatus::Rejected, Some("invalid")));
    }
    // A kiosk names a signed-in customer by the alias their token carried.
    let customer = match &op.owner {
        Owner::Alias(alias) => match customers::customer_of(tx, alias)? {
            Some(customer) => Some(customer),
            None => return Ok((OpStatus::Rejected, Some("unknown_customer"))),
        },
        Owner::Customer(customer) => Some(customer.clone()),
        Owner::Visit(_) => None,
    };
    if let Some(customer) = &customer
        && is_erased(tx, customer)?
    {
        return Ok((OpStatus::Rejected, Some("customer_erased")));
    }
    let (kind, owner) = match &customer {
        Some(customer) => ("customer", customer.as_str()),
        None => (kind, owner),
    };
    if let (true, Principal::Device { id, store_code }) = (sign_in, principal) {
        let visit = Visit {
            session: op.session.clone().unwrap_or_default(),
            customer: owner.to_owned(),
            store_code: store_code.clone(),
            device_id: *id,
            signed_in_at: Timestamp::from_millisecond((op.hlc >> 16) as i64).unwrap_or(now),
        };
        customers::record_visit(tx, &visit)?;
        return Ok((OpStatus::Applied, None));
    }
    if op.action == Action::Add {
        let known: bool = tx
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM variant WHERE sku = ?1)")?
            .query_row([&op.sku], |r| r.get(0))?;
        if !known {
            return Ok((OpStatus::Rejected, Some("unknown_sku")));
        }
    }
    let (channel, store, device) = match principal {
        Principal::Device { id, store_code } => ("kiosk", Some(store_code.as_str()), Some(*id)),
        Principal::Key { .. } => ("webstore", None, None),
    };
    let changed = tx
        .prepare_cached(
            "INSERT INTO wishlist (owner_kind, owner, sku, present, hlc, stream, seq, channel, store_code,
                 device_id, session, change_id, changed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
             ON CONFLICT (owner_kind, owner, sku) DO UPDATE SET
                 present = excluded.present, hlc = excluded.hlc, stream = excluded.stream,
                 seq = excluded.seq, channel = excluded.channel, store_code = excluded.store_code,
                 device_id = excluded.device_id, session = excluded.session,
                 change_id = excluded.change_id, changed_at = excluded.changed_at
             WHERE (excluded.hlc, excluded.stream, excluded.seq) > (wishlist.hlc, wishlist.stream, wishlist.seq)",
        )?
        .execute(params![
            kind,
            owner,
            op.sku,
            op.action == Action::Add,
            op.hlc,
            stream,
            op.seq,
            channel,
            store,
            device,
            op.session,
            *next_change,
            now.as_millisecond(),
        ])?;
    if changed > 0 {
        *next_change += 1;
    }
    Ok((OpStatus::Applied, None))
}

// ---- devices and keys ----------------------------------------------------------------

/// Creates a one-time enrollment code for a shop and returns it.
pub fn create_enroll_code(conn: &Connection, store_code: &str, now: Timestamp) -> rusqlite::Result<String> {
    let code = auth::new_enroll_code();
    conn.execute(
        "INSERT INTO enroll_code (code_hash, store_code, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
        params![
            auth::hash(&auth::normalise_enroll_code(&code)),
            store_code,
            now.as_second(),
            now.as_second() + auth::ENROLL_CODE_HOURS * 3600
        ],
    )?;
    Ok(code)
}

/// Exchanges an enrollment code for a device credential.
pub fn enroll(
    conn: &mut Connection,
    code: &str,
    name: Option<&str>,
    now: Timestamp,
) -> Result<Result<EnrollResponse, EnrollError>, rusqlite::Error> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let code_hash = auth::hash(&auth::normalise_enroll_code(code));
    let found: Option<(String, i64, Option<i64>)> = tx
        .query_row(
            "SELECT store_code, expires_at, used_at FROM enroll_code WHERE code_hash = ?1",
            [&code_hash],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let store_code = match found {
        None => return Ok(Err(EnrollError::Unknown)),
        Some((_, _, Some(_))) => return Ok(Err(EnrollError::Used)),
        Some((_, expires, None)) if expires <= now.as_second() => return Ok(Err(EnrollError::Expired)),
        Some((store, _, None)) => store,
    };
    let token = auth::new_token(auth::DEVICE_PREFIX);
    tx.execute(
        "UPDATE enroll_code SET used_at = ?1 WHERE code_hash = ?2",
        params![now.as_second(), code_hash],
    )?;
    tx.execute(
        "INSERT INTO device (store_code, name, token_hash, enrolled_at) VALUES (?1, ?2, ?3, ?4)",
        params![store_code, name, auth::hash(&token), now.as_second()],
    )?;
    let device_id = tx.last_insert_rowid();
    tx.commit()?;
    Ok(Ok(EnrollResponse {
        device_id,
        store_code,
        token,
    }))
}

/// Creates a web store API key with the given scopes and returns it.
pub fn create_key(conn: &Connection, name: &str, scopes: &[Scope], now: Timestamp) -> rusqlite::Result<String> {
    let key = auth::new_token(auth::KEY_PREFIX);
    let scopes: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    conn.execute(
        "INSERT INTO api_key (name, key_hash, scopes, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![name, auth::hash(&key), scopes.join(" "), now.as_second()],
    )?;
    Ok(key)
}

/// Who holds a bearer token, if anyone.
pub fn principal(conn: &Connection, token: &str) -> rusqlite::Result<Option<Principal>> {
    let hash = auth::hash(token);
    if token.starts_with(auth::DEVICE_PREFIX) {
        conn.prepare_cached("SELECT id, store_code FROM device WHERE token_hash = ?1 AND revoked_at IS NULL")?
            .query_row([hash], |r| {
                Ok(Principal::Device {
                    id: r.get(0)?,
                    store_code: r.get(1)?,
                })
            })
            .optional()
    } else {
        conn.prepare_cached("SELECT id, name, scopes FROM api_key WHERE key_hash = ?1 AND revoked_at IS NULL")?
            .query_row([hash], |r| {
                let scopes: String = r.get(2)?;
                Ok(Principal::Key {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    scopes: scopes.split_whitespace().filter_map(Scope::parse).collect(),
                })
            })
            .optional()
    }
}

// ---- the web store's view ------------------------------------------------------------

/// Erases a customer's wishlist lines and refuses their later ops. One transaction.
pub fn erase_customer(conn: &mut Connection, customer: &str, now: Timestamp) -> rusqlite::Result<u64> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let removed = tx.execute(
        "DELETE FROM wishlist WHERE owner_kind = 'customer' AND owner = ?1",
        [customer],
    )?;
    customers::forget(&tx, customer)?;
    tx.execute(
        "INSERT OR IGNORE INTO erased_customer (ref_hash, erased_at) VALUES (?1, ?2)",
        params![auth::hash(customer), now.as_second()],
    )?;
    tx.commit()?;
    Ok(removed as u64)
}

const LINE_COLUMNS: &str = "owner_kind, owner, sku, present, hlc, stream, seq, channel, store_code, device_id,
    session, changed_at, change_id";

fn line(r: &rusqlite::Row<'_>) -> rusqlite::Result<(WishlistLine, i64)> {
    let kind: String = r.get(0)?;
    let owner: String = r.get(1)?;
    let changed: i64 = r.get(11)?;
    Ok((
        WishlistLine {
            owner: Owner::from_parts(&kind, owner),
            sku: r.get(2)?,
            present: r.get(3)?,
            hlc: r.get(4)?,
            stream: r.get(5)?,
            seq: r.get(6)?,
            origin: Origin {
                channel: r.get(7)?,
                store_code: r.get(8)?,
                device_id: r.get(9)?,
                session: r.get(10)?,
            },
            changed_at: Timestamp::from_millisecond(changed)
                .unwrap_or(Timestamp::UNIX_EPOCH)
                .to_string(),
        },
        r.get(12)?,
    ))
}

/// A page of the wishlist changes feed after `after`: lines in change order, the id of
/// the last one, and whether more follow. With `snapshot`, removals are left out, and
/// the last page's position is the feed's end, so a client can go on with changes.
pub fn wishlist_page(
    conn: &Connection,
    after: i64,
    limit: usize,
    snapshot: bool,
) -> rusqlite::Result<(Vec<WishlistLine>, i64, bool)> {
    let filter = if snapshot { "AND present" } else { "" };
    let tx = conn.unchecked_transaction()?;
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT {LINE_COLUMNS} FROM wishlist WHERE change_id > ?1 {filter} ORDER BY change_id LIMIT ?2"
    ))?;
    let mut rows: Vec<(WishlistLine, i64)> = stmt
        .query_map(params![after, limit as i64 + 1], line)?
        .collect::<rusqlite::Result<_>>()?;
    let has_more = rows.len() > limit;
    rows.truncate(limit);
    let mut last = rows.last().map_or(after, |(_, id)| *id);
    if snapshot && !has_more {
        let end: i64 = tx.query_row("SELECT COALESCE(MAX(change_id), 0) FROM wishlist", [], |r| r.get(0))?;
        last = last.max(end);
    }
    drop(stmt);
    tx.finish()?;
    Ok((rows.into_iter().map(|(l, _)| l).collect(), last, has_more))
}

/// A customer's current wishlist (present lines), most recent first.
pub fn customer_wishlist(conn: &Connection, customer: &str) -> rusqlite::Result<Vec<WishlistLine>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {LINE_COLUMNS} FROM wishlist WHERE owner_kind = 'customer' AND owner = ?1 AND present
         ORDER BY hlc DESC"
    ))?;
    stmt.query_map([customer], |r| line(r).map(|(l, _)| l))?.collect()
}

/// Whether the catalog names this picture URL, now or before.
pub fn names_image(conn: &Connection, url: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM catalog_image WHERE url = ?1)")?
        .query_row([url], |r| r.get(0))
}

/// A page of catalog changes after log id `after`.
pub fn catalog_page(conn: &Connection, after: i64, limit: usize) -> rusqlite::Result<(Vec<CatalogChange>, i64, bool)> {
    let mut stmt =
        conn.prepare_cached("SELECT id, kind, scope, sku, body FROM catalog_log WHERE id > ?1 ORDER BY id LIMIT ?2")?;
    let mut rows = stmt.query(params![after, limit as i64 + 1])?;
    let mut changes = Vec::with_capacity(limit.min(10_000));
    let mut last = after;
    let mut has_more = false;
    while let Some(r) = rows.next()? {
        if changes.len() == limit {
            has_more = true;
            break;
        }
        last = r.get(0)?;
        let kind: String = r.get(1)?;
        let scope: String = r.get(2)?;
        let sku: String = r.get(3)?;
        let body: Option<String> = r.get(4)?;
        let bad = |e: serde_json::Error| {
            rusqlite::Error::FromSqlConversionFailure(4, rusqlite::types::Type::Text, Box::new(e))
        };
        changes.push(match (kind.as_str(), body) {
            ("variant", Some(body)) => CatalogChange::Variant {
                lang: scope,
                variant: serde_json::from_str(&body).map_err(bad)?,
            },
            ("variant", None) => CatalogChange::VariantRemoved { lang: scope, sku },
            (_, Some(body)) => CatalogChange::Stock {
                stock: serde_json::from_str(&body).map_err(bad)?,
            },
            (_, None) => CatalogChange::StockRemoved { store_code: scope, sku },
        });
    }
    Ok((changes, last, has_more))
}

// ---- cursors -------------------------------------------------------------------------

/// Which feed a cursor belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feed {
    Wishlist,
    Snapshot,
    Catalog,
    Visits,
}

impl Feed {
    fn tag(self) -> &'static str {
        match self {
            Feed::Wishlist => "w",
            Feed::Snapshot => "s",
            Feed::Catalog => "c",
            Feed::Visits => "v",
        }
    }
}

/// Cursors are opaque to clients: a tag and a position, base64url.
pub fn encode_cursor(feed: Feed, position: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}1.{position}", feed.tag()))
}

/// The position in a cursor; an empty cursor is the start. `None` if the cursor is not
/// one of `feed`'s.
pub fn decode_cursor(feed: Feed, cursor: Option<&str>) -> Option<i64> {
    let Some(cursor) = cursor.filter(|c| !c.is_empty()) else {
        return Some(0);
    };
    if cursor.len() > 64 {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let position = text.strip_prefix(feed.tag())?.strip_prefix("1.")?;
    position.parse().ok().filter(|p| *p >= 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_do_not_cross_feeds() {
        let c = encode_cursor(Feed::Wishlist, 42);
        assert_eq!(decode_cursor(Feed::Wishlist, Some(&c)), Some(42));
        assert_eq!(decode_cursor(Feed::Catalog, Some(&c)), None);
        assert_eq!(decode_cursor(Feed::Catalog, None), Some(0));
        assert_eq!(decode_cursor(Feed::Catalog, Some("!!")), None);
    }
}
