//! The writer thread: it owns the hub's only writing connection and runs the jobs sent
//! to it in order. Pushes that queue while it is busy are committed together (group
//! commit): a refused batch writes nothing, and one flush covers them all (a batch the
//! database fails sends the group round again, a savepoint per push). Replies go only
//! after the commit: an acknowledged op is on disk.
//!
//! The next change id is kept in the database (`hub_counter`), written in the same
//! transaction as the lines that use it: ids only ever grow, even when an erasure
//! deletes the newest lines and the hub restarts.
//!
//! On PostgreSQL other hubs write too: a group of pushes reads the SKUs it checks (the
//! catalog, no writer's), then takes the wishlist feed's lock (see
//! [`crate::db::FEED_LOCK_WISHLIST`]) and reads the next change id from the database, so
//! ids stay unique and commit in order across instances. A connection the server
//! dropped is opened again before the next job.
//!
//! A job that panics is caught: the transaction it had open rolls back (a job that
//! writes without one keeps the statements that ran: such jobs are idempotent), its
//! caller gets no answer (so a 503), and the writer goes on with the next job.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;

use jiff::Timestamp;
use tokio::sync::oneshot;

use super::ingest::{self, Counters};
use super::pending::Pending;
use super::{Principal, PushError, Rules};
use crate::db::{self, Conn, Dialect, Sql, params};
use crate::protocol::{PushRequest, PushResponse};

/// Most pushes committed in one transaction.
const GROUP_COMMIT: usize = 64;

/// The writer's connection and what it keeps in memory between jobs.
pub struct Writer {
    conn: Conn,
    /// How to connect again (PostgreSQL); `None` for SQLite's file.
    reconnect: Option<db::pg::Target>,
    counters: Counters,
    rules: Rules,
}

impl Writer {
    pub(super) fn new(conn: Conn, reconnect: Option<db::pg::Target>, next_change: i64, rules: Rules) -> Writer {
        Writer {
            conn,
            reconnect,
            counters: Counters { next_change, hlc: 0 },
            rules,
        }
    }

    /// The writing connection.
    pub fn db(&self) -> &dyn Sql {
        self.conn.sql()
    }

    /// Connects again when the server dropped the connection; on failure the next job
    /// fails at once (a 503) and the next one tries again.
    fn heal(&mut self) {
        let Some(config) = &self.reconnect else { return };
        if !self.conn.is_broken() {
            return;
        }
        match db::pg::Client::connect(config) {
            Ok(client) => {
                tracing::info!("the hub's database is back; writing again");
                self.conn = Conn::Postgres(Box::new(client));
            }
            Err(e) => tracing::warn!(error = %e, "the hub's database is still out of reach"),
        }
    }
}

/// The change id the next wishlist line gets: past every id ever given, as recorded,
/// and past every line held (a database from before the counter was kept).
pub(super) fn next_change_id(conn: &dyn Sql) -> db::Result<i64> {
    conn.one(
        conn.pick(
            "SELECT MAX((SELECT COALESCE(MAX(change_id), 0) + 1 FROM wishlist),
                        COALESCE((SELECT value FROM hub_counter WHERE name = 'next_change_id'), 1))",
            "SELECT GREATEST((SELECT COALESCE(MAX(change_id), 0) + 1 FROM wishlist),
                             COALESCE((SELECT value FROM hub_counter WHERE name = 'next_change_id'), 1))",
        ),
        params![],
    )
}

fn save_next_change_id(conn: &dyn Sql, next: i64) -> db::Result<()> {
    conn.execute(
        conn.pick(
            "INSERT INTO hub_counter (name, value) VALUES ('next_change_id', ?1)
             ON CONFLICT (name) DO UPDATE SET value = MAX(hub_counter.value, excluded.value)",
            "INSERT INTO hub_counter (name, value) VALUES ('next_change_id', ?1)
             ON CONFLICT (name) DO UPDATE SET value = GREATEST(hub_counter.value, excluded.value)",
        ),
        params![next],
    )?;
    Ok(())
}

pub(super) type WriteJob = Box<dyn FnOnce(&mut Writer) + Send>;

pub(super) struct PushJob {
    pub principal: Principal,
    pub request: PushRequest,
    pub now: Timestamp,
    pub reply: oneshot::Sender<Result<PushResponse, PushError>>,
}

pub(super) enum Job {
    Push(PushJob),
    Write(WriteJob),
}

/// Runs a write job; a panic in it is logged and the writer goes on. An open
/// transaction the job left is rolled back by its drop during the unwind.
fn guarded(writer: &mut Writer, f: WriteJob) {
    if catch_unwind(AssertUnwindSafe(|| f(writer))).is_err() {
        tracing::error!("a write job panicked; its changes were rolled back and the writer goes on");
        let _ = writer.db().batch("ROLLBACK");
        // What the counters said may have moved with the rolled-back work.
        if let Ok(next) = next_change_id(writer.db()) {
            writer.counters.next_change = next;
        }
    }
}

