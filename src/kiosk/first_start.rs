//! The first-start screen, "Set up this kiosk" (`ui/views/setup.slint`): what a kiosk
//! that is not enrolled, and whose `kiosk.toml` holds no enrollment code, shows. Store
//! ops show its camera the QR code the hub's console made (it enrolls at once, no tap),
//! or type the code on the kiosk's own keyboard.
//!
//! This is the Slint glue: the window, the camera's preview and reads, the enrollment
//! on a thread of its own (the UI thread never waits on the network), and the hand-over
//! to the kiosk. What to enroll with and how a failure is worded are decided in
//! [`super::setup`], without Slint.
//!
//! It is a screen of the kiosk's own window, shown before there is a kiosk behind it;
//! the kiosk that follows takes the window over, in the same event loop. The `linuxkms`
//! backend the image runs has one window, and one event loop, per process.

use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

use anyhow::Context;
use slint::{ComponentHandle, Timer};

use super::setup::{self, Attempt, Form, Problem};
use super::ui::{AppAdapter, AppWindow, Screen, SetupAdapter, SetupField};
use super::{Started, adapters, appliance, settings};
use crate::scan::scanner::{Event as ScanEvent, Scanner};
use crate::scan::source::FrameSource;
use crate::sync::outbox::Device;

/// How often the thread that hands reads over looks whether it should stop.
const STOP_POLL: Duration = Duration::from_millis(200);
/// Time for the screen to show "Opening the demo store…" before the demo, made on the UI
/// thread, holds it up for a few seconds.
const DEMO_AFTER: Duration = Duration::from_millis(100);

/// What the screen needs to know.
pub struct Options {
    /// The kiosk's database, where the credential goes.
    pub db: PathBuf,
    /// The hub `kiosk.toml` names. Without one the address is typed too (or comes with
    /// the QR code), and the demo store is offered.
    pub hub: Option<String>,
    /// This tablet's name on the hub.
    pub name: Option<String>,
    /// The shop `kiosk.toml` sets the kiosk up for: the hub refuses a code for another
    /// (and keeps it unused) rather than enroll a kiosk that would then refuse to start.
    pub store: Option<String>,
    pub lang: String,
}

/// How the screen ended.
pub enum Outcome {
    Enrolled(Device),
    /// "Try the demo store".
    Demo,
}

/// The camera while the screen shows it: the thread that owns its scanner and hands
/// its reads to the UI thread, and the flag that stops it (the scanner, and so the
/// camera, go with it).
struct Reading {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

/// The screen's controller: the typed fields, the camera, the enrollment under way. Its
/// state is plain Rust; the adapter only shows it.
pub struct SetupScreen {
    /// The kiosk's window, on its setup screen.
    pub window: AppWindow,
    options: Options,
    form: RefCell<Form>,
    /// Enrolling, or opening the demo: another tap or read waits.
    busy: Cell<bool>,
    finished: Cell<bool>,
    reading: RefCell<Option<Reading>>,
    preview_timer: Timer,
    demo_timer: Timer,
    on_done: Box<dyn Fn(Outcome)>,
}

impl SetupScreen {
    /// Puts `window` (a kiosk's window with no kiosk on it yet, shown or not) on the
    /// setup screen, in `options.lang`. `on_done` is called once, on the UI thread, when
    /// the kiosk is enrolled or the demo is chosen, the camera released already: it puts
    /// the kiosk on the window.
    pub fn new(
        window: AppWindow,
        options: Options,
        on_done: impl Fn(Outcome) + 'static,
    ) -> anyhow::Result<Rc<SetupScreen>> {
        if let Err(e) = slint::select_bundled_translation(&options.lang) {
            tracing::warn!("no {} translation bundled: {e}", options.lang);
        }
        let adapter = window.global::<SetupAdapter>();
        adapter.set_lang(options.lang.as_str().into());
        adapter.set_has_camera(false);
        adapter.set_needs_hub(options.hub.is_none());
        adapter.set_code("".into());
        adapter.set_hub("".into());
        adapter.set_field(SetupField::None);
        adapter.set_busy(false);
        adapter.set_starting_demo(false);
        adapter.set_attempt_hub("".into());
        adapter.set_problem(adapters::setup_problem(None));
        let app = window.global::<AppAdapter>();
        app.set_lang(options.lang.as_str().into());
        app.set_screen(Screen::Setup);
        let screen = Rc::new(SetupScreen {
            window,
            options,
            form: RefCell::default(),
            busy: Cell::new(false),
            finished: Cell::new(false),
            reading: RefCell::new(None),
            preview_timer: Timer::default(),
            demo_timer: Timer::default(),
            on_done: Box::new(on_done),
        });
        screen.connect();
        Ok(screen)
    }

