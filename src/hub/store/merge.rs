//! What the hub decides about a pushed op, as plain data in and a decision out: no
//! SQLite, no clock of its own. `ingest` looks up the facts, asks, and applies.
//!
//! - [`sequence`]: where an op's sequence number stands on its stream;
//! - [`validate`]: whether an op is well-formed for its sender;
//! - [`clock`]: whether an op's clock is within the skew the hub allows;
//! - [`decide`]: what an op does once the store knows who it names;
//! - [`wins`]: last writer wins, by `(hlc, stream, seq)`.
//!
//! The merge is a join on a total order, so replicas that see the same ops in any order,
//! any number of times, end in the same state (the property test below).

use jiff::{SignedDuration, Timestamp};

use crate::protocol::{Action, Op, Owner, Visit, valid_ref};

/// Who sent an op.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender<'a> {
    Kiosk { device_id: i64, store_code: &'a str },
    WebStore,
}

/// Where an op's sequence number stands against the stream's acknowledged one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// Sequence numbers start at 1.
    Zero,
    /// Already acknowledged: a resend, to check against what was stored.
    Acknowledged,
    /// The next one: to apply.
    Next,
    /// Ops before it are missing.
    Gap { expected: u64 },
}

pub fn sequence(acked: u64, seq: u64) -> Position {
    match seq {
        0 => Position::Zero,
        s if s <= acked => Position::Acknowledged,
        s if s == acked + 1 => Position::Next,
        _ => Position::Gap { expected: acked + 1 },
    }
}

/// A resend is a duplicate when its content is what was stored under its number (or
/// nothing was, as for ops older than the hub's memory); otherwise the stream diverged.
pub fn is_duplicate(stored_hash: Option<i64>, hash: i64) -> bool {
    stored_hash.is_none_or(|stored| stored == hash)
}

/// Why an op was refused on its own (the batch goes on).
pub type Reason = &'static str;

/// Whether `op` is well-formed for `sender`: references in bounds, the web store writing
/// only customers' lines and never signing in, a kiosk naming a customer only by the
/// alias of a sign-in during a visit, and a sign-in naming an alias, its visit and the
/// token that proves it.
pub fn validate(op: &Op, sender: Sender<'_>) -> Result<(), Reason> {
    let (kind, owner) = op.owner.parts();
    let kiosk = matches!(sender, Sender::Kiosk { .. });
    let well_formed = valid_ref(owner)
        && op.session.as_deref().is_none_or(valid_ref)
        && op.token.as_deref().is_none_or(|t| t.len() <= crate::token::DIGITS)
        && (kind == "customer" || kiosk)
        && if op.action == Action::SignIn {
            kiosk && op.sku.is_empty() && kind == "alias" && op.session.is_some()
        } else {
            valid_ref(&op.sku) && op.token.is_none()
        };
    if !well_formed {
        return Err("invalid");
    }
    if op.action == Action::SignIn && op.token.is_none() {
        return Err("token_required");
    }
    // A kiosk writes a customer's list only as the visit they signed in to.
    if kiosk && (kind == "customer" || (kind == "alias" && op.session.is_none())) {
        return Err("not_signed_in");
    }
    Ok(())
}

/// Whether an op's clock is believable: at most `max_skew` ahead of the hub's `now`.
/// A clock further ahead would win every later edit of its line and drag the hub's own
/// clock (which every kiosk observes) out of reach; the op is refused instead, and the
/// kiosk that sent it has a clock to fix.
pub fn clock(hlc: u64, now: Timestamp, max_skew: SignedDuration) -> Result<(), Reason> {
    if hlc <= crate::hlc::from_wall(now + max_skew) | crate::hlc::COUNTER_MASK {
        Ok(())
    } else {
        Err("clock_ahead")
    }
}

/// What the store found out about an op before deciding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// The customer the op names: its reference, or the one its alias stands for. `None`
    /// for an anonymous visit's line, or an alias the hub does not know.
    pub customer: Option<String>,
    /// The web store erased that customer (or the customer the alias stood for).
    pub erased: bool,
    /// The catalog has the op's SKU (asked only for additions).
    pub sku_known: bool,
    /// For a kiosk's op naming an alias: whether the kiosk holds a grant for that
    /// customer in the op's visit. For a sign-in: whether its token proves it. `Ok` for
    /// every other op; the reason the sender is told otherwise.
    pub proof: Result<(), Reason>,
}

