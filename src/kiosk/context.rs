//! [`Ctx`]: what every view controller shares. The window, the workers, the shop, the
//! clock, the sync thread, and the visit under way (its shopper and their list), which
//! the shell owns and every view reads; and the recording of measurement events, which
//! the UI hands to the catalog thread and never waits on.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use slint::{ComponentHandle, Image, Model, ModelRc, Timer, TimerMode};

use super::session::Session;
use super::ui::{AppAdapter, AppWindow, Notice};
use super::workers::{CatalogWorker, ImageWorker, Pending};
use crate::protocol::Owner;
use crate::protocol::measure::{EventDetail, KioskEvent};
use crate::scan::scanner::Camera;
use crate::sync::driver::SyncLink;
use crate::sync::events;
use crate::token::Alias;

/// The kiosk's clock (a fixed one in tests and snapshots).
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// How long "saved" and its kin stay on screen.
const NOTICE_FOR: Duration = Duration::from_millis(2500);

/// Languages: the interface's, and the catalog's content shown (the same when the
/// catalog has it, else the catalog's main one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Langs {
    pub ui: String,
    pub content: String,
}

/// A wishlist line of this visit and the product group it belongs to (`None` when the
/// catalog no longer has the SKU).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    pub sku: String,
    pub group_id: Option<String>,
}

/// The visit under way: anonymous until a customer signs in to it. Nothing of it
/// outlives the visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    /// A random id, also the session of its wishlist ops.
    pub id: String,
    /// The signed-in customer, by the alias their token carried.
    pub customer: Option<Alias>,
    /// This visit's wishlist, newest first.
    pub saved: Vec<Saved>,
    /// When a shopper began it; `None` while no visit is under way (the attract screen,
    /// staff mode), when events name no visit.
    pub started: Option<Instant>,
}

impl Visit {
    pub fn new() -> Visit {
        Visit {
            id: crate::protocol::new_id(),
            customer: None,
            saved: Vec::new(),
            started: None,
        }
    }

    /// A visit a shopper begins now.
    pub fn begin(now: Instant) -> Visit {
        Visit {
            started: Some(now),
            ..Visit::new()
        }
    }

    /// The id events name it by, while it is under way.
    pub fn measured_id(&self) -> Option<&str> {
        self.started.map(|_| self.id.as_str())
    }

    /// Whose list the hearts edit: the signed-in customer's, else the visit's.
    pub fn owner(&self) -> Owner {
        match self.customer {
            Some(alias) => Owner::Alias(alias.to_string()),
            None => Owner::Visit(self.id.clone()),
        }
    }

    pub fn saved_groups(&self) -> HashSet<&str> {
        self.saved.iter().filter_map(|s| s.group_id.as_deref()).collect()
    }

    pub fn is_saved(&self, sku: &str) -> bool {
        self.saved.iter().any(|s| s.sku == sku)
    }

    /// The group a saved SKU belongs to, if the catalog still has it.
    pub fn group_of(&self, sku: &str) -> Option<String> {
        self.saved
            .iter()
            .find(|s| s.sku == sku)
            .and_then(|s| s.group_id.clone())
    }
}

impl Default for Visit {
    fn default() -> Visit {
        Visit::new()
    }
}

/// Something a view tells the shell (a confirmed sign-in, a right PIN, a changed list):
/// the shell sets it once, the view calls it.
pub struct Hook<T>(RefCell<Option<Callback<T>>>);

type Callback<T> = Box<dyn Fn(T)>;

impl<T> Default for Hook<T> {
    fn default() -> Hook<T> {
        Hook(RefCell::new(None))
    }
}

impl<T> Hook<T> {
    pub fn set(&self, f: impl Fn(T) + 'static) {
        *self.0.borrow_mut() = Some(Box::new(f));
    }

    pub fn call(&self, value: T) {
        if let Some(f) = self.0.borrow().as_ref() {
            f(value);
        }
    }
}

