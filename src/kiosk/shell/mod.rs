//! The shell: the kiosk's one controller above the views. It owns navigation (the
//! screen and the way back), the visit and its session clock, the language, the idle
//! warning and staff mode, and it routes what crosses views: a card opens a product, a
//! heart redraws every heart, a scanned code signs a shopper in, the end of a visit
//! empties every view.
//!
//! - this file: the views, their cross-view wiring, navigation, language, the status
//!   line (shop name, offline banner);
//! - [`visit`]: a visit's beginning and end, the idle clock, and what a scanned code does;
//! - [`staff`]: the staff corner, the keypad, entering and leaving staff mode.

mod staff;
mod visit;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use slint::{ComponentHandle, Timer, TimerMode};

use super::a11y::A11y;
use super::context::Ctx;
use super::session::Limits;
use super::ui::{
    Activity, AppAdapter, AppWindow, AttractAdapter, HomeAdapter, ProductAdapter, QrKind, ResultsAdapter, Screen,
    SearchAdapter, StaffAdapter, StaffKeypadAdapter, StaffStockAdapter, WishlistAdapter,
};
use super::views::codes::{Code, Codes};
use super::views::home::Home;
use super::views::product::Product;
use super::views::results::Results;
use super::views::scan::ScanSheet;
use super::views::search::Search;
use super::views::staff::health::Health;
use super::views::staff::keypad::{Corner, Keypad};
use super::views::staff::stock::Stock;
use super::views::wishlist::Wishlist;
use super::views::{self, on};
use crate::protocol::measure::{SignInMethod, ViewSource, VisitEnd};
use crate::token::Verifier;

/// How often the offline banner looks at the outbox (and the camera's health is told
/// to the sync thread, for the hub's heartbeat).
const STATUS_EVERY: Duration = Duration::from_secs(2);

/// The screen and the way back to the screens before it.
#[derive(Debug, Clone, PartialEq)]
pub struct Navigation {
    pub screen: Screen,
    history: Vec<Screen>,
}

impl Default for Navigation {
    fn default() -> Navigation {
        Navigation {
            screen: Screen::Attract,
            history: Vec::new(),
        }
    }
}

impl Navigation {
    /// Goes to `screen`; the attract screen is never a step back.
    pub fn go(&mut self, screen: Screen) -> bool {
        if self.screen == screen {
            return false;
        }
        if self.screen != Screen::Attract {
            self.history.push(self.screen);
        }
        self.screen = screen;
        true
    }

    /// One step back, or home when there is none.
    pub fn back(&mut self) {
        self.screen = self.history.pop().unwrap_or(Screen::Home);
    }

    /// Goes to `screen` with no way back (home, the attract screen, staff mode).
    pub fn reset(&mut self, screen: Screen) {
        self.history.clear();
        self.screen = screen;
    }

    pub fn can_go_back(&self) -> bool {
        !self.history.is_empty()
    }
}

/// The views, by name.
struct Views {
    home: Rc<Home>,
    search: Rc<Search>,
    results: Rc<Results>,
    product: Rc<Product>,
    wishlist: Rc<Wishlist>,
    codes: Rc<Codes>,
    scan: Rc<ScanSheet>,
    keypad: Rc<Keypad>,
    stock: Rc<Stock>,
    health: Rc<Health>,
}

pub struct Shell {
    ctx: Rc<Ctx>,
    views: Views,
    nav: RefCell<Navigation>,
    limits: Cell<Limits>,
    /// The language the kiosk starts in, and each visit unless store ops set another.
    default_lang: RefCell<String>,
    /// Checks customer tokens; its replay cache outlives visits.
    verifier: RefCell<Verifier>,
    corner: RefCell<Corner>,
    /// Staff mode, once a PIN was right.
    staff_mode: Cell<bool>,
    status_timer: Timer,
    session_timer: Timer,
    /// The accessibility mode: its settings last as long as the visit.
    a11y: Rc<A11y>,
}

