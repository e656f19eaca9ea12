//! The accessibility mode (EN 301 549 clause 5, the EAA's self-service terminals): the
//! panel's settings, speech, and moving through a screen with a keypad or one finger.
//!
//! - this file: the controller: settings, keys and gestures, what is said when;
//! - [`tree`]: the focus order, read from the window's element tree;
//! - [`words`]: an element as a sentence, and the personal lines kept off the
//!   loudspeaker;
//! - [`gesture`]: a stroke of one finger as a gesture.
//!
//! Everything returns to default at the end of a visit ([`A11y::reset`]).

pub mod gesture;
pub mod tree;
pub mod words;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use slint::platform::Key;
use slint::{ComponentHandle, SharedString, Timer, TimerMode};

use super::context::Ctx;
use super::ui::{
    A11yAdapter, A11yOption, A11yWords, AppAdapter, AppWindow, Notice, ProductAdapter, QrKind, ResultsAdapter, Screen,
    SearchAdapter, Theme,
};
use crate::speech::espeak::Espeak;
use crate::speech::output::{Alsa, Output};
use crate::speech::{Lang, Speaker, Utterance, Voice};
use gesture::{Gesture, Gestures};
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

/// What is on screen, as far as speech cares: a change is announced.
#[derive(Debug, Clone, PartialEq)]
struct Context {
    screen: Screen,
    modal: Option<&'static str>,
    lang: SharedString,
}

#[derive(Default)]
struct State {
    modes: Modes,
    voice: Voice,
    /// Whether headphones are in the jack, once it was read.
    headphones: Option<bool>,
    /// What the keypad or a swipe focused, as it was read.
    focused: Option<Item>,
    context: Option<Context>,
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
                    state.context = Some(context(&window));
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

