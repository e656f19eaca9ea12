//! Keys from a keypad or a keyboard, and one finger: what each does to the focus.

use std::rc::Rc;
use std::time::{Duration, Instant};

use slint::ComponentHandle;
use slint::platform::Key;

use super::gesture::Gesture;
use super::words::{self, Item};
use super::{A11y, SCROLLING, tree};
use crate::kiosk::ui::{A11yAdapter, A11yOption, A11yWords, AppAdapter, AppWindow, Screen, Theme};

impl A11y {
    /// A key from a keypad or a keyboard; true when it was used. The first one turns
    /// speech on (a keypad is how a blind shopper starts).
    pub fn key(self: &Rc<Self>, text: &str, shift: bool) -> bool {
        let Some(first) = text.chars().next() else {
            return false;
        };
        let is = |key: Key| first == char::from(key);
        let action = if is(Key::DownArrow) || is(Key::RightArrow) || (is(Key::Tab) && !shift) {
            Action::Next
        } else if is(Key::UpArrow) || is(Key::LeftArrow) || is(Key::Backtab) || (is(Key::Tab) && shift) {
            Action::Previous
        } else if is(Key::Return) || text == "\r" {
            Action::Activate
        } else if is(Key::Escape) {
            Action::Back
        } else if is(Key::Insert) || (text == "0" && self.modes().speech) {
            Action::Repeat
        } else if is(Key::F1) {
            Action::Help
        } else {
            return false;
        };
        if !self.modes().speech {
            // Staff mode and the first-start screen are not a shopper's: their keys
            // (a PIN) are never said aloud.
            if !self.for_shoppers() {
                return false;
            }
            self.used();
            self.set(A11yOption::Speech, true);
            return true;
        }
        self.used();
        // The sheet on top is read before `touch` takes the idle warning away, so
        // Escape there means "still here", not also "back".
        self.act(action);
        self.ctx.touch();
        true
    }

    /// Whether a shopper's screen shows (not staff mode, not the first-start screen).
    pub(super) fn for_shoppers(&self) -> bool {
        let mut shopper = false;
        self.ctx.with_window(|w| {
            shopper = !matches!(
                w.global::<AppAdapter>().get_screen(),
                Screen::StaffPin | Screen::StaffStock | Screen::StaffHealth | Screen::Setup
            );
        });
        shopper
    }

    /// The shopper used the mode: a visit starts if none is under way, so its end (the
    /// idle clock's) puts every setting back.
    pub(super) fn used(&self) {
        if let Some(f) = self.on_used.borrow().as_ref() {
            f();
        }
    }

    /// One finger while speech is on.
    pub fn gesture(self: &Rc<Self>, from: (f32, f32), to: (f32, f32), now: Instant) {
        if let Some(speaker) = self.speaker.borrow().as_ref() {
            speaker.stop();
        }
        self.used();
        let gesture = self.state.borrow_mut().gestures.stroke(from, to, now);
        match gesture {
            Gesture::Next => self.act(Action::Next),
            Gesture::Previous => self.act(Action::Previous),
            Gesture::Activate => self.act(Action::Activate),
            Gesture::Explore { x, y } => self.ctx.with_window(|w| {
                let scope = tree::read(w);
                if let Some(n) = scope.at(x, y) {
                    self.focus(w, &scope, n);
                }
            }),
        }
        self.ctx.touch();
    }

    fn act(self: &Rc<Self>, action: Action) {
        let Some(window) = self.ctx.window.upgrade() else {
            return;
        };
        // Any action silences what was being said at once, before the tree is read.
        if let Some(speaker) = self.speaker.borrow().as_ref() {
            speaker.stop();
        }
        // Whatever was new is now old: an action is not interrupted by its screen's
        // own announcement of what was there before it.
        self.tick(Instant::now());
        let scope = tree::read(&window);
        let current = self.state.borrow().focused.as_ref().and_then(|f| scope.find(f));
        match action {
            Action::Next | Action::Previous => {
                if scope.items.is_empty() {
                    return;
                }
                let last = scope.items.len() - 1;
                let next = match (action, current) {
                    (Action::Next, None) => Some(self.first_content(&window, &scope)),
                    (Action::Next, Some(n)) if n < last => Some(n + 1),
                    (Action::Previous, None) => Some(last),
                    (Action::Previous, Some(n)) if n > 0 => Some(n - 1),
                    _ => None,
                };
                match next {
                    Some(n) => self.focus(&window, &scope, n),
                    None => {
                        let words = window.global::<A11yWords>();
                        let edge = if action == Action::Next {
                            words.get_bottom()
                        } else {
                            words.get_top()
                        };
                        self.say(&edge);
                    }
                }
            }
            Action::Activate => {
                let Some(n) = current else {
                    // Nothing focused yet: on the attract loop, Enter starts.
                    if window.global::<AppAdapter>().get_screen() == Screen::Attract {
                        window.global::<crate::kiosk::ui::AttractAdapter>().invoke_start();
                    }
                    return;
                };
                if let Some(handle) = scope.handle(n) {
                    handle.invoke_accessible_default_action();
                }
                // Its state may have changed (a heart, a switch): said by the next
                // tick unless a new screen, sheet or message comes first.
                self.state.borrow_mut().follow_until = Some(Instant::now() + Duration::from_millis(400));
                self.tick(Instant::now());
            }
            Action::Back => {
                let app = window.global::<AppAdapter>();
                match scope.modal {
                    Some("idle-overlay") => app.invoke_still_here(),
                    Some("panel-overlay") => window.global::<A11yAdapter>().invoke_close_panel(),
                    Some("qr-overlay") => app.invoke_close_qr(),
                    Some("scan-overlay") => app.invoke_close_scan(),
                    _ if app.get_can_go_back() => app.invoke_back(),
                    _ => {}
                }
                self.tick(Instant::now());
            }
            // What is focused, described again (headphones may have come since), or
            // the last thing said.
            Action::Repeat => match current {
                Some(n) => self.say_item(&scope.items[n]),
                None => self.say_again(),
            },
            Action::Help => self.say(&window.global::<A11yWords>().get_help()),
        }
    }