impl Shell {
    pub fn new(window: &AppWindow, ctx: Rc<Ctx>) -> Rc<Shell> {
        let views = Views {
            home: views::home::setup(window, &ctx),
            search: views::search::setup(window, &ctx),
            results: views::results::setup(window, &ctx),
            product: views::product::setup(window, &ctx),
            wishlist: views::wishlist::setup(window, &ctx),
            codes: views::codes::setup(window, &ctx),
            scan: views::scan::setup(window, &ctx),
            keypad: views::staff::keypad::setup(window, &ctx),
            stock: views::staff::stock::setup(window, &ctx),
            health: views::staff::health::setup(window, &ctx),
        };
        let shell = Rc::new(Shell {
            ctx: ctx.clone(),
            views,
            nav: RefCell::default(),
            limits: Cell::new(Limits::default()),
            default_lang: RefCell::new("fr".to_owned()),
            verifier: RefCell::new(Verifier::new("", Default::default())),
            corner: RefCell::default(),
            staff_mode: Cell::new(false),
            status_timer: Timer::default(),
            session_timer: Timer::default(),
            a11y: A11y::setup(window, &ctx),
        });
        shell.connect(window);
        // "More time" applies to the visit under way at once.
        let weak = Rc::downgrade(&shell);
        shell.a11y.on_timing(move || {
            if let Some(this) = weak.upgrade() {
                let limits = this.visit_limits();
                if let Some(session) = this.ctx.session.borrow_mut().as_mut() {
                    // Turning "more time" off never ends a long visit on the spot.
                    let longest = limits.max.max(session.limits().max);
                    session.set_limits(Limits { max: longest, ..limits });
                }
            }
        });
        // The mode used before a visit began (on the attract loop) begins one, so the
        // idle clock's end of it puts every setting back.
        let weak = Rc::downgrade(&shell);
        shell.a11y.on_used(move || {
            if let Some(this) = weak.upgrade()
                && !this.in_staff()
            {
                this.ensure_session();
            }
        });
        let weak = Rc::downgrade(&shell);
        shell.status_timer.start(TimerMode::Repeated, STATUS_EVERY, move || {
            if let Some(this) = weak.upgrade() {
                this.refresh_status();
                this.report_camera();
            }
        });
        let weak = Rc::downgrade(&shell);
        shell
            .session_timer
            .start(TimerMode::Repeated, Duration::from_secs(1), move || {
                if let Some(this) = weak.upgrade() {
                    this.session_tick();
                }
            });
        shell
    }

    /// Wires what crosses views. Callbacks hold the shell weakly; each tells the session
    /// someone is there.
    fn connect(self: &Rc<Self>, window: &AppWindow) {
        let weak = Rc::downgrade(self);
        self.views.wishlist.on_change(move || {
            if let Some(this) = weak.upgrade() {
                this.show_hearts();
                this.refresh_status();
            }
        });
        let weak = Rc::downgrade(self);
        self.views.codes.on_token(move |token| {
            if let Some(this) = weak.upgrade() {
                this.read_code(&token, SignInMethod::Phone);
            }
        });
        let weak = Rc::downgrade(self);
        self.views.keypad.on_welcome(move |assistant| {
            if let Some(this) = weak.upgrade() {
                this.enter_staff(assistant);
            }
        });
        on!(window, self, AttractAdapter.on_start, |this| {
            this.begin_visit();
            this.go(Screen::Home);
        });
        on!(window, self, AttractAdapter.on_choose_language, |this, lang| this
            .set_language(&lang));
        on!(window, self, AppAdapter.on_set_language, |this, lang| this
            .set_language(&lang));
        on!(window, self, AppAdapter.on_back, |this| this.back());
        on!(window, self, AppAdapter.on_home, |this| this.home());
        on!(window, self, AppAdapter.on_done, |this| this.done(VisitEnd::Done));
        on!(window, self, AppAdapter.on_still_here, |this| ());
        // A scroll: `on!` has already told the session.
        on!(window, self, Activity.on_touched, |this| ());
        on!(window, self, AppAdapter.on_scanned, |this, text| this.scanned(&text));
        on!(window, self, AppAdapter.on_show_qr, |this, kind| this.show_qr(kind));
        on!(window, self, AppAdapter.on_renew_qr, |this| this
            .show_qr(this.views.codes.kind()));
        on!(window, self, AppAdapter.on_open_search, |this| this.go(Screen::Search));
        on!(window, self, AppAdapter.on_open_wishlist, |this| this
            .go(Screen::Wishlist));
        on!(window, self, AppAdapter.on_staff_corner, |this| this.staff_corner());
        on!(window, self, HomeAdapter.on_open_search, |this| this.go(Screen::Search));
        on!(window, self, HomeAdapter.on_open_category, |this, path| this
            .open_category(&path));
        on!(window, self, HomeAdapter.on_open_product, |this, id| this
            .open_product(&id, ViewSource::Featured));
        on!(window, self, HomeAdapter.on_toggle_saved, |this, id| this
            .views
            .wishlist
            .toggle_card(&id, (None, None)));
        on!(window, self, SearchAdapter.on_open_product, |this, id| {
            // Opening a result settles the search.
            this.views.search.submit();
            this.open_product(&id, ViewSource::Search);
        });
        on!(window, self, SearchAdapter.on_show_all, |this| this.show_all_results());
        on!(window, self, ResultsAdapter.on_open_product, |this, id| {
            let source = this.views.results.source();
            this.open_product(&id, source);
        });
        on!(window, self, ResultsAdapter.on_toggle_saved, |this, id| {
            let filters = this.views.results.filters();
            this.views.wishlist.toggle_card(&id, filters);
        });
        on!(window, self, ProductAdapter.on_toggle_saved, |this| {
            if let Some(sku) = this.views.product.chosen_sku() {
                this.views.wishlist.toggle_sku(sku);
            }
        });
        on!(window, self, WishlistAdapter.on_open, |this, sku| this.open_saved(&sku));
        on!(window, self, WishlistAdapter.on_remove, |this, sku| this
            .views
            .wishlist
            .remove(&sku));
        on!(window, self, WishlistAdapter.on_browse, |this| this.home());
        on!(window, self, StaffKeypadAdapter.on_cancel, |this| this.exit_staff());
        on!(window, self, StaffAdapter.on_exit, |this| this.exit_staff());
        on!(window, self, StaffAdapter.on_open_stock, |this| this
            .staff_screen(Screen::StaffStock));
        on!(window, self, StaffAdapter.on_open_health, |this| this
            .staff_screen(Screen::StaffHealth));
        on!(window, self, StaffStockAdapter.on_scan, |this| this.views.scan.open());
    }