/// What the view controllers share.
pub struct Ctx {
    pub window: slint::Weak<AppWindow>,
    pub catalog: CatalogWorker,
    pub images: ImageWorker,
    /// This kiosk's shop.
    pub store: String,
    clock: Clock,
    pending: Pending,
    /// The sync thread, when the kiosk syncs.
    pub sync: Option<SyncLink>,
    pub langs: RefCell<Langs>,
    pub visit: RefCell<Visit>,
    /// The clock of the visit (or of staff mode) under way; `None` on the attract screen.
    pub session: RefCell<Option<Session>>,
    /// The camera, when a scanner is attached, and when it last read a code.
    pub camera: RefCell<Option<Camera>>,
    pub last_read: Cell<Option<Instant>>,
    /// What store ops set in the console, as the last pull brought it.
    pub remote: RefCell<crate::protocol::RemoteSettings>,
    /// The version of [`Ctx::remote`] the featured pieces were last loaded with: the
    /// status refresh reloads them when a pull brings another, so ops' choice shows
    /// without a restart.
    pub featured_version: Cell<i64>,
    /// The retailer's brand as the window shows it.
    pub brand: RefCell<super::brand::Shown>,
    notice_timer: Timer,
}

impl Ctx {
    pub fn new(
        window: &AppWindow,
        catalog: CatalogWorker,
        images: ImageWorker,
        store: String,
        clock: Clock,
        pending: Pending,
        sync: Option<SyncLink>,
    ) -> Rc<Ctx> {
        Rc::new(Ctx {
            window: window.as_weak(),
            catalog,
            images,
            store,
            clock,
            pending,
            sync,
            langs: RefCell::default(),
            visit: RefCell::default(),
            session: RefCell::default(),
            camera: RefCell::default(),
            last_read: Cell::default(),
            remote: RefCell::default(),
            featured_version: Cell::new(0),
            brand: RefCell::default(),
            notice_timer: Timer::default(),
        })
    }

    pub fn with_window(&self, f: impl FnOnce(&AppWindow)) {
        if let Some(window) = self.window.upgrade() {
            f(&window);
        }
    }

    /// Whether counted UI work is under way (a sheet loading on the catalog thread).
    pub fn busy(&self) -> bool {
        !self.pending.is_idle()
    }

    /// Runs a UI task, counted until it finishes (tests and snapshots wait for none).
    pub fn spawn(&self, task: impl Future<Output = ()> + 'static) {
        let ticket = self.pending.ticket();
        Ctx::spawn_waiting(async move {
            task.await;
            drop(ticket);
        });
    }

    /// Runs a UI task that waits on the shopper or the network (minutes, perhaps), not on
    /// the kiosk: it is not pending work.
    pub fn spawn_waiting(task: impl Future<Output = ()> + 'static) {
        if let Err(e) = slint::spawn_local(task) {
            tracing::error!("cannot start a UI task: {e}");
        }
    }

    pub fn now(&self) -> Timestamp {
        (self.clock)()
    }

    pub fn lang(&self) -> String {
        self.langs.borrow().ui.clone()
    }

    pub fn content_lang(&self) -> String {
        self.langs.borrow().content.clone()
    }

    /// Whose list the hearts edit now.
    pub fn owner(&self) -> Owner {
        self.visit.borrow().owner()
    }

    /// Wakes the sync thread after a local edit, if the kiosk syncs.
    pub fn wake_sync(&self) {
        if let Some(sync) = &self.sync {
            sync.wake();
        }
    }

    /// The shopper (or assistant) did something: the idle clock starts again.
    pub fn touch(&self) {
        if let Some(session) = self.session.borrow_mut().as_mut() {
            session.touch(Instant::now());
        }
        self.with_window(|w| w.global::<AppAdapter>().set_idle_seconds(0));
    }

    /// Records a measurement event of the visit under way (of no visit when none is),
    /// on the catalog thread.
    pub fn record(&self, detail: EventDetail) {
        let event = events::new_event(self.now(), self.visit.borrow().measured_id(), detail);
        self.record_event(event);
    }

