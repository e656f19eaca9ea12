//! The writer thread: it owns the hub's only writing connection and runs the jobs sent
//! to it in order. Pushes that queue while it is busy are committed together (group
//! commit), each in its own savepoint, so a refused batch leaves no trace and one flush
//! covers them all. Replies go only after the commit: an acknowledged op is on disk.

use std::sync::mpsc;

use jiff::Timestamp;
use tokio::sync::oneshot;

use super::ingest::{self, Counters};
use super::{Principal, PushError};
use crate::catalog::Catalog;
use crate::protocol::{PushRequest, PushResponse};

/// Most pushes committed in one transaction.
const GROUP_COMMIT: usize = 64;

/// The writer's connection and what it keeps in memory between jobs.
pub struct Writer {
    pub catalog: Catalog,
    counters: Counters,
}

impl Writer {
    pub(super) fn new(catalog: Catalog, next_change: i64) -> Writer {
        Writer {
            catalog,
            counters: Counters { next_change, hlc: 0 },
        }
    }
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

/// Runs jobs until every sender is gone.
pub(super) fn run(writer: &mut Writer, queue: &mpsc::Receiver<Job>) {
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
    let before = writer.counters;
    let mut results = Vec::with_capacity(group.len());
    let outcome = (|| -> rusqlite::Result<()> {
        let Writer { catalog, counters } = writer;
        let tx = catalog
            .connection()
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for job in &group {
            // A savepoint per push: a refused batch is rolled back alone, counters too.
            let saved = *counters;
            tx.execute_batch("SAVEPOINT push")?;
            let result = ingest::push(&tx, counters, &job.principal, &job.request, job.now);
            match &result {
                Ok(_) => tx.execute_batch("RELEASE push")?,
                Err(_) => {
                    tx.execute_batch("ROLLBACK TO push; RELEASE push")?;
                    counters.next_change = saved.next_change;
                }
            }
            results.push(result);
        }
        tx.commit()
    })();
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
