//! The staff keypad: the shop's assistants by name, and a PIN typed on the kiosk's own
//! keypad, checked on the catalog thread against the hashes the hub sent. The lock
//! after wrong PINs is kept in the kiosk's database (`staff::roster`), so a restart does
//! not lift it.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use slint::{ComponentHandle, ModelRc, VecModel};
use zeroize::Zeroizing;

use crate::kiosk::context::{Ctx, Hook};
use crate::kiosk::ui::{AppWindow, StaffKeypadAdapter, StaffNameData, StaffPinState};
use crate::kiosk::views::on;
use crate::staff::roster::{self, Assistant, Checked};

/// Taps on the attract screen's corner, within [`CORNER_WITHIN`], that open the keypad.
const CORNER_TAPS: usize = 5;
const CORNER_WITHIN: Duration = Duration::from_secs(3);

/// Recent taps on the attract screen's staff corner.
#[derive(Debug, Default)]
pub struct Corner {
    taps: Vec<Instant>,
}

impl Corner {
    /// A tap at `now`: true when it is the fifth within three seconds (the keypad opens).
    /// A shopper tapping about never lands five times there so quickly.
    pub fn tap(&mut self, now: Instant) -> bool {
        self.taps.retain(|t| now.duration_since(*t) < CORNER_WITHIN);
        self.taps.push(now);
        let open = self.taps.len() >= CORNER_TAPS;
        if open {
            self.taps.clear();
        }
        open
    }
}

/// The keypad's memory, from its opening to the right PIN or "back to the shop".
#[derive(Default)]
pub struct KeypadState {
    pub chosen: Option<i64>,
    pin: Zeroizing<String>,
    pub locked_until: Option<Timestamp>,
}

impl KeypadState {
    /// A digit key; anything past the longest PIN, or not a digit, is ignored.
    pub fn press(&mut self, key: &str) {
        if self.pin.len() < *crate::staff::pin::DIGITS.end()
            && key.len() == 1
            && key.bytes().all(|b| b.is_ascii_digit())
        {
            self.pin.push_str(key);
        }
    }

    pub fn back(&mut self) {
        self.pin.pop();
    }

    pub fn typed(&self) -> usize {
        self.pin.len()
    }

    /// The name chosen and the PIN typed, when both make a try; the PIN leaves the
    /// keypad (it is wiped when dropped).
    pub fn take(&mut self) -> Option<(i64, Zeroizing<String>)> {
        let id = self.chosen?;
        if !crate::staff::pin::valid(&self.pin) {
            return None;
        }
        Some((id, std::mem::take(&mut self.pin)))
    }

    /// Seconds the keypad stays locked at `now`.
    pub fn locked_seconds(&self, now: Timestamp) -> i64 {
        self.locked_until
            .map_or(0, |until| until.duration_since(now).as_secs().max(0))
    }
}

/// An id as the UI's `int`; staff ids are small, a larger one cannot be chosen.
fn small_id(id: i64) -> i32 {
    i32::try_from(id).unwrap_or(-1)
}

pub struct Keypad {
    ctx: Rc<Ctx>,
    /// `None` while the keypad is closed.
    state: RefCell<Option<KeypadState>>,
    /// Called with the assistant whose PIN was right.
    on_welcome: Hook<Assistant>,
}

/// The keypad; "back to the shop" leaves staff mode, so the shell wires it.
pub fn setup(window: &AppWindow, ctx: &Rc<Ctx>) -> Rc<Keypad> {
    let keypad = Rc::new(Keypad {
        ctx: ctx.clone(),
        state: RefCell::default(),
        on_welcome: Hook::default(),
    });
    on!(window, &keypad, StaffKeypadAdapter.on_choose, |this, id| this
        .choose(id));
    on!(window, &keypad, StaffKeypadAdapter.on_pin_key, |this, digit| this
        .edit(|s| s.press(&digit)));
    on!(window, &keypad, StaffKeypadAdapter.on_pin_back, |this| this
        .edit(KeypadState::back));
    on!(window, &keypad, StaffKeypadAdapter.on_pin_enter, |this| this.enter());
    keypad
}

