//! The sender's decisions, without I/O: given the persisted [`SenderState`], the clock
//! and what the hub answered, say what to do next and what to record.
//!
//! The driver reads the outbox, asks [`next`], sends, and feeds the answer to
//! [`on_outcome`]; the [`Effects`] it gets back are applied to the outbox in one
//! transaction together with the new state. Time and randomness are inputs, so every
//! path here is tested without a network or a clock.

use jiff::{SignedDuration, Timestamp};

use crate::protocol::{OpStatus, PushResponse};

/// How hard the sender pushes and how long it waits.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// The first retry waits up to this long (full jitter: anywhere from zero).
    pub base: SignedDuration,
    /// No retry waits longer than this.
    pub cap: SignedDuration,
    /// A hub's `Retry-After` is honoured up to this long.
    pub retry_after_cap: SignedDuration,
    /// Most ops in one push.
    pub batch: usize,
    /// A push that has not been answered after this long has failed.
    pub timeout: SignedDuration,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            base: SignedDuration::from_secs(1),
            cap: SignedDuration::from_mins(5),
            retry_after_cap: SignedDuration::from_mins(10),
            batch: 200,
            timeout: SignedDuration::from_secs(30),
        }
    }
}

/// The sender's memory, persisted in the kiosk database after every step.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SenderState {
    /// Failed attempts in a row (0 after a success).
    pub attempts: u32,
    /// Do not send before this instant.
    pub retry_at: Option<Timestamp>,
    pub last_push: Option<Timestamp>,
    /// Why the last attempt failed, for `vitrine status` and the staff screen.
    pub last_error: Option<String>,
}

/// What the sender should do now.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// Send up to `max_ops` pending ops, oldest first.
    Send { max_ops: usize },
    /// Backing off: nothing before this instant.
    WaitUntil(Timestamp),
    /// Nothing to send.
    Idle,
}

/// What came back from one push.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// 200: the hub stored the batch (or already had it).
    Accepted(PushResponse),
    /// 409 `seq_gap`: the hub is missing ops before the batch (say, it was restored from
    /// a backup). It expects `expected`.
    Gap { expected: u64 },
    /// 409 `seq_diverged`: the hub holds different content for `seq` on this stream
    /// (say, this database was copied to a second tablet, or restored from a backup).
    Diverged { seq: u64 },
    /// 429 or 503, with the hub's `Retry-After` if it gave one.
    Busy { retry_after: Option<SignedDuration> },
    /// Anything else: no connection, a timeout, a reset, a 5xx, a refused credential.
    Failed { reason: String },
}

/// What to record after an outcome, besides the new [`SenderState`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Effects {
    /// Pending ops up to this sequence number are done.
    pub acked_through: Option<u64>,
    /// Ops the hub refused for good, with its reason. They are recorded, not retried.
    pub rejected: Vec<(u64, String)>,
    /// Start a new stream: its ops are this kiosk's wishlist lines (so the hub gets back
    /// whatever it lost) followed by the pending ops, renumbered from 1.
    pub restart_stream: bool,
    /// The hub's clock, for the local hybrid logical clock.
    pub observed_hlc: Option<u64>,
}

/// Whether to send now.
pub fn next(state: &SenderState, policy: &Policy, now: Timestamp, pending: usize) -> Next {
    if pending == 0 {
        return Next::Idle;
    }
    match state.retry_at {
        Some(at) if now < at => Next::WaitUntil(at),
        _ => Next::Send {
            max_ops: policy.batch.max(1),
        },
    }
}

/// Moves to a new stream, retrying at once: nothing is wrong with the network.
fn restart(state: &mut SenderState, why: String) -> Effects {
    state.last_error = Some(why);
    state.retry_at = None;
    Effects {
        restart_stream: true,
        ..Effects::default()
    }
}

/// Records what one push did. `jitter` is a uniform random number in `[0, 1)`.
pub fn on_outcome(state: &mut SenderState, policy: &Policy, now: Timestamp, outcome: Outcome, jitter: f64) -> Effects {
    match outcome {
        Outcome::Accepted(response) => {
            *state = SenderState {
                last_push: Some(now),
                ..SenderState::default()
            };
            Effects {
                acked_through: Some(response.acked_seq),
                rejected: response
                    .results
                    .into_iter()
                    .filter(|r| r.status == OpStatus::Rejected)
                    .map(|r| (r.seq, r.reason.unwrap_or_else(|| "rejected".to_owned())))
                    .collect(),
                observed_hlc: Some(response.hub_hlc),
                ..Effects::default()
            }
        }
        Outcome::Gap { expected } => restart(
            state,
            format!("the hub lost ops of this stream from seq {expected}; resending on a new stream"),
        ),
        Outcome::Diverged { seq } => restart(
            state,
            format!("another database sent seq {seq} on this stream; continuing on a new stream"),
        ),
        Outcome::Busy { retry_after } => {
            state.attempts = state.attempts.saturating_add(1);
            let wait = match retry_after {
                Some(asked) => asked.clamp(SignedDuration::ZERO, policy.retry_after_cap),
                None => backoff(policy, state.attempts, jitter),
            };
            state.retry_at = Some(now + wait);
            state.last_error = Some("the hub is busy".to_owned());
            Effects::default()
        }
        Outcome::Failed { reason } => {
            state.attempts = state.attempts.saturating_add(1);
            state.retry_at = Some(now + backoff(policy, state.attempts, jitter));
            state.last_error = Some(reason);
            Effects::default()
        }
    }
}