/// Runs jobs until every sender is gone, signalling `committed` after each.
pub(super) fn run(writer: &mut Writer, queue: &mpsc::Receiver<Job>, committed: &tokio::sync::Notify) {
    while let Ok(job) = queue.recv() {
        writer.heal();
        match job {
            Job::Write(f) => guarded(writer, f),
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
                    guarded(writer, f);
                }
            }
        }
        committed.notify_one();
    }
    tracing::info!("hub writer stopped");
}

/// Each push's outcome in a group that committed.
type Outcomes = Vec<Result<PushResponse, PushError>>;

/// Commits a group of pushes in one transaction. A refused push writes nothing, so the
/// group reads and writes together ([`Pending`]) without savepoints. A push the database
/// fails (a constraint, a value it refuses) fails the group, which then runs again one
/// push at a time, each in a savepoint with its own reads and writes, so that push alone
/// fails.
fn commit_pushes(writer: &mut Writer, group: Vec<PushJob>) {
    let before = writer.counters;
    let mut outcome = apply_group(writer, &group, false);
    // A database out of reach, or busy before the group began (its lock not granted),
    // would refuse every push alike. (A failure inside a push arrives as text and is
    // retried one push at a time.)
    let one_failed = outcome.as_ref().is_err_and(|e| !e.is_unavailable());
    if one_failed && group.len() > 1 && !writer.conn.is_broken() {
        writer.counters.next_change = before.next_change;
        outcome = apply_group(writer, &group, true);
    }
    match outcome {
        Ok(results) => {
            for (job, result) in group.into_iter().zip(results) {
                let _ = job.reply.send(result);
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "a group of pushes could not be committed");
            writer.counters.next_change = before.next_change;
            for job in group {
                let _ = job
                    .reply
                    .send(Err(PushError::Store(format!("the group commit failed: {e}"))));
            }
        }
    }
}

/// Applies and commits `group`, together or `one_by_one`.
fn apply_group(writer: &mut Writer, group: &[PushJob], one_by_one: bool) -> db::Result<Outcomes> {
    catch_unwind(AssertUnwindSafe(|| -> db::Result<Outcomes> {
        let Writer {
            conn, counters, rules, ..
        } = writer;
        let tx = conn.sql().begin()?;
        let requests: Vec<&PushRequest> = group.iter().map(|job| &job.request).collect();
        let prefetched = if one_by_one {
            None
        } else {
            Some(Pending::with_known_skus(&*tx, &requests)?)
        };
        if tx.dialect() == Dialect::Postgres {
            db::lock_feed(&*tx, db::FEED_LOCK_WISHLIST)?;
            counters.next_change = next_change_id(&*tx)?;
        }
        let first = counters.next_change;
        let results = match prefetched {
            Some(mut pending) => {
                pending.read_streams_and_lines(&*tx, &requests)?;
                push_together(&*tx, counters, rules, group, pending)?
            }
            None => group
                .iter()
                .map(|job| push_alone(&*tx, counters, rules, job))
                .collect::<db::Result<Outcomes>>()?,
        };
        let now = group.iter().map(|job| job.now).max().unwrap_or_else(Timestamp::now);
        ingest::announce(&*tx, first, counters.next_change, now)?;
        if counters.next_change != first {
            save_next_change_id(&*tx, counters.next_change)?;
        }
        tx.commit()?;
        Ok(results)
    }))
    .unwrap_or_else(|_| {
        tracing::error!("a push panicked; its group was rolled back and the writer goes on");
        let _ = writer.db().batch("ROLLBACK");
        Err(db::Error::value("a push panicked; the group was rolled back"))
    })
}

/// The group's pushes on one [`Pending`], read before: a refused push has written
/// nothing; one the database failed fails the group.
fn push_together(
    tx: &dyn Sql,
    counters: &mut Counters,
    rules: &Rules,
    group: &[PushJob],
    mut pending: Pending,
) -> db::Result<Outcomes> {
    let mut results = Vec::with_capacity(group.len());
    for job in group {
        let result = ingest::push(tx, &mut pending, counters, rules, &job.principal, &job.request, job.now);
        if let Err(PushError::Store(e)) = &result {
            return Err(db::Error::value(e));
        }
        results.push(result);
    }
    pending.flush(tx)?;
    Ok(results)
}

/// One push in its own savepoint, with its own reads and writes: whatever fails, the
/// push alone is taken back.
fn push_alone(
    tx: &dyn Sql,
    counters: &mut Counters,
    rules: &Rules,
    job: &PushJob,
) -> db::Result<Result<PushResponse, PushError>> {
    let saved = *counters;
    tx.batch("SAVEPOINT push")?;
    let result = Pending::prefetch(tx, &[&job.request])
        .map_err(|e| PushError::Store(e.to_string()))
        .and_then(|mut pending| {
            let response = ingest::push(tx, &mut pending, counters, rules, &job.principal, &job.request, job.now)?;
            pending.flush(tx).map_err(|e| PushError::Store(e.to_string()))?;
            Ok(response)
        });
    match &result {
        Ok(_) => tx.batch("RELEASE push")?,
        Err(_) => {
            tx.batch("ROLLBACK TO push; RELEASE push")?;
            counters.next_change = saved.next_change;
        }
    }
    Ok(result)
}