    /// Where the kiosk keeps its data, for the health screen's disk use.
    pub fn set_data_dir(&self, dir: Option<std::path::PathBuf>) {
        self.views.health.set_data_dir(dir);
    }

    /// How long visits may stay idle, warn, and last; applies from the next visit.
    pub fn set_limits(&self, limits: Limits) {
        self.limits.set(limits);
    }

    /// The limits a visit starting now gets: the kiosk's own, under what store ops set
    /// in the console.
    pub fn visit_limits(&self) -> Limits {
        let base = self.limits.get();
        let remote = self.ctx.remote.borrow();
        let seconds = |value: Option<u32>, multiplier: u64, own: Duration| {
            value.map_or(own, |v| Duration::from_secs(u64::from(v) * multiplier))
        };
        let limits = Limits {
            idle: seconds(remote.idle_seconds, 1, base.idle),
            warning: seconds(remote.warning_seconds, 1, base.warning),
            max: seconds(remote.visit_max_minutes, 60, base.max),
        };
        // The accessibility mode's "more time" doubles them all (WCAG 2.2.1).
        if self.a11y.modes().more_time {
            Limits {
                idle: limits.idle * 2,
                warning: limits.warning * 2,
                max: limits.max * 2,
            }
        } else {
            limits
        }
    }

    /// The accessibility mode's controller.
    pub fn a11y(&self) -> &Rc<A11y> {
        &self.a11y
    }

    /// A camera reads codes for this kiosk.
    pub fn set_camera(&self, camera: crate::scan::scanner::Camera) {
        self.views.scan.set_camera(camera);
    }

    // ----- navigation -----

    pub fn go(&self, screen: Screen) {
        if self.nav.borrow_mut().go(screen) {
            self.show_screen();
        }
    }

    fn back(&self) {
        self.nav.borrow_mut().back();
        self.show_screen();
    }

    fn home(&self) {
        self.nav.borrow_mut().reset(Screen::Home);
        self.show_screen();
    }

    fn show_screen(&self) {
        let nav = self.nav.borrow().clone();
        self.ctx.with_window(|w| {
            let app = w.global::<AppAdapter>();
            app.set_screen(nav.screen);
            app.set_can_go_back(nav.can_go_back());
        });
    }

    /// Opens a product group's sheet; `source` is where the shopper found it (measured).
    pub fn open_product(&self, group_id: &str, source: ViewSource) {
        self.views.product.open_on(group_id, None, source);
        self.go(Screen::Product);
    }

