//! A hybrid logical clock packed in a `u64`: milliseconds since the Unix epoch in the
//! high 48 bits, a counter in the low 16.
//!
//! It never goes backwards, even when the wall clock does, and it moves past every clock
//! it has observed, so an edit made after seeing another is always ordered after it.
//! Comparing two values is comparing the integers.

use jiff::Timestamp;

const COUNTER_BITS: u32 = 16;
/// The counter's bits of a value.
pub const COUNTER_MASK: u64 = (1 << COUNTER_BITS) - 1;
/// The greatest value a clock may take: SQLite stores integers as `i64`, and a value it
/// cannot store would make an acknowledgement impossible to record.
pub const MAX: u64 = i64::MAX as u64;

/// The HLC value for a wall-clock instant with a zero counter.
pub fn from_wall(now: Timestamp) -> u64 {
    (now.as_millisecond().max(0) as u64) << COUNTER_BITS
}

/// The wall-clock part of an HLC value.
pub fn wall(hlc: u64) -> Timestamp {
    Timestamp::from_millisecond((hlc >> COUNTER_BITS) as i64).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The next value for a local event, after `last`.
pub fn tick(last: u64, now: Timestamp) -> u64 {
    from_wall(now).max(last.saturating_add(1)).min(MAX)
}

/// Takes a remote clock into account: the next local tick comes after it. Whatever the
/// remote value, the result stays storable ([`MAX`]).
pub fn observe(last: u64, remote: u64) -> u64 {
    last.max(remote).min(MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_goes_backwards_and_passes_what_it_saw() {
        let t0: Timestamp = "2026-11-22T10:00:00Z".parse().unwrap();
        let a = tick(0, t0);
        let b = tick(a, t0);
        assert!(b > a);
        // The wall clock jumps back an hour: still later.
        let c = tick(b, t0 - jiff::SignedDuration::from_hours(1));
        assert!(c > b);
        // A peer two minutes ahead: our next edit is after its.
        let remote = from_wall(t0 + jiff::SignedDuration::from_mins(2));
        let d = tick(observe(c, remote), t0);
        assert!(d > remote);
        assert_eq!(wall(a), t0);
    }

    #[test]
    fn no_remote_value_makes_the_clock_unstorable() {
        let t0: Timestamp = "2026-11-22T10:00:00Z".parse().unwrap();
        let seen = observe(tick(0, t0), u64::MAX);
        assert_eq!(seen, MAX);
        assert_eq!(tick(seen, t0), MAX);
        assert!(i64::try_from(tick(seen, t0)).is_ok());
    }
}
