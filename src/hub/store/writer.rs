//! The writer thread: it owns the hub's only writing connection and runs the jobs sent
//! to it in order. Pushes that queue while it is busy are committed together (group
//! commit), each in its own savepoint, so a refused batch leaves no trace and one flush
//! covers them all. Replies go only after the commit: an acknowledged op is on disk.
//!
//! The next change id is kept in the database (`hub_counter`), written in the same
//! transaction as the lines that use it: ids only ever grow, even when an erasure
//! deletes the newest lines and the hub restarts.
//!
//! A job that panics is caught: the transaction it had open rolls back (a job that
//! writes without one keeps the statements that ran: such jobs are idempotent), its
//! caller gets no answer (so a 503), and the writer goes on with the next job.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;

use jiff::Timestamp;
use rusqlite::{Connection, params};
use tokio::sync::oneshot;

use super::ingest::{self, Counters};
use super::{Principal, PushError, Rules};
use crate::catalog::Catalog;
use crate::protocol::{PushRequest, PushResponse};

/// Most pushes committed in one transaction.
const GROUP_COMMIT: usize = 64;

/// The writer's connection and what it keeps in memory between jobs.
pub struct Writer {
    pub catalog: Catalog,
    counters: Counters,
    rules: Rules,
}

impl Writer {
    pub(super) fn new(catalog: Catalog, next_change: i64, rules: Rules) -> Writer {
        Writer {
            catalog,
            counters: Counters { next_change, hlc: 0 },
            rules,
        }
    }
}

/// The change id the next wishlist line gets: past every id ever given, as recorded,
/// and past every line held (a database from before the counter was kept).
pub(super) fn next_change_id(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT MAX((SELECT COALESCE(MAX(change_id), 0) + 1 FROM wishlist),
                    COALESCE((SELECT value FROM hub_counter WHERE name = 'next_change_id'), 1))",
        [],
        |r| r.get(0),
    )
}

fn save_next_change_id(conn: &Connection, next: i64) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO hub_counter (name, value) VALUES ('next_change_id', ?1)
         ON CONFLICT (name) DO UPDATE SET value = MAX(value, excluded.value)",
    )?
    .execute(params![next])?;
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
        if !writer.catalog.connection().is_autocommit() {
            let _ = writer.catalog.connection().execute_batch("ROLLBACK");
        }
        // What the counters said may have moved with the rolled-back work.
        if let Ok(next) = next_change_id(writer.catalog.connection()) {
            writer.counters.next_change = next;
        }
    }
}

/// Runs jobs until every sender is gone, signalling `committed` after each.
pub(super) fn run(writer: &mut Writer, queue: &mpsc::Receiver<Job>, committed: &tokio::sync::Notify) {
    while let Ok(job) = queue.recv() {
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

fn commit_pushes(writer: &mut Writer, group: Vec<PushJob>) {
    let before = writer.counters;
    let mut results = Vec::with_capacity(group.len());
    let outcome = catch_unwind(AssertUnwindSafe(|| -> rusqlite::Result<()> {
        let Writer {
            catalog,
            counters,
            rules,
        } = writer;
        let tx = catalog
            .connection()
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for job in &group {
            // A savepoint per push: a refused batch is rolled back alone, counters too.
            let saved = *counters;
            tx.execute_batch("SAVEPOINT push")?;
            let result = ingest::push(&tx, counters, rules, &job.principal, &job.request, job.now);
            match &result {
                Ok(_) => tx.execute_batch("RELEASE push")?,
                Err(_) => {
                    tx.execute_batch("ROLLBACK TO push; RELEASE push")?;
                    counters.next_change = saved.next_change;
                }
            }
            results.push(result);
        }
        if counters.next_change != before.next_change {
            save_next_change_id(&tx, counters.next_change)?;
        }
        tx.commit()
    }))
    .unwrap_or_else(|_| {
        tracing::error!("a push panicked; its group was rolled back and the writer goes on");
        if !writer.catalog.connection().is_autocommit() {
            let _ = writer.catalog.connection().execute_batch("ROLLBACK");
        }
        Err(rusqlite::Error::ToSqlConversionFailure(
            "a push panicked; the group was rolled back".into(),
        ))
    });
    if let Err(e) = outcome {
        tracing::error!(error = %e, "a group of pushes could not be committed");
        writer.counters.next_change = before.next_change;
        for job in group {
            let _ = job
                .reply
                .send(Err(PushError::Store(format!("the group commit failed: {e}"))));
        }
        return;
    }
    for (job, result) in group.into_iter().zip(results) {
        let _ = job.reply.send(result);
    }
}