    /// Wires the adapter's callbacks; each holds the screen weakly.
    fn connect(self: &Rc<Self>) {
        let adapter = self.window.global::<SetupAdapter>();
        let weak = Rc::downgrade(self);
        adapter.on_choose_field(move |field| {
            if let Some(this) = weak.upgrade() {
                this.choose_field(field);
            }
        });
        let weak = Rc::downgrade(self);
        adapter.on_typed(move |text| {
            if let Some(this) = weak.upgrade() {
                this.edit(|t| t.push_str(&text));
            }
        });
        let weak = Rc::downgrade(self);
        adapter.on_backspace(move || {
            if let Some(this) = weak.upgrade() {
                this.edit(|t| {
                    t.pop();
                });
            }
        });
        let weak = Rc::downgrade(self);
        adapter.on_clear(move || {
            if let Some(this) = weak.upgrade() {
                this.edit(String::clear);
            }
        });
        let weak = Rc::downgrade(self);
        adapter.on_enroll(move || {
            if let Some(this) = weak.upgrade() {
                this.enroll_typed();
            }
        });
        let weak = Rc::downgrade(self);
        adapter.on_demo(move || {
            if let Some(this) = weak.upgrade() {
                this.demo();
            }
        });
        let weak = Rc::downgrade(self);
        adapter.on_scanned(move |text| {
            if let Some(this) = weak.upgrade() {
                this.scanned(&text);
            }
        });
    }

    /// Reads codes from `source` while the screen shows, its picture on screen.
    pub fn attach_camera(&self, source: Box<dyn FrameSource>) -> anyhow::Result<()> {
        let scanner = Scanner::start(source, super::SCAN_DEBOUNCE)?;
        let camera = scanner.camera();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let window = self.window.as_weak();
        let thread = std::thread::Builder::new()
            .name("setup-scan".into())
            .spawn(move || hand_over_reads(&scanner, &stopped, &window))?;
        let window = self.window.as_weak();
        super::views::scan::show_preview(&self.preview_timer, &camera, move |picture| {
            if let Some(w) = window.upgrade() {
                w.global::<SetupAdapter>().set_preview(picture);
            }
        });
        self.window.global::<SetupAdapter>().set_has_camera(true);
        if let Some(previous) = self.reading.replace(Some(Reading { stop, thread })) {
            stop_reading(previous);
        }
        Ok(())
    }

    fn choose_field(&self, field: SetupField) {
        self.form.borrow_mut().field = adapters::field_of(field);
        self.show_form();
    }

    fn edit(&self, edit: impl FnOnce(&mut String)) {
        self.form.borrow_mut().edit(edit);
        self.show_form();
    }

    fn show_form(&self) {
        let form = self.form.borrow();
        let adapter = self.window.global::<SetupAdapter>();
        adapter.set_code(form.code.as_str().into());
        adapter.set_hub(form.hub.as_str().into());
        adapter.set_field(adapters::setup_field(form.field));
    }

    /// "Enroll": the typed code, with the typed hub or the configured one.
    fn enroll_typed(self: &Rc<Self>) {
        if self.busy.get() || self.finished.get() {
            return;
        }
        let attempt = {
            let form = self.form.borrow();
            setup::typed(&form.code, &form.hub, self.options.hub.as_deref())
        };
        match attempt {
            Ok(attempt) => self.enroll(attempt),
            Err(problem) => self.show_problem(problem, ""),
        }
    }

