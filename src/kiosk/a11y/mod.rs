//! The accessibility mode (EN 301 549 clause 5, the EAA's self-service terminals): the
//! panel's settings, speech, and moving through a screen with a keypad or one finger.
//!
//! - this file: the controller: settings, and speaking;
//! - [`keys`]: keys from a keypad or a keyboard, and one finger, moving the focus;
//! - [`screen`]: what changed on screen, said (a new screen or sheet, messages, the
//!   countdown);
//! - [`tree`]: the focus order, read from the window's element tree;
//! - [`words`]: an element as a sentence, and the personal lines kept off the
//!   loudspeaker;
//! - [`gesture`]: a stroke of one finger as a gesture.
//!
//! Everything returns to default at the end of a visit ([`A11y::reset`]).

pub mod gesture;
mod keys;
mod screen;
pub mod tree;
pub mod words;

pub use keys::keypad_key;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use slint::{ComponentHandle, Timer, TimerMode};

use super::context::Ctx;
use super::ui::{A11yAdapter, A11yOption, A11yWords, AppAdapter, AppWindow, Notice, Theme};
use crate::speech::espeak::Espeak;
use crate::speech::output::{Alsa, Output};
use crate::speech::{Lang, Speaker, Utterance, Voice};
use gesture::Gestures;
use words::{Item, Words};

/// How often, while speech is on, the controller looks for a new screen, sheet,
/// message or countdown to say.
const POLL: Duration = Duration::from_millis(50);
/// A new screen is announced once its content has loaded, or after this long.
const ARRIVAL_WAIT: Duration = Duration::from_millis(600);
/// How long a scroll's animation takes to settle (Slint's wheel scroll takes 180 ms):
/// the ring follows the focused element meanwhile.
const SCROLLING: Duration = Duration::from_millis(250);
/// Larger text: every size of the theme this many times.
pub const LARGE_TEXT: f32 = 1.5;

/// The panel's settings; all off at the start of a visit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Modes {
    pub speech: bool,
    pub large_text: bool,
    pub high_contrast: bool,
    pub reach: bool,
    pub more_time: bool,
}

#[derive(Default)]
struct State {
    modes: Modes,
    voice: Voice,
    /// Whether headphones are in the jack, once it was read.
    headphones: Option<bool>,
    /// What the keypad or a swipe focused, as it was read.
    focused: Option<Item>,
    context: Option<screen::Context>,
    /// A new screen not announced yet, since when.
    arriving: Option<Instant>,
    notice: Option<Notice>,
    idle_seconds: i32,
    /// Scrolling is animated: the ring follows the focused element until then.
    follow_until: Option<Instant>,
    gestures: Gestures,
    said: String,
    /// Whether `said` was a personal line (said again only into headphones).
    said_private: bool,
    /// What was said in this visit, for the tests (at most [`LOG`] lines; emptied at
    /// the end of the visit with the rest).
    log: Vec<String>,
}

const LOG: usize = 200;

/// What makes the sound: espeak-ng into an output (the sound card unless a test or
/// the benchmark gives another).
type MakeOutput = Box<dyn Fn() -> Box<dyn Output>>;

pub struct A11y {
    ctx: Rc<Ctx>,
    state: RefCell<State>,
    speaker: RefCell<Option<Speaker>>,
    output: RefCell<MakeOutput>,
    espeak: Espeak,
    poll: Timer,
    /// Told when "more time" changes (the shell recomputes the visit's limits).
    on_timing: RefCell<Option<Box<dyn Fn()>>>,
    /// Told when the shopper uses the mode (the shell starts a visit if none is on).
    on_used: RefCell<Option<Box<dyn Fn()>>>,
}