    /// Records an event that names no visit, even during one (a search, a staff look-up).
    pub fn record_without_visit(&self, detail: EventDetail) {
        self.record_event(events::new_event(self.now(), None, detail));
    }

    /// Hands an event to the catalog thread; the UI never waits on SQLite for it. It is
    /// work in flight until written, so tests and snapshots find it recorded. A visit's
    /// end wakes the sync thread once written: the visit's events go in one push, and
    /// the others with the next.
    fn record_event(&self, event: KioskEvent) {
        let ticket = self.pending.ticket();
        let wake = match event.detail {
            EventDetail::VisitEnded { .. } => self.sync.clone(),
            _ => None,
        };
        self.catalog.fire(move |c| {
            match events::record(c.connection(), &event) {
                Ok(()) => {
                    if let Some(sync) = &wake {
                        sync.wake();
                    }
                }
                Err(e) => tracing::error!(kind = event.detail.kind(), "cannot record a measurement event: {e}"),
            }
            drop(ticket);
        });
    }

    /// Shows `notice` for a moment.
    pub fn notify(&self, notice: Notice) {
        self.with_window(|w| w.global::<AppAdapter>().set_notice(notice));
        let window = self.window.clone();
        self.notice_timer.start(TimerMode::SingleShot, NOTICE_FOR, move || {
            if let Some(w) = window.upgrade() {
                w.global::<AppAdapter>().set_notice(Notice::None);
            }
        });
    }

    /// Takes any notice off the screen at once.
    pub fn clear_notice(&self) {
        self.notice_timer.stop();
        self.with_window(|w| w.global::<AppAdapter>().set_notice(Notice::None));
    }

    /// Loads a picture at `size` into row `index` of the model `model_of` returns, once
    /// decoded; `apply` checks the row still shows what the picture belongs to.
    pub fn load_row_image<T: Clone + 'static>(
        self: &Rc<Self>,
        url: String,
        size: (u32, u32),
        index: usize,
        model_of: fn(&AppWindow) -> ModelRc<T>,
        apply: impl FnOnce(&mut T, Image) + 'static,
    ) {
        let this = self.clone();
        self.spawn(async move {
            let Some(pixels) = this.images.load(&url, size).await else {
                return;
            };
            this.with_window(|w| {
                let model = model_of(w);
                if let Some(mut row) = model.row_data(index) {
                    apply(&mut row, Image::from_rgb8(pixels));
                    model.set_row_data(index, row);
                }
            });
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_visit_a_shopper_began_is_named_by_events() {
        assert_eq!(Visit::new().measured_id(), None);
        let visit = Visit::begin(Instant::now());
        assert_eq!(visit.measured_id(), Some(visit.id.as_str()));
    }

    #[test]
    fn a_visit_is_anonymous_until_a_customer_signs_in() {
        let mut visit = Visit::new();
        assert_eq!(visit.owner(), Owner::Visit(visit.id.clone()));
        assert_ne!(visit.id, Visit::new().id, "each visit has its own id");
        let alias = Alias::parse("0123456789abcdef").unwrap();
        visit.customer = Some(alias);
        assert_eq!(visit.owner(), Owner::Alias(alias.to_string()));
    }

    #[test]
    fn hearts_follow_the_saved_lines() {
        let mut visit = Visit::new();
        visit.saved = vec![
            Saved {
                sku: "A-S".into(),
                group_id: Some("A".into()),
            },
            Saved {
                sku: "GONE".into(),
                group_id: None,
            },
        ];
        assert!(visit.is_saved("A-S") && !visit.is_saved("A-M"));
        assert_eq!(visit.saved_groups(), HashSet::from(["A"]));
        assert_eq!(visit.group_of("A-S").as_deref(), Some("A"));
        assert_eq!(visit.group_of("GONE"), None);
    }
}