    /// A code the camera read: an enrollment link enrolls at once.
    pub fn scanned(self: &Rc<Self>, text: &str) {
        if self.busy.get() || self.finished.get() {
            return;
        }
        match setup::scanned(text, self.options.hub.as_deref()) {
            Ok(attempt) => self.enroll(attempt),
            Err(problem) => {
                let named = crate::protocol::EnrollLink::parse(text).map(|l| l.hub_url);
                self.show_problem(problem, named.as_deref().unwrap_or_default());
            }
        }
    }

    /// Enrolls on a thread of its own with a runtime of its own (the kiosk has no sync
    /// thread yet), the answer awaited on the UI thread.
    fn enroll(self: &Rc<Self>, attempt: Attempt) {
        self.busy.set(true);
        self.form.borrow_mut().field = setup::Field::None;
        self.show_form();
        let adapter = self.window.global::<SetupAdapter>();
        adapter.set_busy(true);
        adapter.set_problem(adapters::setup_problem(None));
        adapter.set_attempt_hub(attempt.hub_url.as_str().into());
        tracing::info!("enrolling with the hub {}", attempt.hub_url);
        let hub = attempt.hub_url.clone();
        let (db, name, store) = (
            self.options.db.clone(),
            self.options.name.clone(),
            self.options.store.clone(),
        );
        let (reply, answer) = tokio::sync::oneshot::channel();
        let spawned = std::thread::Builder::new().name("enroll".into()).spawn(move || {
            let _ = reply.send(enroll(&db, &attempt, name.as_deref(), store.as_deref()));
        });
        if let Err(e) = spawned {
            return self.answered(Err(e.into()), &hub);
        }
        let weak = Rc::downgrade(self);
        let task = async move {
            let result = answer
                .await
                .unwrap_or_else(|_| Err(anyhow::anyhow!("the enrollment thread ended without an answer")));
            if let Some(this) = weak.upgrade() {
                this.answered(result, &hub);
            }
        };
        if let Err(e) = slint::spawn_local(task) {
            tracing::error!("cannot wait for the enrollment: {e}");
        }
    }

    fn answered(&self, result: anyhow::Result<Device>, hub: &str) {
        self.busy.set(false);
        self.window.global::<SetupAdapter>().set_busy(false);
        match result {
            Ok(device) => {
                tracing::info!(store = %device.store_code, "enrolled with the hub {hub}");
                self.finish(Outcome::Enrolled(device));
            }
            Err(e) => {
                let problem = setup::problem(&e);
                tracing::warn!(?problem, "enrolling with the hub {hub} failed: {e:#}");
                self.show_problem(problem, hub);
            }
        }
    }

    fn show_problem(&self, problem: Problem, hub: &str) {
        let adapter = self.window.global::<SetupAdapter>();
        adapter.set_problem(adapters::setup_problem(Some(problem)));
        adapter.set_attempt_hub(hub.into());
    }

    /// "Try the demo store": said on screen first, then made (a few seconds on the UI
    /// thread, once).
    fn demo(self: &Rc<Self>) {
        if self.busy.replace(true) || self.finished.get() {
            return;
        }
        self.form.borrow_mut().field = setup::Field::None;
        self.show_form();
        let adapter = self.window.global::<SetupAdapter>();
        adapter.set_problem(adapters::setup_problem(None));
        adapter.set_starting_demo(true);
        let weak = Rc::downgrade(self);
        self.demo_timer
            .start(slint::TimerMode::SingleShot, DEMO_AFTER, move || {
                if let Some(this) = weak.upgrade() {
                    this.finish(Outcome::Demo);
                }
            });
    }

    /// Hands over, once: the camera is released first (the kiosk opens it again), then
    /// `on_done` puts what comes next on the window.
    fn finish(&self, outcome: Outcome) {
        if self.finished.replace(true) {
            return;
        }
        self.stop_camera();
        (self.on_done)(outcome);
    }