    /// Selects a variant of the open product by SKU.
    pub fn choose_sku(&self, sku: &str) {
        self.views.product.choose_sku(sku);
    }

    pub fn open_category(&self, path: &str) {
        self.views.results.show_category(path);
        self.go(Screen::Results);
    }

    /// Types `text` into the search field, as the on-screen keyboard would.
    pub fn type_text(&self, text: &str) {
        self.views.search.type_text(text);
    }

    pub fn show_all_results(&self) {
        self.views.search.submit();
        self.views.results.show_search(&self.views.search.text());
        self.go(Screen::Results);
    }

    /// Opens a wishlist line's product on its saved size and colour.
    pub fn open_saved(&self, sku: &str) {
        let Some(group) = self.ctx.visit.borrow().group_of(sku) else {
            return;
        };
        self.open_product_on(&group, sku, ViewSource::Wishlist);
    }

    /// Opens a product group on one of its variants (a saved line, a scanned code).
    fn open_product_on(&self, group_id: &str, sku: &str, source: ViewSource) {
        self.views.product.open_on(group_id, Some(sku), source);
        self.go(Screen::Product);
    }

    /// Shows a code for the shopper's phone.
    fn show_qr(&self, kind: QrKind) {
        let code = match kind {
            QrKind::Product => Code::Product {
                link: self.views.product.link(),
                sku: self.views.product.chosen_sku(),
            },
            QrKind::List => Code::List(self.ctx.visit.borrow().saved.iter().map(|s| s.sku.clone()).collect()),
            QrKind::Pairing => Code::Pairing,
            QrKind::None => return self.views.codes.close(),
        };
        self.views.codes.show(code);
    }

    /// Saves `sku` on this visit's list, as a tap on its heart would.
    pub fn save_sku(&self, sku: &str) {
        self.views.wishlist.save(sku);
    }

    /// Fills or empties every heart on screen.
    fn show_hearts(&self) {
        let visit = self.ctx.visit.borrow();
        let saved = visit.saved_groups();
        self.views.home.show_hearts(&saved);
        self.views.results.show_hearts(&saved);
        drop(saved);
        drop(visit);
        self.views.product.show_heart();
    }

    // ----- start and language -----

    /// Shows the attract loop in `lang` and loads the home screen behind it.
    pub fn start(&self, lang: &str) {
        *self.default_lang.borrow_mut() = lang.to_owned();
        self.set_language(lang);
        self.refresh_status();
    }

    pub fn set_language(&self, lang: &str) {
        let lang = if lang == "en" { "en" } else { "fr" };
        if let Err(e) = slint::select_bundled_translation(lang) {
            tracing::warn!("no {lang} translation bundled: {e}");
        }
        self.ctx.langs.borrow_mut().ui = lang.to_owned();
        self.ctx.with_window(|w| {
            w.global::<AppAdapter>().set_lang(lang.into());
            super::brand::show_welcome(w, &self.ctx.brand.borrow(), lang);
        });
        let (ctx, lang) = (self.ctx.clone(), lang.to_owned());
        // What is on screen now, in the content language it is written in now.
        let previous = self.ctx.content_lang();
        let category = self.views.results.category();
        let (home, search, results, product, wishlist) = (
            self.views.home.clone(),
            self.views.search.clone(),
            self.views.results.clone(),
            self.views.product.clone(),
            self.views.wishlist.clone(),
        );
        self.ctx.spawn(async move {
            let answer = ctx
                .catalog
                .run(move |c| {
                    let content = c.content_lang(&lang)?;
                    // A category page stays on the same category in the new language.
                    let category = match category {
                        Some(path) if previous != content => c.translate_category(&path, &previous, &content)?,
                        other => other,
                    };
                    Ok((content, category))
                })
                .await;
            let (content, category) = match answer {
                Ok(answer) => answer,
                Err(e) => return tracing::error!("cannot load the home screen: {e}"),
            };
            ctx.langs.borrow_mut().content = content;
            results.set_category(category);
            // Whatever is on screen is redone in the new language.
            home.load();
            wishlist.refresh();
            search.refresh();
            results.refresh();
            product.refresh();
        });
    }