/// Who a line belongs to, as the hub files it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LineKey {
    pub owner_kind: String,
    pub owner: String,
    pub sku: String,
}

/// A wishlist line as an op would write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub key: LineKey,
    pub present: bool,
    pub hlc: u64,
    pub seq: u64,
}

/// What an op does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Refused, with the reason the sender is told; recorded, and the stream goes on.
    Reject(Reason),
    /// A customer signed in to a kiosk's visit: the web store hears of it.
    Visit(Visit),
    /// Write this line if it wins over the one the hub has ([`wins`]).
    Upsert(Line),
}

/// What a well-formed `op` does, given the facts about it. `now` stands in for a
/// sign-in's time when its clock says nothing usable.
pub fn decide(op: &Op, sender: Sender<'_>, facts: &Facts, now: Timestamp) -> Decision {
    if facts.erased {
        return Decision::Reject("customer_erased");
    }
    if matches!(op.owner, Owner::Alias(_)) && facts.customer.is_none() {
        return Decision::Reject("unknown_customer");
    }
    if let Err(reason) = facts.proof {
        return Decision::Reject(reason);
    }
    let (kind, owner) = match &facts.customer {
        Some(customer) => ("customer", customer.as_str()),
        None => op.owner.parts(),
    };
    if op.action == Action::SignIn {
        let Sender::Kiosk { device_id, store_code } = sender else {
            return Decision::Reject("invalid");
        };
        return Decision::Visit(Visit {
            session: op.session.clone().unwrap_or_default(),
            customer: owner.to_owned(),
            store_code: store_code.to_owned(),
            device_id,
            signed_in_at: Timestamp::from_millisecond((op.hlc >> 16) as i64).unwrap_or(now),
        });
    }
    if op.action == Action::Add && !facts.sku_known {
        return Decision::Reject("unknown_sku");
    }
    Decision::Upsert(Line {
        key: LineKey {
            owner_kind: kind.to_owned(),
            owner: owner.to_owned(),
            sku: op.sku.clone(),
        },
        present: op.action == Action::Add,
        hlc: op.hlc,
        seq: op.seq,
    })
}

/// Last writer wins: `incoming` replaces `current` when its `(hlc, stream, seq)` is
/// greater. Equal is not greater, so a resend changes nothing.
pub fn wins(incoming: (u64, &str, u64), current: Option<(u64, &str, u64)>) -> bool {
    current.is_none_or(|current| incoming > current)
}