impl A11y {
    pub fn setup(window: &AppWindow, ctx: &Rc<Ctx>) -> Rc<A11y> {
        let this = Rc::new(A11y {
            ctx: ctx.clone(),
            state: RefCell::default(),
            speaker: RefCell::default(),
            output: RefCell::new(Box::new(|| Box::new(Alsa::new("default")))),
            espeak: Espeak::default(),
            poll: Timer::default(),
            on_timing: RefCell::default(),
            on_used: RefCell::default(),
        });
        let adapter = window.global::<A11yAdapter>();
        let weak = Rc::downgrade(&this);
        adapter.on_key(move |text, shift| weak.upgrade().is_some_and(|a| a.key(&text, shift)));
        let weak = Rc::downgrade(&this);
        adapter.on_gesture(move |x0, y0, x1, y1| {
            if let Some(a) = weak.upgrade() {
                a.gesture((x0, y0), (x1, y1), Instant::now());
            }
        });
        let weak = Rc::downgrade(&this);
        adapter.on_headphones_changed(move |plugged| {
            if let Some(a) = weak.upgrade() {
                a.set_headphones(plugged);
            }
        });
        let weak = Rc::downgrade(&this);
        adapter.on_open_panel(move || {
            if let Some(a) = weak.upgrade() {
                a.used();
                a.ctx.touch();
                a.ctx.with_window(|w| w.global::<A11yAdapter>().set_panel_open(true));
            }
        });
        let weak = Rc::downgrade(&this);
        adapter.on_close_panel(move || {
            if let Some(a) = weak.upgrade() {
                a.ctx.touch();
                a.ctx.with_window(|w| w.global::<A11yAdapter>().set_panel_open(false));
            }
        });
        let weak = Rc::downgrade(&this);
        adapter.on_toggle(move |option| {
            if let Some(a) = weak.upgrade() {
                a.used();
                a.ctx.touch();
                a.toggle(option);
            }
        });
        let weak = Rc::downgrade(&this);
        adapter.on_faster(move |steps| {
            if let Some(a) = weak.upgrade() {
                a.ctx.touch();
                a.change_voice(|v| v.faster(steps));
            }
        });
        let weak = Rc::downgrade(&this);
        adapter.on_louder(move |steps| {
            if let Some(a) = weak.upgrade() {
                a.ctx.touch();
                a.change_voice(|v| v.louder(steps));
            }
        });
        this
    }

    /// Watches the sound card's headphone jack (on a kiosk with one).
    pub fn watch_headphones(window: &AppWindow) {
        let weak = window.as_weak();
        let watching = crate::speech::jack::watch("hw:0", move |plugged| {
            let weak = weak.clone();
            // The window lives on the UI thread.
            let _ = slint::invoke_from_event_loop(move || {
                if let Some(w) = weak.upgrade() {
                    w.global::<A11yAdapter>().invoke_headphones_changed(plugged);
                }
            });
        });
        if watching.is_none() {
            tracing::info!("no headphone jack to watch on hw:0");
        }
    }

    pub fn modes(&self) -> Modes {
        self.state.borrow().modes
    }

    /// Speech goes to `make()`'s output from now on (the tests' recorder, a WAV file).
    pub fn use_output(&self, make: impl Fn() -> Box<dyn Output> + 'static) {
        *self.output.borrow_mut() = Box::new(make);
        self.speaker.borrow_mut().take();
    }

    pub fn on_timing(&self, f: impl Fn() + 'static) {
        *self.on_timing.borrow_mut() = Some(Box::new(f));
    }

    pub fn on_used(&self, f: impl Fn() + 'static) {
        *self.on_used.borrow_mut() = Some(Box::new(f));
    }

    /// Headphones plugged in (or out): plugging them in turns speech on, and personal
    /// lines are said only into them.
    /// The first report (at start) only says how things are: headphones left in the
    /// jack do not turn speech on for everyone.
    pub fn set_headphones(self: &Rc<Self>, plugged: bool) {
        let before = self.state.borrow_mut().headphones.replace(plugged);
        self.ctx
            .with_window(|w| w.global::<A11yAdapter>().set_headphones(plugged));
        if !plugged {
            // A personal line under way must not go on through the loudspeaker.
            if let Some(speaker) = self.speaker.borrow().as_ref() {
                speaker.stop();
            }
        } else if before == Some(false) && !self.modes().speech && self.for_shoppers() {
            self.used();
            self.set(A11yOption::Speech, true);
        }
    }

