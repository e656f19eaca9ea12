//! Sign-in with the phone, after the OAuth device authorisation grant (RFC 8628): a
//! kiosk asks for a pairing and shows its QR code and short code; the shopper confirms on
//! the web store's page (signed in there), which tells the hub; the kiosk, polling, gets
//! a customer token and signs the shopper in exactly as if they had scanned their app.
//!
//! Pairings live in memory only: they last minutes, and a hub restart just means the
//! shopper taps "new code". This module is the bookkeeping, with `now` as input; the
//! routes are in [`super::api`].

use std::collections::HashMap;
use std::num::NonZeroU32;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
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
#[derive(Debug, Clone, PartialEq, Eq)]
enum Decision {
    Pending,
    /// Confirmed: the token the kiosk signs the customer in with.
    Approved {
        token: String,
    },
    Denied,
}

#[derive(Debug)]
struct Pairing {
    device_id: i64,
    store_code: String,
    user_code: String,
    expires_at: Timestamp,
    last_poll: Option<Timestamp>,
    decision: Decision,
}

/// A pairing just started, for the kiosk to show.
#[derive(Debug, Clone)]
pub struct Started {
    /// The kiosk's secret handle, for polling.
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

/// Every pairing the hub knows of, with the limits on starting them.
pub struct Pairings {
    by_device_code: HashMap<String, Pairing>,
    /// User code → device code.
    by_user_code: HashMap<String, String>,
    starts: DefaultKeyedRateLimiter<i64>,
    lifetime: SignedDuration,
}

impl Default for Pairings {
    fn default() -> Pairings {
        Pairings::new(LIFETIME)
    }
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

impl Pairings {
    pub fn new(lifetime: SignedDuration) -> Pairings {
        let per_minute = NonZeroU32::new(STARTS_PER_MINUTE).expect("a positive quota");
        Pairings {
            by_device_code: HashMap::new(),
            by_user_code: HashMap::new(),
            starts: RateLimiter::keyed(Quota::per_minute(per_minute)),
            lifetime,
        }
    }

    /// A new pairing for a kiosk; any pairing it had pending is dropped (it shows one code).
    pub fn start(&mut self, device_id: i64, store_code: &str, now: Timestamp) -> Result<Started, StartRefused> {
        self.sweep(now);
        if self.starts.check_key(&device_id).is_err() {
            return Err(StartRefused::TooMany);
        }
        self.drop_device(device_id);
        if self.by_device_code.len() >= MAX_PENDING {
            return Err(StartRefused::Full);
        }
        let mut rng = rand::rng();
        let user_code = loop {
            let code: String = (0..USER_CODE_LEN)
                .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
                .collect();
            if !self.by_user_code.contains_key(&code) {
                break code;
            }
        };
        let device_code = URL_SAFE_NO_PAD.encode(rng.random::<[u8; 32]>());
        let expires_at = now + self.lifetime;
        self.by_user_code.insert(user_code.clone(), device_code.clone());
        self.by_device_code.insert(
            device_code.clone(),
            Pairing {
                device_id,
                store_code: store_code.to_owned(),
                user_code: user_code.clone(),
                expires_at,
                last_poll: None,
                decision: Decision::Pending,
            },
        );
        Ok(Started {
            device_code,
            user_code,
            expires_at,
        })
    }

    /// The kiosk asks how its pairing stands. An approval is handed over once.
    pub fn poll(&mut self, device_id: i64, device_code: &str, now: Timestamp) -> Poll {
        let Some(pairing) = self.by_device_code.get_mut(device_code) else {
            return Poll::Unknown;
        };
        if pairing.device_id != device_id {
            return Poll::Unknown;
        }
        if now >= pairing.expires_at {
            return Poll::Expired;
        }
        let too_soon = pairing
            .last_poll
            // Half a second of slack: timers jitter.
            .is_some_and(|last| now < last + SignedDuration::from_millis(i64::from(INTERVAL_SECONDS) * 1000 - 500));
        pairing.last_poll = Some(now);
        match pairing.decision.clone() {
            Decision::Pending if too_soon => Poll::SlowDown,
            Decision::Pending => Poll::Pending,
            Decision::Denied => Poll::Denied,
            Decision::Approved { token } => {
                self.remove(device_code);
                Poll::Approved { token }
            }
        }
    }

    /// The pairing a user code names, if it is still waiting for the shopper.
    pub fn pending(&self, user_code: &str, now: Timestamp) -> Result<Pending, DecideRefused> {
        let pairing = self.find(user_code, now)?;
        Ok(Pending {
            store_code: pairing.store_code.clone(),
            expires_at: pairing.expires_at,
        })
    }

    /// The shopper confirmed (with the token to sign them in with) or declined.
    pub fn decide(&mut self, user_code: &str, token: Option<String>, now: Timestamp) -> Result<(), DecideRefused> {
        self.find(user_code, now)?;
        let device_code = &self.by_user_code[user_code];
        let pairing = self.by_device_code.get_mut(device_code).ok_or(DecideRefused::Unknown)?;
        pairing.decision = match token {
            Some(token) => Decision::Approved { token },
            None => Decision::Denied,
        };
        Ok(())
    }