/// Whether `incoming` is the edit the hub's line already holds, sent again (a kiosk that
/// moved to a new stream resends its lines): same clock, same presence. Writing it
/// would change nothing a reader sees but hand the web store the line once more.
pub fn is_resend(incoming: (u64, bool), current: Option<(u64, bool)>) -> bool {
    current == Some(incoming)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    fn op(owner: Owner, sku: &str, action: Action, hlc: u64, seq: u64) -> Op {
        Op {
            seq,
            owner,
            sku: sku.to_owned(),
            action,
            hlc,
            session: None,
            token: None,
        }
    }

    const KIOSK: Sender<'static> = Sender::Kiosk {
        device_id: 7,
        store_code: "PARIS",
    };

    #[test]
    fn a_clock_ahead_of_the_hub_by_more_than_the_skew_is_refused() {
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        let skew = SignedDuration::from_mins(5);
        let at = |ahead: SignedDuration| crate::hlc::from_wall(now + ahead);
        assert_eq!(clock(at(SignedDuration::ZERO), now, skew), Ok(()));
        assert_eq!(clock(at(SignedDuration::from_mins(5)) + 9, now, skew), Ok(()));
        assert_eq!(clock(at(-SignedDuration::from_hours(24 * 365)), now, skew), Ok(()));
        assert_eq!(clock(at(SignedDuration::from_secs(301)), now, skew), Err("clock_ahead"));
        assert_eq!(clock(i64::MAX as u64, now, skew), Err("clock_ahead"));
        assert_eq!(clock(u64::MAX, now, skew), Err("clock_ahead"));
    }

    #[test]
    fn sequence_numbers_are_placed_against_the_acknowledged_one() {
        assert_eq!(sequence(0, 0), Position::Zero);
        assert_eq!(sequence(3, 2), Position::Acknowledged);
        assert_eq!(sequence(3, 3), Position::Acknowledged);
        assert_eq!(sequence(3, 4), Position::Next);
        assert_eq!(sequence(3, 6), Position::Gap { expected: 4 });
        assert!(is_duplicate(Some(5), 5));
        assert!(is_duplicate(None, 5));
        assert!(!is_duplicate(Some(5), 6));
    }

    #[test]
    fn the_web_store_writes_only_customers_lines_and_never_signs_in() {
        let visit = op(Owner::Visit("v1".into()), "SKU", Action::Add, 1, 1);
        assert_eq!(validate(&visit, KIOSK), Ok(()));
        assert_eq!(validate(&visit, Sender::WebStore), Err("invalid"));
        let mut sign_in = op(Owner::Alias("a1".into()), "", Action::SignIn, 1, 1);
        assert_eq!(validate(&sign_in, KIOSK), Err("invalid"), "a sign-in needs its visit");
        sign_in.session = Some("v1".into());
        assert_eq!(validate(&sign_in, KIOSK), Err("token_required"), "and its proof");
        sign_in.token = Some("01".repeat(101));
        assert_eq!(validate(&sign_in, KIOSK), Ok(()));
        assert_eq!(validate(&sign_in, Sender::WebStore), Err("invalid"));
        sign_in.token = Some("0".repeat(203));
        assert_eq!(validate(&sign_in, KIOSK), Err("invalid"));
        let long = op(Owner::Customer("c".repeat(129)), "SKU", Action::Add, 1, 1);
        assert_eq!(validate(&long, Sender::WebStore), Err("invalid"));
    }

    #[test]
    fn a_kiosk_names_a_customer_only_by_a_visits_sign_in() {
        let direct = op(Owner::Customer("c-1".into()), "SKU", Action::Add, 1, 1);
        assert_eq!(validate(&direct, Sender::WebStore), Ok(()));
        assert_eq!(validate(&direct, KIOSK), Err("not_signed_in"));
        let mut alias = op(Owner::Alias("a1".into()), "SKU", Action::Add, 1, 1);
        assert_eq!(validate(&alias, KIOSK), Err("not_signed_in"), "no visit");
        alias.session = Some("v1".into());
        assert_eq!(validate(&alias, KIOSK), Ok(()));
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        let no_grant = Facts {
            customer: Some("c-1".into()),
            erased: false,
            sku_known: true,
            proof: Err("not_signed_in"),
        };
        assert_eq!(decide(&alias, KIOSK, &no_grant, now), Decision::Reject("not_signed_in"));
        let mut tokened = alias.clone();
        tokened.token = Some("1".into());
        assert_eq!(
            validate(&tokened, KIOSK),
            Err("invalid"),
            "a token rides only on a sign-in"
        );
    }

    #[test]
    fn an_op_is_refused_for_an_unknown_alias_an_erased_customer_or_an_unknown_sku() {
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        let known = Facts {
            customer: Some("c-1".into()),
            erased: false,
            sku_known: true,
            proof: Ok(()),
        };
        let add = op(Owner::Alias("a1".into()), "SKU", Action::Add, 1, 1);
        let unknown = Facts {
            customer: None,
            ..known.clone()
        };
        assert_eq!(decide(&add, KIOSK, &unknown, now), Decision::Reject("unknown_customer"));
        let erased = Facts {
            erased: true,
            ..known.clone()
        };
        assert_eq!(decide(&add, KIOSK, &erased, now), Decision::Reject("customer_erased"));
        let no_sku = Facts {
            sku_known: false,
            ..known.clone()
        };
        assert_eq!(decide(&add, KIOSK, &no_sku, now), Decision::Reject("unknown_sku"));
        // A removal of a SKU the catalog dropped still goes through.
        let remove = op(Owner::Alias("a1".into()), "SKU", Action::Remove, 1, 1);
        assert!(matches!(decide(&remove, KIOSK, &no_sku, now), Decision::Upsert(l) if !l.present));
        // An alias's line is filed under the customer it stands for.
        let Decision::Upsert(line) = decide(&add, KIOSK, &known, now) else {
            panic!("an upsert")
        };
        assert_eq!(
            (line.key.owner_kind.as_str(), line.key.owner.as_str()),
            ("customer", "c-1")
        );
    }

    #[test]
    fn a_sign_in_is_a_visit_at_its_clock_time() {
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        let at = Timestamp::from_second(1_700_000_000).unwrap();
        let mut sign_in = op(
            Owner::Alias("a1".into()),
            "",
            Action::SignIn,
            crate::hlc::from_wall(at),
            3,
        );
        sign_in.session = Some("v9".into());
        let facts = Facts {
            customer: Some("c-1".into()),
            erased: false,
            sku_known: false,
            proof: Ok(()),
        };
        let Decision::Visit(visit) = decide(&sign_in, KIOSK, &facts, now) else {
            panic!("a visit")
        };
        assert_eq!(
            (
                visit.customer.as_str(),
                visit.session.as_str(),
                visit.store_code.as_str()
            ),
            ("c-1", "v9", "PARIS")
        );
        assert_eq!((visit.device_id, visit.signed_in_at), (7, at));
    }

    #[test]
    fn an_edit_sent_again_is_recognised_by_its_clock_and_presence() {
        assert!(is_resend((5, true), Some((5, true))));
        assert!(!is_resend((5, false), Some((5, true))));
        assert!(!is_resend((6, true), Some((5, true))));
        assert!(!is_resend((5, true), None));
    }

    #[test]
    fn the_greatest_version_wins_and_equal_does_not() {
        assert!(wins((2, "a", 1), None));
        assert!(wins((2, "a", 1), Some((1, "z", 9))));
        assert!(wins((2, "b", 1), Some((2, "a", 9))));
        assert!(wins((2, "a", 2), Some((2, "a", 1))));
        assert!(!wins((2, "a", 1), Some((2, "a", 1))));
        assert!(!wins((1, "z", 9), Some((2, "a", 1))));
    }

    /// One replica's wishlist: (owner, SKU) to its winning (version, present).
    type Replica = BTreeMap<(String, String), ((u64, String, u64), bool)>;

    fn apply(
        replica: &mut Replica,
        (owner, sku, present, hlc, stream, seq): &(String, String, bool, u64, String, u64),
    ) {
        let key = (owner.clone(), sku.clone());
        let current = replica.get(&key).map(|((h, s, q), _)| (*h, s.as_str(), *q));
        if wins((*hlc, stream, *seq), current) {
            replica.insert(key, ((*hlc, stream.clone(), *seq), *present));
        }
    }

    fn edits() -> impl Strategy<Value = Vec<(String, String, bool, u64, String, u64)>> {
        // Few owners, SKUs, clocks and streams, so that edits collide often. An op is
        // named by its (stream, seq): two ops never share one (the hub refuses a
        // different content under a known seq before it merges).
        let edit = (0..3u8, 0..3u8, any::<bool>(), 0..6u64, 0..3u8);
        prop::collection::vec(edit, 0..40).prop_map(|edits| {
            edits
                .into_iter()
                .enumerate()
                .map(|(i, (o, k, p, h, s))| (format!("c{o}"), format!("SKU{k}"), p, h, format!("s{s}"), i as u64 + 1))
                .collect()
        })
    }

    proptest! {
        /// Any order, any repeats: the same state.
        #[test]
        fn replicas_converge_whatever_the_order_and_the_repeats(
            edits in edits(),
            order in any::<prop::sample::Index>(),
            repeats in prop::collection::vec(any::<prop::sample::Index>(), 0..10),
        ) {
            let mut one = Replica::new();
            for edit in &edits {
                apply(&mut one, edit);
            }
            let mut shuffled = edits.clone();
            if !shuffled.is_empty() {
                let pivot = order.index(shuffled.len());
                shuffled.rotate_left(pivot);
                shuffled.reverse();
                for pick in &repeats {
                    shuffled.push(edits[pick.index(edits.len())].clone());
                }
            }
            let mut other = Replica::new();
            for edit in &shuffled {
                apply(&mut other, edit);
            }
            prop_assert_eq!(one, other);
        }
    }

    /// The property can fail: a merge that lets the last arrival win does not converge.
    #[test]
    fn last_arrival_wins_would_not_converge() {
        let edits = [
            ("c".to_owned(), "SKU".to_owned(), true, 2, "a".to_owned(), 1),
            ("c".to_owned(), "SKU".to_owned(), false, 1, "b".to_owned(), 1),
        ];
        let last_arrival = |order: &[usize]| {
            let mut replica = Replica::new();
            for &i in order {
                let (o, k, p, h, s, q) = &edits[i];
                replica.insert((o.clone(), k.clone()), ((*h, s.clone(), *q), *p));
            }
            replica
        };
        assert_ne!(last_arrival(&[0, 1]), last_arrival(&[1, 0]));
        let merged = |order: &[usize]| {
            let mut replica = Replica::new();
            for &i in order {
                apply(&mut replica, &edits[i]);
            }
            replica
        };
        assert_eq!(merged(&[0, 1]), merged(&[1, 0]));
    }
}