impl Keypad {
    /// What to do when a PIN was right.
    pub fn on_welcome(&self, f: impl Fn(Assistant) + 'static) {
        self.on_welcome.set(f);
    }

    pub fn is_open(&self) -> bool {
        self.state.borrow().is_some()
    }

    /// Opens the keypad, with `chosen`'s name picked (a scanned badge).
    pub fn open(self: &Rc<Self>, chosen: Option<i64>) {
        *self.state.borrow_mut() = Some(KeypadState {
            chosen,
            ..KeypadState::default()
        });
        self.ctx.with_window(|w| {
            let keypad = w.global::<StaffKeypadAdapter>();
            keypad.set_pin_length(0);
            keypad.set_pin_state(StaffPinState::Ready);
            keypad.set_checking(false);
            keypad.set_names(ModelRc::default());
        });
        let (this, now) = (self.clone(), self.ctx.now());
        self.ctx.spawn(async move {
            let answer = this
                .ctx
                .catalog
                .run(move |c| Ok((roster::assistants(c.connection())?, roster::guard(c.connection())?)))
                .await;
            let (names, guard) = match answer {
                Ok(answer) => answer,
                Err(e) => return tracing::error!("cannot read the staff list: {e}"),
            };
            let chosen = {
                let mut state = this.state.borrow_mut();
                let Some(state) = state.as_mut() else { return };
                state.locked_until = guard.locked(now);
                // A badge of someone not on this shop's list chooses nobody.
                state.chosen = state.chosen.filter(|id| names.iter().any(|n| n.id == *id));
                if names.len() == 1 {
                    state.chosen.get_or_insert(names[0].id);
                }
                state.chosen
            };
            let rows: Vec<StaffNameData> = names
                .iter()
                .map(|n| StaffNameData {
                    id: small_id(n.id),
                    name: n.name.as_str().into(),
                })
                .collect();
            this.ctx.with_window(|w| {
                let keypad = w.global::<StaffKeypadAdapter>();
                keypad.set_names(ModelRc::new(VecModel::from(rows)));
                keypad.set_chosen(chosen.map_or(-1, small_id));
            });
            this.tick();
        });
    }

    fn choose(&self, id: i32) {
        if let Some(state) = self.state.borrow_mut().as_mut() {
            state.chosen = Some(i64::from(id));
        }
        self.ctx.with_window(|w| {
            let keypad = w.global::<StaffKeypadAdapter>();
            keypad.set_chosen(id);
            keypad.set_pin_state(StaffPinState::Ready);
        });
    }

    fn edit(&self, edit: impl FnOnce(&mut KeypadState)) {
        let length = {
            let mut state = self.state.borrow_mut();
            let Some(state) = state.as_mut() else { return };
            edit(state);
            state.typed()
        };
        self.ctx.with_window(|w| {
            let keypad = w.global::<StaffKeypadAdapter>();
            keypad.set_pin_length(length as i32);
            keypad.set_pin_state(StaffPinState::Ready);
        });
    }