    /// Where "next" starts on a new screen: its first element below the header (a
    /// shopper hears the screen's content first, the header is one step back).
    pub(super) fn first_content(&self, window: &AppWindow, scope: &tree::Scope) -> usize {
        if scope.modal.is_some() {
            return 0;
        }
        // The header's top: its first button sits in its middle.
        let sizes = window.global::<Theme>().get_sizes();
        let header = sizes.header_height;
        let top = scope
            .items
            .iter()
            .find(|i| i.role.acts())
            .map_or(0.0, |i| i.rect[1] - (header - sizes.touch) / 2.0);
        scope
            .items
            .iter()
            .position(|i| i.rect[1] >= top + header - 1.0)
            .unwrap_or(0)
    }

    pub(super) fn focus(&self, window: &AppWindow, scope: &tree::Scope, n: usize) {
        let Some(item) = scope.items.get(n) else { return };
        let scrolled = scope.handle(n).is_some_and(|h| tree::bring_into_view(window, h));
        {
            let mut state = self.state.borrow_mut();
            state.focused = Some(item.clone());
            state.follow_until = scrolled.then(|| Instant::now() + SCROLLING);
        }
        self.show();
        self.say_item(item);
    }

    pub(super) fn say_focused(&self) {
        let Some(window) = self.ctx.window.upgrade() else {
            return;
        };
        let scope = tree::read(&window);
        let focused = self.state.borrow().focused.clone();
        if let Some(n) = focused.and_then(|f| scope.find(&f)) {
            let item = scope.items[n].clone();
            self.state.borrow_mut().focused = Some(item.clone());
            self.show();
            self.say_item(&item);
        }
    }

    pub(super) fn say_item(&self, item: &Item) {
        let words = self.read_words();
        let headphones = self.headphones();
        self.say_as(&words::describe(item, &words, headphones), item.private);
    }
}

/// The keys of an accessibility keypad, as Linux numbers them (`input-event-codes.h`):
/// the only keys the image lets reach the app. Navigation keypads send the arrow keys,
/// Enter and Escape; a numeric keypad's digits would reach Slint as nothing it names
/// (Num Lock is off), so they are not let through. No Ctrl, Alt or Meta, so no combination
/// of them (Ctrl+Alt+Backspace quits Slint's DRM backend) can be made.
pub fn keypad_key(code: u32) -> bool {
    const ESC: u32 = 1;
    const ZERO: u32 = 11;
    const TAB: u32 = 15;
    const ENTER: u32 = 28;
    const LEFT_SHIFT: u32 = 42;
    const RIGHT_SHIFT: u32 = 54;
    const F1: u32 = 59;
    const KEYPAD_ENTER: u32 = 96;
    const UP: u32 = 103;
    const LEFT: u32 = 105;
    const RIGHT: u32 = 106;
    const DOWN: u32 = 108;
    const INSERT: u32 = 110;
    matches!(
        code,
        ESC | ZERO | TAB | ENTER | LEFT_SHIFT | RIGHT_SHIFT | F1 | KEYPAD_ENTER | UP | LEFT | RIGHT | DOWN | INSERT
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Next,
    Previous,
    Activate,
    Back,
    Repeat,
    Help,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(super) fn only_a_keypads_keys_pass_and_no_modifier() {
        for code in [1, 11, 15, 28, 96, 103, 105, 106, 108, 110, 59] {
            assert!(keypad_key(code), "{code}");
        }
        // Ctrl, Alt, Meta (both sides), Backspace, Delete (and the keypad's), F2,
        // letters, the keypad's digits.
        for code in [29, 97, 56, 100, 125, 126, 14, 111, 83, 60, 30, 16, 72, 80] {
            assert!(!keypad_key(code), "{code}");
        }
    }
}
