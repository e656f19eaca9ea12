//! Applying a pushed batch inside the writer's transaction: the stream's ownership and
//! sequence, each op's facts looked up, the decision asked of `merge`, and the stream,
//! lines and op records handed to `pending`, which writes them when the group is done. Every
//! decision is `merge`'s; this file only reads and writes.

use crate::db::{self, Sql};
use jiff::Timestamp;

use super::merge::{self, Decision, Facts, Line, Position, Sender};
use super::pending::{Current, NewLine, OpRecord, Pending, Stream};
use super::{Principal, PushError, Rules};
use crate::hlc;
use crate::hub::{customers, grants, webhooks};
use crate::protocol::webhooks::{VISIT_SIGNED_IN, VisitSignedIn, WISHLIST_CHANGED, WishlistChanged};
use crate::protocol::{Action, Op, OpResult, OpStatus, Owner, PushRequest, PushResponse, valid_ref};

/// What the writer keeps between batches: the next change id and the hub's clock.
#[derive(Debug, Clone, Copy)]
pub struct Counters {
    pub next_change: i64,
    pub hlc: u64,
}

/// The content hash a resend is compared with.
fn op_hash(op: &Op) -> i64 {
    let bytes = serde_json::to_vec(op).expect("ops serialise");
    xxhash_rust::xxh3::xxh3_64(&bytes) as i64
}

fn sender(principal: &Principal) -> Sender<'_> {
    match principal {
        Principal::Device { id, store_code } => Sender::Kiosk {
            device_id: *id,
            store_code,
        },
        Principal::Key { .. } => Sender::WebStore,
    }
}

/// Applies one batch; its stream, wishlist lines and op records go to `pending`, which
/// the caller writes when the group is done. Every refusal of the batch (its stream, its
/// sequence) is found before anything is written, so a refused batch leaves nothing
/// behind but what `pending` read. `Err(PushError::Store)` may leave writes: the caller
/// rolls the batch back (its savepoint, or the whole group) with `counters` and `pending`.
pub fn push(
    tx: &dyn Sql,
    pending: &mut Pending,
    counters: &mut Counters,
    rules: &Rules,
    principal: &Principal,
    request: &PushRequest,
    now: Timestamp,
) -> Result<PushResponse, PushError> {
    let sql = |e: db::Error| PushError::Store(e.to_string());
    if !valid_ref(&request.stream) {
        return Err(PushError::Invalid(
            "stream must be 1 to 128 printable characters".to_owned(),
        ));
    }
    let (device_id, key_id) = match principal {
        Principal::Device { id, .. } => (Some(*id), None),
        Principal::Key { id, .. } => (None, Some(*id)),
    };
    let stored = pending.stream(tx, &request.stream).map_err(sql)?;
    let start = match stored {
        None => 0,
        Some(s) if (s.device_id, s.key_id) == (device_id, key_id) => s.acked,
        Some(_) => return Err(PushError::StreamTaken),
    };
    let hashes = check_sequence(tx, pending, &request.stream, start, &request.ops)?;
    counters.hlc = hlc::tick(counters.hlc, now);
    let mut acked = start;
    let mut results = Vec::with_capacity(request.ops.len());
    for (op, hash) in request.ops.iter().zip(hashes) {
        if merge::sequence(acked, op.seq) != Position::Next {
            results.push(OpResult {
                seq: op.seq,
                status: OpStatus::Duplicate,
                reason: None,
            });
            continue;
        }
        let reason = apply_op(tx, pending, counters, rules, principal, &request.stream, op, now).map_err(sql)?;
        let status = if reason.is_none() {
            OpStatus::Applied
        } else {
            OpStatus::Rejected
        };
        let recorded = if reason.is_none() { "applied" } else { "rejected" };
        pending.record_op(OpRecord {
            stream: request.stream.clone(),
            seq: op.seq,
            hash,
            status: recorded,
            reason,
        });
        if reason.is_none() {
            counters.hlc = hlc::observe(counters.hlc, op.hlc);
        }
        acked = op.seq;
        results.push(OpResult {
            seq: op.seq,
            status,
            reason: reason.map(str::to_owned),
        });
    }
    if stored.is_none() || acked != start {
        let stream = Stream {
            device_id,
            key_id,
            acked,
        };
        pending.write_stream(&request.stream, stream, now.as_second());
    }
    Ok(PushResponse {
        acked_seq: acked,
        results,
        hub_hlc: counters.hlc,
    })
}

/// Walks the batch's sequence numbers from `acked`, as [`push`] will apply them: each
/// op's content hash, or the refusal of the whole batch (a zero, a gap, a resent op
/// whose content changed).
fn check_sequence(
    tx: &dyn Sql,
    pending: &Pending,
    stream: &str,
    mut acked: u64,
    ops: &[Op],
) -> Result<Vec<i64>, PushError> {
    let mut hashes = Vec::with_capacity(ops.len());
    // The batch's own new ops, which `pending` records only once they are applied: a
    // batch may carry an op twice.
    let mut new: std::collections::HashMap<u64, i64> = std::collections::HashMap::new();
    for op in ops {
        let hash = op_hash(op);
        match merge::sequence(acked, op.seq) {
            Position::Zero => return Err(PushError::Invalid("sequence numbers start at 1".to_owned())),
            Position::Gap { expected } => return Err(PushError::Gap { expected }),
            Position::Acknowledged => {
                let stored = match new.get(&op.seq) {
                    Some(&hash) => Some(hash),
                    None => pending
                        .op_hash(tx, stream, op.seq)
                        .map_err(|e| PushError::Store(e.to_string()))?,
                };
                if !merge::is_duplicate(stored, hash) {
                    return Err(PushError::Diverged { seq: op.seq });
                }
            }
            Position::Next => {
                acked = op.seq;
                new.insert(op.seq, hash);
            }
        }
        hashes.push(hash);
    }
    Ok(hashes)
}