    fn headphones(&self) -> bool {
        self.state.borrow().headphones == Some(true)
    }

    /// The end of a visit: every setting back to default, silence.
    pub fn reset(&self) {
        let headphones = self.state.borrow().headphones;
        *self.state.borrow_mut() = State {
            headphones,
            ..State::default()
        };
        if let Some(speaker) = self.speaker.borrow().as_ref() {
            speaker.stop();
        }
        self.poll.stop();
        self.show();
        self.ctx
            .with_window(|w| w.global::<A11yAdapter>().set_panel_open(false));
        if let Some(f) = self.on_timing.borrow().as_ref() {
            f();
        }
    }

    fn toggle(self: &Rc<Self>, option: A11yOption) {
        let modes = self.modes();
        let on = match option {
            A11yOption::Speech => modes.speech,
            A11yOption::LargeText => modes.large_text,
            A11yOption::HighContrast => modes.high_contrast,
            A11yOption::Reach => modes.reach,
            A11yOption::MoreTime => modes.more_time,
        };
        self.set(option, !on);
        if option != A11yOption::Speech {
            // The switch, with its new state.
            self.say_focused();
        }
    }

    /// Turns a setting on or off.
    pub fn set(self: &Rc<Self>, option: A11yOption, on: bool) {
        {
            let mut state = self.state.borrow_mut();
            let m = &mut state.modes;
            match option {
                A11yOption::Speech => m.speech = on,
                A11yOption::LargeText => m.large_text = on,
                A11yOption::HighContrast => m.high_contrast = on,
                A11yOption::Reach => m.reach = on,
                A11yOption::MoreTime => m.more_time = on,
            }
        }
        self.show();
        match option {
            A11yOption::Speech if on => {
                // Without a synthesiser the explorer would only swallow taps.
                if !self.espeak.available() {
                    tracing::error!("espeak-ng does not run: speech stays off");
                    self.state.borrow_mut().modes.speech = false;
                    self.show();
                    return;
                }
                self.start_polling();
                let Some(window) = self.ctx.window.upgrade() else {
                    return;
                };
                // The hint, then where the shopper is, in one breath: the poll has
                // nothing new to cut it short with.
                {
                    let app = window.global::<AppAdapter>();
                    let mut state = self.state.borrow_mut();
                    state.context = Some(screen::context(&window));
                    state.arriving = None;
                    state.notice = Some(app.get_notice());
                    state.idle_seconds = app.get_idle_seconds();
                }
                let hint = self.words().0;
                self.say(&format!("{hint} {}", self.announcement(&window)));
            }
            A11yOption::Speech => {
                let off = self.words().1;
                self.state.borrow_mut().focused = None;
                self.show();
                self.say(&off);
                self.poll.stop();
            }
            A11yOption::MoreTime => {
                if let Some(f) = self.on_timing.borrow().as_ref() {
                    f();
                }
            }
            _ => {}
        }
    }

    fn change_voice(&self, f: impl Fn(Voice) -> Voice) {
        {
            let mut state = self.state.borrow_mut();
            state.voice = f(state.voice);
        }
        self.show();
        self.say_again();
    }

    /// The settings onto the window: the theme's variants and the panel's switches.
    fn show(&self) {
        let (modes, voice, focused) = {
            let s = self.state.borrow();
            (s.modes, s.voice, s.focused.clone())
        };
        self.ctx.with_window(|w| {
            let theme = w.global::<Theme>();
            theme.set_high_contrast(modes.high_contrast);
            theme.set_text_scale(if modes.large_text { LARGE_TEXT } else { 1.0 });
            let a = w.global::<A11yAdapter>();
            a.set_speech(modes.speech);
            a.set_large_text(modes.large_text);
            a.set_high_contrast(modes.high_contrast);
            a.set_reach(modes.reach);
            a.set_more_time(modes.more_time);
            let default = Voice::default();
            a.set_rate_steps((i32::from(voice.rate) - i32::from(default.rate)) / 25);
            a.set_volume_steps((i32::from(voice.volume) - i32::from(default.volume)) / 20);
            a.set_focus_shown(modes.speech && focused.is_some());
            if let Some(item) = &focused {
                a.set_focus_x(item.rect[0]);
                a.set_focus_y(item.rect[1]);
                a.set_focus_width(item.rect[2]);
                a.set_focus_height(item.rect[3]);
            }
            if !modes.speech || focused.is_none() {
                a.set_focus_shown(false);
            }
        });
    }