    /// Tells the sync thread how the camera is doing, for the hub's heartbeat; nothing
    /// when the kiosk does not sync.
    fn report_camera(&self) {
        if let Some(sync) = &self.ctx.sync {
            sync.report_camera(self.views.scan.health(std::time::Instant::now()));
        }
    }

    /// Between visits, refills the search caches a pull emptied (reading the shop's
    /// stock again takes 0.3 s on a 500k-variant catalog), so that the next shopper's
    /// first letter does not wait for it. Never during a visit: it would hold the
    /// catalog thread the shopper's taps need.
    fn warm_search(&self) {
        let lang = self.ctx.content_lang();
        if self.ctx.visit.borrow().started.is_some() || self.staff_mode.get() || lang.is_empty() {
            return;
        }
        let store = self.ctx.store.clone();
        self.ctx.catalog.fire(move |c| {
            if let Err(e) = c.warm_search(&lang, &store) {
                tracing::warn!("search caches not filled: {e}");
            }
        });
    }

    /// Updates the status line: the shop's name, this visit's edits not yet on the hub
    /// and whether the last push failed (the offline banner), what the hub allows; store
    /// ops' settings (the campaign line, and the featured pieces again when their version
    /// changed: pulls come every few minutes, and a restart should not be needed); and
    /// the health screen, when it is open.
    pub fn refresh_status(&self) {
        if self.nav.borrow().screen == Screen::StaffHealth {
            self.views.health.refresh();
        }
        let (ctx, owner, home) = (self.ctx.clone(), self.ctx.owner(), self.views.home.clone());
        let known = self.ctx.brand.borrow().known();
        self.warm_search();
        self.ctx.spawn(async move {
            let answer = ctx
                .catalog
                .run(move |c| {
                    let waiting = crate::sync::outbox::waiting(c.connection(), &owner)?;
                    let failing = crate::sync::outbox::status(c.connection())?.last_error.is_some();
                    let settings = crate::trust::settings(c.connection())?;
                    // The brand's logo and fonts are read here, once per file.
                    let arrived = super::brand::Arrived::read(c.connection(), &settings.brand, &known)?;
                    Ok((waiting, failing, settings, arrived))
                })
                .await;
            match answer {
                Ok((waiting, failing, settings, arrived)) => {
                    ctx.with_window(|w| {
                        let lang = ctx.lang();
                        let shown = &mut ctx.brand.borrow_mut();
                        if let Some(paper) = super::brand::apply(w, shown, &settings.brand, arrived, &lang) {
                            ctx.images.set_backdrop(paper);
                        }
                        let app = w.global::<AppAdapter>();
                        let shop = settings.shops.iter().find(|s| s.code == ctx.store);
                        app.set_store_name(shop.map_or("", |s| s.name.as_str()).into());
                        app.set_waiting(waiting.min(i32::MAX as u64) as i32);
                        app.set_offline(failing);
                        app.set_can_take_list(settings.list_url.is_some());
                        let allowed = settings.remote.phone_sign_in != Some(false);
                        app.set_can_pair(settings.pairing && allowed && ctx.sync.is_some());
                        // The retailer's own words, shown as written (not translated).
                        let campaign = settings.remote.campaign.as_deref().unwrap_or_default().trim();
                        w.global::<AttractAdapter>().set_campaign(campaign.into());
                    });
                    let version = settings.remote.version;
                    *ctx.remote.borrow_mut() = settings.remote;
                    // Before the content language is known, the start's own load is still
                    // to come, and it reads the settings just stored.
                    if version != ctx.featured_version.get() && !ctx.content_lang().is_empty() {
                        home.load();
                    }
                }
                Err(e) => tracing::warn!("cannot read the outbox: {e}"),
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_retraces_the_way_and_ends_home() {
        let mut nav = Navigation::default();
        assert!(nav.go(Screen::Home));
        assert!(!nav.can_go_back(), "the attract screen is never a step back");
        nav.go(Screen::Search);
        nav.go(Screen::Product);
        assert!(!nav.go(Screen::Product), "the same screen again is no step");
        nav.back();
        assert_eq!(nav.screen, Screen::Search);
        nav.back();
        nav.back();
        assert_eq!((nav.screen, nav.can_go_back()), (Screen::Home, false));
        nav.go(Screen::Wishlist);
        nav.reset(Screen::Attract);
        assert_eq!((nav.screen, nav.can_go_back()), (Screen::Attract, false));
    }
}