/// Full-jitter exponential backoff: uniform in `[0, min(cap, base × 2^(attempts−1)))`.
/// Many kiosks coming back after the same outage spread out instead of arriving together.
pub fn backoff(policy: &Policy, attempts: u32, jitter: f64) -> SignedDuration {
    let exponent = attempts.saturating_sub(1).min(30);
    let ceiling = policy
        .base
        .checked_mul(1 << exponent)
        .unwrap_or(policy.cap)
        .min(policy.cap);
    ceiling.mul_f64(jitter.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::OpResult;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn idle_without_ops_and_waits_out_a_backoff() {
        let policy = Policy::default();
        let now = t("2026-11-22T10:00:00Z");
        let mut state = SenderState::default();
        assert_eq!(next(&state, &policy, now, 0), Next::Idle);
        assert_eq!(next(&state, &policy, now, 3), Next::Send { max_ops: 200 });
        on_outcome(
            &mut state,
            &policy,
            now,
            Outcome::Failed {
                reason: "connection reset".into(),
            },
            0.5,
        );
        let until = state.retry_at.unwrap();
        assert_eq!(until, now + SignedDuration::from_millis(500));
        assert_eq!(next(&state, &policy, now, 3), Next::WaitUntil(until));
        assert_eq!(next(&state, &policy, until, 3), Next::Send { max_ops: 200 });
    }

    #[test]
    fn backoff_grows_to_its_cap_and_resets_on_success() {
        let policy = Policy::default();
        let now = t("2026-11-22T10:00:00Z");
        let mut state = SenderState::default();
        let mut ceilings = Vec::new();
        for _ in 0..12 {
            on_outcome(
                &mut state,
                &policy,
                now,
                Outcome::Failed {
                    reason: "timeout".into(),
                },
                0.999_999,
            );
            ceilings.push(state.retry_at.unwrap().duration_since(now).as_secs());
        }
        assert_eq!(&ceilings[..4], &[0, 1, 3, 7]);
        assert!(ceilings.windows(2).all(|w| w[0] <= w[1]), "{ceilings:?}");
        assert_eq!(*ceilings.last().unwrap(), 299);
        let effects = on_outcome(
            &mut state,
            &policy,
            now,
            Outcome::Accepted(PushResponse {
                acked_seq: 9,
                results: vec![OpResult {
                    seq: 9,
                    status: OpStatus::Rejected,
                    reason: Some("unknown_sku".into()),
                }],
                hub_hlc: 42,
            }),
            0.3,
        );
        assert_eq!(state.attempts, 0);
        assert_eq!(state.retry_at, None);
        assert_eq!(state.last_push, Some(now));
        assert_eq!(effects.acked_through, Some(9));
        assert_eq!(effects.rejected, vec![(9, "unknown_sku".to_owned())]);
        assert_eq!(effects.observed_hlc, Some(42));
    }

    #[test]
    fn retry_after_is_honoured_up_to_its_cap() {
        let policy = Policy::default();
        let now = t("2026-11-22T10:00:00Z");
        let mut state = SenderState::default();
        let busy = |secs| Outcome::Busy {
            retry_after: Some(SignedDuration::from_secs(secs)),
        };
        on_outcome(&mut state, &policy, now, busy(30), 0.0);
        assert_eq!(state.retry_at, Some(now + SignedDuration::from_secs(30)));
        on_outcome(&mut state, &policy, now, busy(86_400), 0.0);
        assert_eq!(state.retry_at, Some(now + policy.retry_after_cap));
    }

    #[test]
    fn gaps_and_divergence_restart_the_stream_at_once() {
        let policy = Policy::default();
        let now = t("2026-11-22T10:00:00Z");
        for outcome in [Outcome::Gap { expected: 3 }, Outcome::Diverged { seq: 7 }] {
            let mut state = SenderState {
                retry_at: Some(now),
                ..SenderState::default()
            };
            let effects = on_outcome(&mut state, &policy, now, outcome, 0.5);
            assert!(effects.restart_stream);
            assert_eq!(effects.acked_through, None);
            assert!(state.last_error.is_some());
            assert_eq!(next(&state, &policy, now, 1), Next::Send { max_ops: 200 });
        }
    }
}