    fn start_polling(self: &Rc<Self>) {
        let weak = Rc::downgrade(self);
        self.poll.start(TimerMode::Repeated, POLL, move || {
            if let Some(a) = weak.upgrade() {
                a.tick(Instant::now());
            }
        });
    }

    // ----- speaking -----

    /// The speech-on hint and the speech-off words.
    fn words(&self) -> (String, String) {
        let mut out = (String::new(), String::new());
        self.ctx.with_window(|w| {
            let words = w.global::<A11yWords>();
            out = (words.get_speech_on().to_string(), words.get_speech_off().to_string());
        });
        out
    }

    fn read_words(&self) -> Words {
        let mut out = Words::default();
        self.ctx.with_window(|w| {
            let a = w.global::<A11yWords>();
            out = Words {
                button: a.get_button().into(),
                switch: a.get_switch().into(),
                checkbox: a.get_checkbox().into(),
                text_field: a.get_text_field().into(),
                image: a.get_image().into(),
                tab: a.get_tab().into(),
                on: a.get_on().into(),
                off: a.get_off().into(),
                selected: a.get_selected().into(),
                not_selected: a.get_not_selected().into(),
                unavailable: a.get_unavailable().into(),
                empty: a.get_empty().into(),
                private: a.get_private().into(),
            };
        });
        out
    }

    /// Says `text` in the screen's language, cutting short what was being said.
    fn say(&self, text: &str) {
        self.say_as(text, false);
    }

    /// The last thing said, again (a repeat, a new speed), unless it was personal and
    /// the headphones are out.
    fn say_again(&self) {
        let (said, private) = {
            let s = self.state.borrow();
            (s.said.clone(), s.said_private)
        };
        if !private || self.headphones() {
            self.say_as(&said, private);
        }
    }

    fn say_as(&self, text: &str, private: bool) {
        if text.trim().is_empty() {
            return;
        }
        let voice = self.state.borrow().voice;
        {
            let mut state = self.state.borrow_mut();
            state.said = text.to_owned();
            state.said_private = private;
            if state.log.len() == LOG {
                state.log.remove(0);
            }
            state.log.push(text.to_owned());
        }
        tracing::debug!(chars = text.chars().count(), "speech");
        let mut lang = Lang::French;
        self.ctx
            .with_window(|w| lang = Lang::from_code(&w.global::<AppAdapter>().get_lang()));
        let mut speaker = self.speaker.borrow_mut();
        if speaker.is_none() {
            let output = (self.output.borrow())();
            match Speaker::start(self.espeak.clone(), output) {
                Ok(s) => *speaker = Some(s),
                Err(e) => tracing::warn!(error = %e, "cannot start speech"),
            }
        }
        if let Some(speaker) = speaker.as_ref() {
            speaker.say(Utterance {
                text: text.to_owned(),
                lang,
                voice,
            });
        }
    }

    /// The last thing said (the tests read the utterances through this).
    pub fn said(&self) -> String {
        self.state.borrow().said.clone()
    }

    /// Everything said since the visit began (or speech was turned on), oldest first.
    pub fn utterances(&self) -> Vec<String> {
        self.state.borrow().log.clone()
    }

    /// Whether a scroll the focus asked for is still settling (the elements after the
    /// focused one come into the tree as it does).
    pub fn scrolling(&self) -> bool {
        self.state.borrow().follow_until.is_some_and(|t| Instant::now() < t)
    }

    /// What is focused now, if anything.
    pub fn focused(&self) -> Option<Item> {
        self.state.borrow().focused.clone()
    }
}
