//! Sign-in with the phone, after the OAuth device authorisation grant (RFC 8628): a
//! kiosk asks for a pairing and shows its QR code and short code; the shopper confirms on
//! the web store's page (signed in there), which tells the hub; the kiosk, polling, gets
//! a customer token and signs the shopper in exactly as if they had scanned their app.
//!
//! Pairings are kept in the hub's database (`hub::store::pairings`), so whichever hub of
//! a chain a kiosk's poll or the web store's confirmation reaches knows them. This module
//! is the rules, with `now` as input: codes, and what a poll or a confirmation finds;
//! the routes are in [`super::api`].

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::{SignedDuration, Timestamp};
use rand::Rng;

/// How long a shopper has to confirm, unless the hub's config says otherwise.
pub const LIFETIME: SignedDuration = SignedDuration::from_secs(300);
/// Seconds a kiosk waits between two polls.
pub const INTERVAL_SECONDS: u32 = 2;
/// Pairings a kiosk may start per minute (a shopper tapping "new code" again and again).
pub const STARTS_PER_MINUTE: u32 = 6;
/// Pairings pending at once across the hub: bounds memory whatever kiosks do.
pub const MAX_PENDING: usize = 10_000;
/// Letters of a user code: no vowels (no words), no look-alikes (RFC 8628 §6.1).
const ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
const USER_CODE_LEN: usize = 8;

/// Where a pairing stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Pending,
    /// Confirmed: the token waits for the kiosk's next poll.
    Approved,
    Denied,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Pending => "pending",
            Decision::Approved => "approved",
            Decision::Denied => "denied",
        }
    }

    pub fn parse(text: &str) -> Option<Decision> {
        [Decision::Pending, Decision::Approved, Decision::Denied]
            .into_iter()
            .find(|d| d.as_str() == text)
    }
}

/// A pairing as the database keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub device_id: i64,
    pub store_code: String,
    pub expires_at: Timestamp,
    pub last_poll: Option<Timestamp>,
    pub decision: Decision,
    /// The customer token, once approved and until the kiosk collects it.
    pub token: Option<String>,
}

/// A pairing just started, for the kiosk to show.
#[derive(Debug, Clone)]
pub struct Started {
    /// The kiosk's secret handle, for polling (the database keeps only its hash).
    pub device_code: String,
    /// Eight letters, shown as `BCDF-GHJK`.
    pub user_code: String,
    pub expires_at: Timestamp,
}

/// What a poll learns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poll {
    Pending,
    /// Polled sooner than [`INTERVAL_SECONDS`] after the last poll.
    SlowDown,
    Approved {
        token: String,
    },
    Denied,
    Expired,
    /// No such pairing, or another kiosk's.
    Unknown,
}

/// Why a pairing cannot start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StartRefused {
    #[error("this kiosk started too many pairings; wait a little")]
    TooMany,
    #[error("the hub has too many pairings pending; try again in a minute")]
    Full,
}

/// Why a confirmation did not count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecideRefused {
    #[error("no pairing has this code")]
    Unknown,
    #[error("this code has expired; the shopper can ask the kiosk for a new one")]
    Expired,
    #[error("this pairing was already confirmed or declined")]
    Decided,
}

/// A pending pairing, as the confirmation page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub store_code: String,
    pub expires_at: Timestamp,
}