/// Tells the web store's endpoints that a group committed `first..next` change ids:
/// one `wishlist.changed` per group, however many pushes it held.
pub fn announce(tx: &dyn Sql, first: i64, next: i64, now: Timestamp) -> db::Result<()> {
    if next <= first {
        return Ok(());
    }
    let changed = WishlistChanged {
        from_cursor: super::encode_cursor(super::Feed::Wishlist, first - 1),
        changes: (next - first) as u64,
    };
    webhooks::enqueue(tx, WISHLIST_CHANGED, &changed, now).map(drop)
}

/// Looks up what `merge::decide` needs, applies its decision, and returns the reason
/// when the op was refused.
#[allow(clippy::too_many_arguments)]
fn apply_op(
    tx: &dyn Sql,
    pending: &mut Pending,
    counters: &mut Counters,
    rules: &Rules,
    principal: &Principal,
    stream: &str,
    op: &Op,
    now: Timestamp,
) -> db::Result<Option<merge::Reason>> {
    let sender = sender(principal);
    if let Err(reason) = merge::validate(op, sender) {
        return Ok(Some(reason));
    }
    if let Err(reason) = merge::clock(op.hlc, now, rules.max_skew) {
        let ahead = hlc::wall(op.hlc.min(hlc::MAX)).duration_since(now);
        tracing::warn!(
            sender = %principal.name(),
            stream,
            ahead_secs = ahead.as_secs(),
            "an op's clock is ahead of the hub's beyond the allowed skew: refused; the sender's clock needs fixing"
        );
        return Ok(Some(reason));
    }
    // A kiosk names a signed-in customer by the alias their token carried.
    let (customer, erased) = match &op.owner {
        Owner::Alias(alias) => match customers::customer_of(tx, alias)? {
            Some(customer) => {
                let erased = super::is_erased(tx, &customer)?;
                (Some(customer), erased)
            }
            None => (None, grants::alias_erased(tx, alias)?),
        },
        Owner::Customer(customer) => (Some(customer.clone()), super::is_erased(tx, customer)?),
        Owner::Visit(_) => (None, false),
    };
    let sku_known = op.action == Action::Add && pending.known_sku(tx, &op.sku)?;
    let (proof, grant) = match (principal, &op.owner, &customer) {
        (Principal::Device { id, .. }, Owner::Alias(alias), Some(customer)) => {
            let session = op.session.as_deref().unwrap_or_default();
            if op.action == Action::SignIn {
                let read_at = hlc::wall(op.hlc);
                match grants::check_sign_in(tx, op.token.as_deref(), alias, session, read_at, rules, now)? {
                    Ok(proof) => (Ok(()), Some(proof)),
                    Err(reason) => (Err(reason), None),
                }
            } else if grants::granted(tx, *id, session, customer, now)? {
                (Ok(()), None)
            } else {
                (Err("not_signed_in"), None)
            }
        }
        _ => (Ok(()), None),
    };
    let facts = Facts {
        customer,
        erased,
        sku_known,
        proof,
    };
    match merge::decide(op, sender, &facts, now) {
        Decision::Reject(reason) => Ok(Some(reason)),
        Decision::Visit(visit) => {
            match grant {
                Some(proof) => grants::record(tx, &visit, &proof)?,
                None => return Ok(Some("token_required")),
            }
            let signed_in = VisitSignedIn {
                visit: visit.session.clone(),
                customer: visit.customer.clone(),
                store_code: visit.store_code.clone(),
                device_id: visit.device_id,
            };
            webhooks::enqueue(tx, VISIT_SIGNED_IN, &signed_in, now)?;
            crate::hub::measure::events::sign_in_accepted(tx, &visit.session, visit.device_id)?;
            Ok(None)
        }
        Decision::Upsert(line) => {
            upsert(
                tx,
                pending,
                counters,
                principal,
                stream,
                &line,
                op.session.as_deref(),
                now,
            )?;
            Ok(None)
        }
    }
}

/// Hands `line` to `pending` if it wins over the hub's, with a new change id.
#[allow(clippy::too_many_arguments)]
fn upsert(
    tx: &dyn Sql,
    pending: &mut Pending,
    counters: &mut Counters,
    principal: &Principal,
    stream: &str,
    line: &Line,
    session: Option<&str>,
    now: Timestamp,
) -> db::Result<()> {
    let current = pending.line(tx, &line.key)?;
    if merge::is_resend((line.hlc, line.present), current.as_ref().map(|c| (c.hlc, c.present))) {
        return Ok(());
    }
    let compared = current.as_ref().map(|c| (c.hlc, c.stream.as_str(), c.seq));
    if !merge::wins((line.hlc, stream, line.seq), compared) {
        return Ok(());
    }
    let (channel, store_code, device_id) = match principal {
        Principal::Device { id, store_code } => ("kiosk", Some(store_code.clone()), Some(*id)),
        Principal::Key { .. } => ("webstore", None, None),
    };
    pending.write_line(NewLine {
        key: line.key.clone(),
        current: Current {
            hlc: line.hlc,
            stream: stream.to_owned(),
            seq: line.seq,
            present: line.present,
        },
        channel,
        store_code,
        device_id,
        session: session.map(str::to_owned),
        change_id: counters.next_change,
        changed_at: now.as_millisecond(),
    });
    counters.next_change += 1;
    Ok(())
}