    // ----- keys and gestures -----

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
    fn for_shoppers(&self) -> bool {
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
    fn used(&self) {
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
                        window.global::<super::ui::AttractAdapter>().invoke_start();
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
    fn first_content(&self, window: &AppWindow, scope: &tree::Scope) -> usize {
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

    fn focus(&self, window: &AppWindow, scope: &tree::Scope, n: usize) {
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

    fn say_focused(&self) {
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

    fn say_item(&self, item: &Item) {
        let words = self.read_words();
        let headphones = self.headphones();
        self.say_as(&words::describe(item, &words, headphones), item.private);
    }

    // ----- what changed on screen -----

    /// Every [`POLL`] while speech is on: a new screen or sheet, a message, the idle
    /// countdown, the focused element's new state or place.
    pub fn tick(&self, now: Instant) {
        if !self.modes().speech {
            return;
        }
        let Some(window) = self.ctx.window.upgrade() else {
            return;
        };
        let app = window.global::<AppAdapter>();
        let idle = app.get_idle_seconds();
        let context = context(&window);
        let notice = app.get_notice();
        let changed = self.state.borrow().context.as_ref() != Some(&context);
        if changed {
            let mut state = self.state.borrow_mut();
            state.context = Some(context);
            state.arriving = Some(now);
            state.focused = None;
            state.notice = Some(notice);
            state.idle_seconds = idle;
        }
        let arriving = self.state.borrow().arriving;
        if let Some(since) = arriving {
            // The content first (a product's sheet loads on the catalog thread).
            if self.ctx.busy() && now.saturating_duration_since(since) < ARRIVAL_WAIT {
                return;
            }
            self.state.borrow_mut().arriving = None;
            self.show();
            self.announce(&window);
            return;
        }
        let old_notice = self.state.borrow_mut().notice.replace(notice);
        if old_notice != Some(notice) && notice != Notice::None {
            let scope = tree::read(&window);
            if !scope.toast.is_empty() {
                // It says what the tap did ("Saved..."): the focused button's new
                // state is not said over it.
                self.state.borrow_mut().follow_until = None;
                self.say(&scope.toast);
                return;
            }
        }
        let old_idle = std::mem::replace(&mut self.state.borrow_mut().idle_seconds, idle);
        if idle > 0 && idle != old_idle && (idle % 10 == 0 || idle <= 5) {
            self.say(&window.global::<A11yWords>().invoke_seconds(idle));
            return;
        }
        let follow = self.state.borrow().follow_until.is_some_and(|t| now < t);
        if follow {
            let scope = tree::read(&window);
            let focused = self.state.borrow().focused.clone();
            if let Some((old, n)) = focused.and_then(|f| scope.find(&f).map(|n| (f, n))) {
                let item = scope.items[n].clone();
                self.state.borrow_mut().focused = Some(item.clone());
                self.show();
                if item.checked != old.checked || item.label != old.label {
                    self.say_item(&item);
                }
            }
        }
    }

    /// A new screen or sheet: its name and what it holds, then the focus waits at its
    /// start.
    fn announce(&self, window: &AppWindow) {
        let text = self.announcement(window);
        self.say(&text);
    }

    fn announcement(&self, window: &AppWindow) -> String {
        let scope = tree::read(window);
        let words = window.global::<A11yWords>();
        if scope.modal.is_some() {
            // A sheet is read whole: its title and its words (not its buttons).
            let mut parts = vec![scope.title.clone()];
            parts.extend(
                scope
                    .items
                    .iter()
                    .filter(|i| !i.role.acts() && i.label != scope.title)
                    .map(|i| i.label.clone()),
            );
            join(&parts)
        } else {
            let app = window.global::<AppAdapter>();
            match app.get_screen() {
                Screen::Attract => words.get_attract().to_string(),
                Screen::Home => join(&[words.get_home().to_string()]),
                Screen::Search => {
                    let search = window.global::<SearchAdapter>();
                    join(&[words.get_search().to_string(), search.get_query().to_string()])
                }
                Screen::Results => {
                    let results = window.global::<ResultsAdapter>();
                    join(&[
                        words.get_results().to_string(),
                        results.get_title().to_string(),
                        words.invoke_items(results.get_total()).to_string(),
                    ])
                }
                Screen::Product => {
                    let product = window.global::<ProductAdapter>();
                    let price = if product.get_sale_price().is_empty() {
                        product.get_price()
                    } else {
                        product.get_sale_price()
                    };
                    join(&[
                        words.get_product().to_string(),
                        product.get_title().to_string(),
                        price.to_string(),
                    ])
                }
                Screen::Wishlist => join(&[
                    words.get_wishlist().to_string(),
                    words.invoke_items(app.get_wishlist_count()).to_string(),
                ]),
                _ => scope.items.first().map(|i| i.label.clone()).unwrap_or_default(),
            }
        }
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

/// The screen and the sheet on top of it.
fn context(window: &AppWindow) -> Context {
    let app = window.global::<AppAdapter>();
    let modal = if app.get_idle_seconds() > 0 && app.get_screen() != Screen::Attract {
        Some("idle-overlay")
    } else if window.global::<A11yAdapter>().get_panel_open() {
        Some("panel-overlay")
    } else if app.get_qr_kind() != QrKind::None {
        Some("qr-overlay")
    } else if app.get_scan_open() {
        Some("scan-overlay")
    } else {
        None
    };
    Context {
        screen: app.get_screen(),
        modal,
        lang: app.get_lang(),
    }
}

/// Parts of a sentence, the empty ones left out, each ended as a sentence.
fn join(parts: &[String]) -> String {
    parts
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .map(|p| {
            if p.ends_with(['.', '!', '?', ':']) {
                p.to_owned()
            } else {
                format!("{p}.")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_keypads_keys_pass_and_no_modifier() {
        for code in [1, 11, 15, 28, 96, 103, 105, 106, 108, 110, 59] {
            assert!(keypad_key(code), "{code}");
        }
        // Ctrl, Alt, Meta (both sides), Backspace, Delete (and the keypad's), F2,
        // letters, the keypad's digits.
        for code in [29, 97, 56, 100, 125, 126, 14, 111, 83, 60, 30, 16, 72, 80] {
            assert!(!keypad_key(code), "{code}");
        }
    }

    #[test]
    fn sentences_end_once() {
        let parts = [
            "Produit".to_owned(),
            String::new(),
            "52,00 €".to_owned(),
            "Là ?".to_owned(),
        ];
        assert_eq!(join(&parts), "Produit. 52,00 €. Là ?");
    }
}