    /// Checks the PIN typed for the chosen name, off the UI thread (a slow hash).
    fn enter(self: &Rc<Self>) {
        let Some((id, pin)) = self.state.borrow_mut().as_mut().and_then(KeypadState::take) else {
            return;
        };
        self.ctx.with_window(|w| {
            let keypad = w.global::<StaffKeypadAdapter>();
            keypad.set_pin_length(0);
            keypad.set_checking(true);
        });
        let (this, now) = (self.clone(), self.ctx.now());
        self.ctx.spawn(async move {
            let checked = this
                .ctx
                .catalog
                .run(move |c| Ok(roster::check(c.connection(), id, &pin, now)?))
                .await;
            // The audit event waits in the kiosk's database for the hub.
            this.ctx.wake_sync();
            if !this.is_open() {
                return;
            }
            this.ctx
                .with_window(|w| w.global::<StaffKeypadAdapter>().set_checking(false));
            match checked {
                Ok(Checked::Welcome(assistant)) => {
                    *this.state.borrow_mut() = None;
                    this.clear();
                    this.on_welcome.call(assistant);
                }
                Ok(Checked::Wrong { left }) => this.ctx.with_window(|w| {
                    let keypad = w.global::<StaffKeypadAdapter>();
                    keypad.set_pin_state(StaffPinState::Wrong);
                    keypad.set_attempts_left(left as i32);
                }),
                Ok(Checked::Locked { until }) => {
                    if let Some(state) = this.state.borrow_mut().as_mut() {
                        state.locked_until = Some(until);
                    }
                    this.ctx
                        .with_window(|w| w.global::<StaffKeypadAdapter>().set_pin_state(StaffPinState::Locked));
                    this.tick();
                }
                Ok(Checked::Unknown) => this
                    .ctx
                    .with_window(|w| w.global::<StaffKeypadAdapter>().set_pin_state(StaffPinState::Unknown)),
                Err(e) => tracing::error!("cannot check the PIN: {e}"),
            }
        });
    }

    /// Every second while the keypad is open: the lock's countdown.
    pub fn tick(&self) {
        let now = self.ctx.now();
        let Some(seconds) = self.state.borrow().as_ref().map(|s| s.locked_seconds(now)) else {
            return;
        };
        self.ctx.with_window(|w| {
            let keypad = w.global::<StaffKeypadAdapter>();
            keypad.set_locked_seconds(i32::try_from(seconds).unwrap_or(i32::MAX));
            if seconds == 0 && keypad.get_pin_state() == StaffPinState::Locked {
                keypad.set_pin_state(StaffPinState::Ready);
            }
        });
    }

    /// Closes the keypad: no name, no digit, no countdown left on it.
    pub fn close(&self) {
        *self.state.borrow_mut() = None;
        self.clear();
    }

    fn clear(&self) {
        self.ctx.with_window(|w| {
            let keypad = w.global::<StaffKeypadAdapter>();
            keypad.set_names(ModelRc::default());
            keypad.set_chosen(-1);
            keypad.set_pin_length(0);
            keypad.set_pin_state(StaffPinState::Ready);
            keypad.set_locked_seconds(0);
            keypad.set_checking(false);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_taps_within_three_seconds_open_the_keypad() {
        let mut corner = Corner::default();
        let t0 = Instant::now();
        for i in 0..4 {
            assert!(!corner.tap(t0 + Duration::from_millis(500 * i)));
        }
        assert!(corner.tap(t0 + Duration::from_millis(2100)));
        // Slow taps never add up.
        let mut slow = Corner::default();
        assert!((0..10).all(|i| !slow.tap(t0 + Duration::from_millis(900 * i))));
    }

    #[test]
    fn the_keypad_takes_digits_up_to_the_longest_pin() {
        let mut state = KeypadState::default();
        for key in ["1", "x", "23", "4", "5"] {
            state.press(key);
        }
        assert_eq!(state.typed(), 3, "letters and two keys at once are not digits");
        assert!(state.take().is_none(), "no name chosen, and too short");
        state.chosen = Some(4);
        assert!(state.take().is_none(), "too short");
        for _ in 0..20 {
            state.press("7");
        }
        assert_eq!(state.typed(), *crate::staff::pin::DIGITS.end());
        let (id, pin) = state.take().unwrap();
        assert_eq!((id, pin.len(), state.typed()), (4, 12, 0));
    }

    #[test]
    fn the_lock_counts_down_to_zero() {
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        let state = KeypadState {
            locked_until: Some(now + jiff::SignedDuration::from_secs(30)),
            ..KeypadState::default()
        };
        assert_eq!(state.locked_seconds(now), 30);
        assert_eq!(state.locked_seconds(now + jiff::SignedDuration::from_secs(90)), 0);
    }
}