    /// The kiosk gave up (the shopper closed the code, or left).
    pub fn cancel(&mut self, device_id: i64, device_code: &str) -> bool {
        match self.by_device_code.get(device_code) {
            Some(p) if p.device_id == device_id => {
                self.remove(device_code);
                true
            }
            _ => false,
        }
    }

    fn find(&self, user_code: &str, now: Timestamp) -> Result<&Pairing, DecideRefused> {
        let pairing = self
            .by_user_code
            .get(user_code)
            .and_then(|d| self.by_device_code.get(d))
            .ok_or(DecideRefused::Unknown)?;
        if now >= pairing.expires_at {
            Err(DecideRefused::Expired)
        } else if pairing.decision != Decision::Pending {
            Err(DecideRefused::Decided)
        } else {
            Ok(pairing)
        }
    }

    fn remove(&mut self, device_code: &str) {
        if let Some(p) = self.by_device_code.remove(device_code) {
            self.by_user_code.remove(&p.user_code);
        }
    }

    fn drop_device(&mut self, device_id: i64) {
        let mine: Vec<String> = self
            .by_device_code
            .iter()
            .filter(|(_, p)| p.device_id == device_id)
            .map(|(code, _)| code.clone())
            .collect();
        for code in mine {
            self.remove(&code);
        }
    }

    /// Forgets pairings expired long enough that no kiosk still asks about them.
    fn sweep(&mut self, now: Timestamp) {
        let stale: Vec<String> = self
            .by_device_code
            .iter()
            .filter(|(_, p)| now >= p.expires_at + self.lifetime)
            .map(|(code, _)| code.clone())
            .collect();
        for code in stale {
            self.remove(&code);
        }
        self.starts.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + s).unwrap()
    }

    #[test]
    fn a_confirmed_pairing_hands_its_token_over_once() {
        let mut p = Pairings::default();
        let started = p.start(1, "PARIS", at(0)).unwrap();
        assert_eq!(
            normalise_user_code(&display_user_code(&started.user_code)),
            Some(started.user_code.clone())
        );
        assert_eq!(p.poll(1, &started.device_code, at(0)), Poll::Pending);
        assert_eq!(p.poll(1, &started.device_code, at(1)), Poll::SlowDown);
        assert_eq!(p.pending(&started.user_code, at(3)).unwrap().store_code, "PARIS");
        p.decide(&started.user_code, Some("0123".into()), at(3)).unwrap();
        assert_eq!(p.decide(&started.user_code, None, at(3)), Err(DecideRefused::Decided));
        // Another kiosk cannot collect it.
        assert_eq!(p.poll(2, &started.device_code, at(4)), Poll::Unknown);
        assert_eq!(
            p.poll(1, &started.device_code, at(4)),
            Poll::Approved { token: "0123".into() }
        );
        assert_eq!(p.poll(1, &started.device_code, at(6)), Poll::Unknown);
    }

    #[test]
    fn pairings_expire_and_a_new_one_replaces_the_old() {
        let mut p = Pairings::default();
        let first = p.start(1, "PARIS", at(0)).unwrap();
        let late = at(LIFETIME.as_secs());
        assert_eq!(p.poll(1, &first.device_code, late), Poll::Expired);
        assert_eq!(
            p.decide(&first.user_code, Some("t".into()), late),
            Err(DecideRefused::Expired)
        );
        let second = p.start(1, "PARIS", late).unwrap();
        assert_eq!(p.poll(1, &first.device_code, late), Poll::Unknown);
        assert_eq!(p.pending(&second.user_code, late).unwrap().expires_at, late + LIFETIME);
        p.decide(&second.user_code, None, late).unwrap();
        assert_eq!(p.poll(1, &second.device_code, late), Poll::Denied);
        assert!(p.cancel(1, &second.device_code));
        assert_eq!(p.pending(&second.user_code, late), Err(DecideRefused::Unknown));
    }

    #[test]
    fn a_kiosk_cannot_start_pairings_without_end() {
        let mut p = Pairings::default();
        for _ in 0..STARTS_PER_MINUTE {
            p.start(1, "PARIS", at(0)).unwrap();
        }
        assert_eq!(p.start(1, "PARIS", at(0)).unwrap_err(), StartRefused::TooMany);
        // Other kiosks are not held back by it.
        p.start(2, "PARIS", at(0)).unwrap();
    }

    #[test]
    fn user_codes_are_read_forgivingly_and_nothing_else_is() {
        assert_eq!(normalise_user_code("bcdf-ghjk"), Some("BCDFGHJK".into()));
        assert_eq!(normalise_user_code(" BCDF GHJK "), Some("BCDFGHJK".into()));
        for bad in ["", "BCDFGHJ", "BCDFGHJKL", "ABCDEFGH", "BCDF-GHJ1", &"B".repeat(100)] {
            assert_eq!(normalise_user_code(bad), None, "{bad}");
        }
    }
}