    /// Stops the preview and the scanner; returns once the camera is released.
    fn stop_camera(&self) {
        self.preview_timer.stop();
        if let Some(reading) = self.reading.take() {
            stop_reading(reading);
        }
    }
}

impl Drop for SetupScreen {
    fn drop(&mut self) {
        self.stop_camera();
    }
}

/// The scanner's thread: each read goes to the screen on the UI thread, until told to
/// stop, the replay ends or the event loop is gone. The scanner (and the camera) is
/// dropped when it returns.
fn hand_over_reads(scanner: &Scanner, stop: &AtomicBool, window: &slint::Weak<AppWindow>) {
    while !stop.load(Ordering::Relaxed) {
        let event = match scanner.events().recv_timeout(STOP_POLL) {
            Ok(event) => event,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        match event {
            ScanEvent::Read { text, .. } => {
                let window = window.clone();
                let sent = slint::invoke_from_event_loop(move || {
                    if let Some(w) = window.upgrade() {
                        w.global::<SetupAdapter>().invoke_scanned(text.into());
                    }
                });
                if sent.is_err() {
                    return;
                }
            }
            ScanEvent::Waiting(why) => tracing::warn!("waiting for the camera: {why}"),
            ScanEvent::Ended => return,
            ScanEvent::Failed(why) => return tracing::error!("the camera stopped: {why}"),
        }
    }
}

fn stop_reading(reading: Reading) {
    reading.stop.store(true, Ordering::Relaxed);
    if reading.thread.join().is_err() {
        tracing::error!("the setup screen's scanner thread panicked");
    }
}

/// `sync::driver::enroll_in` on this thread, with a runtime of its own.
fn enroll(db: &Path, attempt: &Attempt, name: Option<&str>, store: Option<&str>) -> anyhow::Result<Device> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(crate::sync::driver::enroll_in(
        db,
        &attempt.hub_url,
        &attempt.code,
        name,
        store,
    ))
}

/// `vitrine appliance` on a kiosk to set up: the screen until it enrolls, then the kiosk
/// as after any enrollment (the shop check, the camera, full screen), or the demo store;
/// all in one event loop. A mistake found then (enrolled in another shop than
/// `kiosk.toml` names) ends it with that error, as it would at a start.
pub fn run(settings: &settings::Settings, data: PathBuf, health: Option<PathBuf>) -> anyhow::Result<()> {
    let options = Options {
        db: data.join(crate::db::KIOSK_DB),
        hub: settings.hub.clone(),
        name: settings.name.clone(),
        store: settings.store.clone(),
        lang: settings.language.clone(),
    };
    let window = AppWindow::new().context("cannot create the kiosk window")?;
    let failure: Rc<RefCell<Option<anyhow::Error>>> = Rc::default();
    // The kiosk on the window after the screen, kept while the event loop runs.
    let running: Rc<RefCell<Option<(Started, appliance::Supervision)>>> = Rc::default();
    let on_done = {
        let (failure, running, settings) = (failure.clone(), running.clone(), settings.clone());
        let weak = window.as_weak();
        move |outcome: Outcome| {
            let Some(window) = weak.upgrade() else {
                return;
            };
            let started = match outcome {
                Outcome::Enrolled(device) => super::appliance_config(&settings, data.clone(), health.clone(), &device)
                    .and_then(|config| super::start(config, Some(window))),
                Outcome::Demo => {
                    let limits = Some(settings.limits());
                    super::start_demo(&settings.language, limits, health.clone(), Some(window))
                }
            };
            let shown = started.and_then(|started| {
                let supervision = started.show()?;
                Ok((started, supervision))
            });
            match shown {
                Ok(kiosk) => *running.borrow_mut() = Some(kiosk),
                Err(e) => {
                    *failure.borrow_mut() = Some(e);
                    if let Err(e) = slint::quit_event_loop() {
                        tracing::error!("cannot end the event loop: {e}");
                    }
                }
            }
        }
    };
    let screen = SetupScreen::new(window, options, on_done)?;
    screen.window.window().set_fullscreen(true);
    let camera = settings
        .camera_spec()
        .map(|spec| crate::scan::open_source(&spec, 15.0))
        .transpose()?;
    if let Some(source) = camera {
        screen.attach_camera(source)?;
    }
    // Ready for systemd once the screen is up; no health mark before the kiosk runs.
    let _supervision = appliance::supervise(
        &screen.window,
        appliance::systemd(),
        appliance::watchdog_interval(),
        None,
    );
    screen.window.show().context("cannot show the kiosk window")?;
    slint::run_event_loop().context("the kiosk window failed")?;
    drop(screen);
    drop(running.take());
    match failure.take() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