/// `bcdf-ghjk`, `BCDF GHJK` → `BCDFGHJK`; `None` unless eight letters of the alphabet.
pub fn normalise_user_code(text: &str) -> Option<String> {
    if text.len() > 32 {
        return None;
    }
    let code: String = text
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == USER_CODE_LEN && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

/// `BCDFGHJK` → `BCDF-GHJK`, as people read it.
pub fn display_user_code(code: &str) -> String {
    match code.split_at_checked(USER_CODE_LEN / 2) {
        Some((a, b)) => format!("{a}-{b}"),
        None => code.to_owned(),
    }
}

/// A new user code (the store retries on the rare one already in use).
pub fn new_user_code() -> String {
    let mut rng = rand::rng();
    (0..USER_CODE_LEN)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// A new device code: 256 random bits, URL-safe.
pub fn new_device_code() -> String {
    URL_SAFE_NO_PAD.encode(rand::rng().random::<[u8; 32]>())
}

/// Whether a kiosk that started `recent` pairings in the last minute, on a hub with
/// `pending` unexpired ones, may start another.
pub fn may_start(recent: u64, pending: u64) -> Result<(), StartRefused> {
    if recent >= u64::from(STARTS_PER_MINUTE) {
        Err(StartRefused::TooMany)
    } else if pending >= MAX_PENDING as u64 {
        Err(StartRefused::Full)
    } else {
        Ok(())
    }
}

/// What a kiosk's poll finds in `stored` (its own pairing, or another's, or none). An
/// approval's token is for the store to hand over once.
pub fn poll(stored: Option<&Stored>, device_id: i64, now: Timestamp) -> Poll {
    let Some(pairing) = stored.filter(|p| p.device_id == device_id) else {
        return Poll::Unknown;
    };
    if now >= pairing.expires_at {
        return Poll::Expired;
    }
    let too_soon = pairing
        .last_poll
        // Half a second of slack: timers jitter.
        .is_some_and(|last| now < last + SignedDuration::from_millis(i64::from(INTERVAL_SECONDS) * 1000 - 500));
    match (pairing.decision, &pairing.token) {
        (Decision::Pending, _) if too_soon => Poll::SlowDown,
        (Decision::Pending, _) => Poll::Pending,
        (Decision::Denied, _) => Poll::Denied,
        (Decision::Approved, Some(token)) => Poll::Approved { token: token.clone() },
        (Decision::Approved, None) => Poll::Unknown,
    }
}

/// The pairing a user code names, if it is still waiting for the shopper.
pub fn pending(stored: Option<&Stored>, now: Timestamp) -> Result<Pending, DecideRefused> {
    let pairing = stored.ok_or(DecideRefused::Unknown)?;
    if now >= pairing.expires_at {
        Err(DecideRefused::Expired)
    } else if pairing.decision != Decision::Pending {
        Err(DecideRefused::Decided)
    } else {
        Ok(Pending {
            store_code: pairing.store_code.clone(),
            expires_at: pairing.expires_at,
        })
    }
}

/// When a pairing that ended may be forgotten: no kiosk still asks about it.
pub fn forgotten_after(expires_at: Timestamp, lifetime: SignedDuration) -> Timestamp {
    expires_at + lifetime
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + s).unwrap()
    }

    fn stored(decision: Decision, last_poll: Option<i64>) -> Stored {
        Stored {
            device_id: 1,
            store_code: "PARIS".into(),
            expires_at: at(300),
            last_poll: last_poll.map(at),
            decision,
            token: (decision == Decision::Approved).then(|| "0123".into()),
        }
    }

    #[test]
    fn a_poll_finds_how_its_own_pairing_stands() {
        let pending = stored(Decision::Pending, None);
        assert_eq!(poll(Some(&pending), 1, at(0)), Poll::Pending);
        assert_eq!(
            poll(Some(&stored(Decision::Pending, Some(0))), 1, at(1)),
            Poll::SlowDown
        );
        assert_eq!(poll(Some(&stored(Decision::Pending, Some(0))), 1, at(2)), Poll::Pending);
        // Another kiosk cannot collect it.
        let approved = stored(Decision::Approved, None);
        assert_eq!(poll(Some(&approved), 2, at(4)), Poll::Unknown);
        assert_eq!(poll(Some(&approved), 1, at(4)), Poll::Approved { token: "0123".into() });
        assert_eq!(poll(Some(&stored(Decision::Denied, None)), 1, at(4)), Poll::Denied);
        assert_eq!(poll(Some(&pending), 1, at(300)), Poll::Expired);
        assert_eq!(poll(None, 1, at(0)), Poll::Unknown);
    }

    #[test]
    fn a_confirmation_needs_a_pending_unexpired_pairing() {
        let pending = stored(Decision::Pending, None);
        assert_eq!(super::pending(Some(&pending), at(3)).unwrap().store_code, "PARIS");
        assert_eq!(super::pending(Some(&pending), at(300)), Err(DecideRefused::Expired));
        assert_eq!(
            super::pending(Some(&stored(Decision::Denied, None)), at(3)),
            Err(DecideRefused::Decided)
        );
        assert_eq!(super::pending(None, at(3)), Err(DecideRefused::Unknown));
    }

    #[test]
    fn a_kiosk_cannot_start_pairings_without_end() {
        assert_eq!(may_start(u64::from(STARTS_PER_MINUTE) - 1, 0), Ok(()));
        assert_eq!(may_start(u64::from(STARTS_PER_MINUTE), 0), Err(StartRefused::TooMany));
        assert_eq!(may_start(0, MAX_PENDING as u64), Err(StartRefused::Full));
    }

    #[test]
    fn user_codes_are_read_forgivingly_and_nothing_else_is() {
        assert_eq!(normalise_user_code("bcdf-ghjk"), Some("BCDFGHJK".into()));
        assert_eq!(normalise_user_code(" BCDF GHJK "), Some("BCDFGHJK".into()));
        for bad in ["", "BCDFGHJ", "BCDFGHJKL", "ABCDEFGH", "BCDF-GHJ1", &"B".repeat(100)] {
            assert_eq!(normalise_user_code(bad), None, "{bad}");
        }
        let code = new_user_code();
        assert_eq!(normalise_user_code(&display_user_code(&code)), Some(code));
    }
}
