//! Staff PINs: the Argon2id hash the hub stores and sends to the shop's kiosks, the
//! check a kiosk makes offline, and the lockout after wrong PINs. No I/O; takes `now`.
//!
//! A PIN is 6 to 12 digits: the hashes sit on the shop's kiosks, and a slow hash is what
//! stands between a stolen tablet and the PINs, so four digits would not do.

use std::ops::RangeInclusive;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use jiff::{SignedDuration, Timestamp};

/// The shortest and longest PIN.
pub const DIGITS: RangeInclusive<usize> = 6..=12;

/// The wrong PIN in a row that locks the keypad (the fifth).
pub const MAX_ATTEMPTS: u32 = 5;
/// The first lock; each further wrong PIN doubles it, up to [`LONGEST_LOCK`].
pub const FIRST_LOCK: SignedDuration = SignedDuration::from_secs(30);
pub const LONGEST_LOCK: SignedDuration = SignedDuration::from_secs(3600);

/// What a staff badge's QR code holds before the assistant's id. A badge only picks the
/// name on the keypad: the PIN is still needed.
pub const BADGE_PREFIX: &str = "VITRINE-STAFF:";

/// The text of the badge of assistant `id`.
pub fn badge(id: i64) -> String {
    format!("{BADGE_PREFIX}{id}")
}

/// The assistant a scanned badge names, if `text` is a badge.
pub fn parse_badge(text: &str) -> Option<i64> {
    let digits = text.trim().strip_prefix(BADGE_PREFIX)?;
    (digits.len() <= 18 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// Whether `pin` has the shape of a PIN: 6 to 12 ASCII digits.
pub fn valid(pin: &str) -> bool {
    DIGITS.contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit())
}

/// The PHC string of `pin` under Argon2id with the crate's defaults (19 MiB, two
/// passes); `None` when `pin` is not [`valid`].
pub fn hash(pin: &str) -> Option<String> {
    if !valid(pin) {
        return None;
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .ok()
        .map(|h| h.to_string())
}

/// Whether `pin` matches `hash` (a PHC string from [`hash`]).
pub fn matches(pin: &str, hash: &str) -> bool {
    valid(pin)
        && PasswordHash::new(hash)
            .is_ok_and(|parsed| Argon2::default().verify_password(pin.as_bytes(), &parsed).is_ok())
}

/// A kiosk's count of wrong PINs in a row and the lock they set. Per kiosk, not per
/// assistant: trying every name in turn gains nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Guard {
    pub failures: u32,
    pub locked_until: Option<Timestamp>,
}

impl Guard {
    /// Until when the keypad is locked at `now`, if it is. A clock set back cannot make
    /// a lock last longer than the longest one.
    pub fn locked(&self, now: Timestamp) -> Option<Timestamp> {
        let until = self.locked_until.filter(|until| now < *until)?;
        Some(until.min(now.saturating_add(LONGEST_LOCK).unwrap_or(until)))
    }

    /// Records a wrong PIN at `now`; returns the lock it starts, if it starts one.
    pub fn failed(&mut self, now: Timestamp) -> Option<Timestamp> {
        self.failures = self.failures.saturating_add(1);
        let over = self.failures.checked_sub(MAX_ATTEMPTS)?;
        let lock = FIRST_LOCK
            .checked_mul(1 << over.min(16))
            .unwrap_or(LONGEST_LOCK)
            .min(LONGEST_LOCK);
        let until = now.saturating_add(lock).unwrap_or(now);
        self.locked_until = Some(until);
        Some(until)
    }

    /// Tries left before a wrong one locks the keypad (counting that one).
    pub fn attempts_left(&self) -> u32 {
        MAX_ATTEMPTS.saturating_sub(self.failures).max(1)
    }

    /// Records a right PIN: the count starts again.
    pub fn succeeded(&mut self) {
        *self = Guard::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_hashed_slowly_and_checked() {
        let hashed = hash("246810").unwrap();
        assert!(hashed.starts_with("$argon2id$"), "{hashed}");
        assert!(!hashed.contains("246810"));
        assert!(matches("246810", &hashed));
        assert!(!matches("246811", &hashed));
        assert!(!matches("", &hashed));
        assert!(!matches("246810", "not a hash"));
        // Same PIN, new salt.
        assert_ne!(hash("246810").unwrap(), hashed);
        for bad in ["1234", "12345", "1234567890123", "12a456", " 123456", "１２３４５６"] {
            assert_eq!(hash(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn badges_name_an_assistant_and_nothing_else() {
        assert_eq!(parse_badge(&badge(42)), Some(42));
        for other in [
            "VITRINE-STAFF:",
            "VITRINE-STAFF:-1",
            "VITRINE-STAFF:4 2",
            "42",
            "vitrine-staff:42",
        ] {
            assert_eq!(parse_badge(other), None, "{other:?}");
        }
        assert_eq!(parse_badge(&format!("{BADGE_PREFIX}{}", "9".repeat(40))), None);
    }

    #[test]
    fn wrong_pins_lock_for_longer_and_longer() {
        let t0 = Timestamp::from_second(1_800_000_000).unwrap();
        let mut guard = Guard::default();
        for left in (2..=MAX_ATTEMPTS).rev() {
            assert_eq!(guard.attempts_left(), left);
            assert_eq!(guard.failed(t0), None);
        }
        assert_eq!(guard.attempts_left(), 1);
        let mut locks = Vec::new();
        for _ in 0..12 {
            let until = guard.failed(t0).expect("locked");
            locks.push(until.duration_since(t0).as_secs());
            assert_eq!(guard.locked(t0), Some(until));
            assert_eq!(guard.locked(until), None);
        }
        assert_eq!(&locks[..5], &[30, 60, 120, 240, 480]);
        assert!(locks.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(*locks.last().unwrap(), LONGEST_LOCK.as_secs());

        // A clock set back a year does not lock for a year.
        let earlier = t0.checked_sub(SignedDuration::from_hours(24 * 365)).unwrap();
        let until = guard.locked(earlier).unwrap();
        assert!(until.duration_since(earlier) <= LONGEST_LOCK);

        guard.succeeded();
        assert_eq!(guard, Guard::default());
        assert_eq!(guard.locked(t0), None);
    }
}
