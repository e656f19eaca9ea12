//! The kiosk controller: what each tap does.
//!
//! Callbacks from the UI change [`State`] and start tasks (`slint::spawn_local`) that ask
//! the catalog thread, then fill the adapters with the answer. A task whose answer
//! arrives after the shopper moved on (a newer search, another product) drops it: each
//! kind of request carries a sequence number and only the latest is shown.

mod codes;
mod identify;
mod staff;

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::future::Future;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use slint::{ComponentHandle, Image, Model, ModelRc, Timer, TimerMode, VecModel};

use super::session::{Limits, Session};
use super::ui::{
    Activity, AppAdapter, AppWindow, AttractAdapter, ChipData, HomeAdapter, Notice, ProductAdapter, ProductCardData,
    ResultsAdapter, Screen, SearchAdapter, StaffAdapter, WishlistAdapter,
};
use super::workers::{CatalogWorker, ImageWorker, Pending};
use super::{adapters, links};
use crate::catalog::{self, Catalog, CatalogError, Facets, ProductCard, ProductSheet, Query};
use crate::protocol::{Action, Owner};
use crate::scan::scanner::Camera;
use crate::sync::driver::SyncLink;
use crate::sync::outbox::{self, Edited};
use crate::sync::pairing::PairingGuard;
use crate::sync::trust;
use crate::token::{Alias, Verifier};

/// Pixel sizes pictures are decoded at, per place they are shown (4:5 pictures).
const CARD_PICTURE: (u32, u32) = (400, 500);
const ROW_PICTURE: (u32, u32) = (100, 125);
const TILE_PICTURE: (u32, u32) = (640, 480);
const SHEET_PICTURE: (u32, u32) = (960, 1200);
const LINE_PICTURE: (u32, u32) = (160, 200);

/// How many results search-as-you-type shows under the field.
const SEARCH_ROWS: usize = 12;
/// Price bands for the filter chips, in major units of the catalog's currency.
const PRICE_BANDS: [(i64, i64); 4] = [(0, 50), (50, 100), (100, 200), (200, i64::MAX / 1000)];
/// How often the offline banner looks at the outbox.
const STATUS_EVERY: Duration = Duration::from_secs(2);
/// How long "saved" and its kin stay on screen.
const NOTICE_FOR: Duration = Duration::from_millis(2500);

pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

#[derive(Default)]
struct State {
    lang: String,
    content_lang: String,
    screen: Screen,
    history: Vec<Screen>,
    search_text: String,
    search_seq: u64,
    results: Option<Query>,
    results_seq: u64,
    facets: Facets,
    sheet: Option<Rc<ProductSheet>>,
    chosen_sku: Option<String>,
    product_seq: u64,
    /// The visit: anonymous until a customer signs in to it.
    visit: String,
    /// The signed-in customer, by the alias their token carried.
    customer: Option<Alias>,
    /// The clock of the visit under way; `None` on the attract screen.
    session: Option<Session>,
    /// This visit's wishlist, newest first.
    saved: Vec<Saved>,
    wishlist_seq: u64,
    /// The code on screen for the shopper's phone (see `codes`).
    qr_seq: u64,
    /// A sign-in with the phone under way; dropping it cancels it.
    pairing: Option<PairingGuard>,
    /// Staff mode, from the keypad on (see `staff`).
    staff: Option<staff::Staff>,
    /// Recent taps on the attract screen's staff corner.
    corner_taps: Vec<Instant>,
}

/// A wishlist line and the product group it belongs to (`None` when the catalog no
/// longer has the SKU).
struct Saved {
    sku: String,
    group_id: Option<String>,
}

impl State {
    fn saved_groups(&self) -> HashSet<&str> {
        self.saved.iter().filter_map(|s| s.group_id.as_deref()).collect()
    }

    fn is_saved(&self, sku: &str) -> bool {
        self.saved.iter().any(|s| s.sku == sku)
    }
}

pub struct Controller {
    window: slint::Weak<AppWindow>,
    catalog: CatalogWorker,
    images: ImageWorker,
    store: String,
    clock: Clock,
    pending: Pending,
    /// The sync thread, when the kiosk syncs: woken after an edit, asked for a signed-in
    /// customer's list.
    sync: Option<SyncLink>,
    /// Checks customer tokens; its replay cache outlives sessions.
    verifier: RefCell<Verifier>,
    limits: Cell<Limits>,
    /// The camera, when a scanner is attached.
    camera: RefCell<Option<Camera>>,
    /// When the camera last read a code, for the health screen.
    last_read: Cell<Option<Instant>>,
    /// The kiosk's data directory, for the health screen's disk use.
    data_dir: RefCell<Option<PathBuf>>,
    preview_timer: Timer,
    status_timer: Timer,
    notice_timer: Timer,
    session_timer: Timer,
    state: RefCell<State>,
}

impl Controller {
    pub fn new(
        window: &AppWindow,
        catalog: CatalogWorker,
        images: ImageWorker,
        store: String,
        clock: Clock,
        pending: Pending,
        sync: Option<SyncLink>,
    ) -> Rc<Controller> {
        let controller = Rc::new(Controller {
            window: window.as_weak(),
            catalog,
            images,
            store,
            clock,
            pending,
            sync,
            verifier: RefCell::new(Verifier::new("", Default::default())),
            limits: Cell::new(Limits::default()),
            camera: RefCell::new(None),
            last_read: Cell::new(None),
            data_dir: RefCell::new(None),
            preview_timer: Timer::default(),
            status_timer: Timer::default(),
            notice_timer: Timer::default(),
            session_timer: Timer::default(),
            state: RefCell::new(State {
                screen: Screen::Attract,
                visit: crate::sync::driver::random_id(),
                ..State::default()
            }),
        });
        controller.connect(window);
        let weak = Rc::downgrade(&controller);
        controller
            .status_timer
            .start(TimerMode::Repeated, STATUS_EVERY, move || {
                if let Some(this) = weak.upgrade() {
                    this.refresh_status();
                }
            });
        let weak = Rc::downgrade(&controller);
        controller
            .session_timer
            .start(TimerMode::Repeated, Duration::from_secs(1), move || {
                if let Some(this) = weak.upgrade() {
                    this.session_tick();
                }
            });
        controller
    }

    /// Where the kiosk keeps its data, for the health screen's disk use.
    pub fn set_data_dir(&self, dir: Option<PathBuf>) {
        *self.data_dir.borrow_mut() = dir;
    }

    /// How long sessions may stay idle, warn, and last; applies from the next visit.
    pub fn set_limits(&self, limits: Limits) {
        self.limits.set(limits);
    }

    /// Wires every UI callback to the controller. Callbacks hold a weak reference so the
    /// window does not keep the controller alive in a cycle. Each tap also tells the
    /// session the shopper is still there.
    fn connect(self: &Rc<Self>, window: &AppWindow) {
        macro_rules! on {
            ($global:ident . $callback:ident, |$this:ident $(, $arg:ident)*| $body:expr) => {{
                let weak = Rc::downgrade(self);
                window.global::<$global>().$callback(move |$($arg),*| {
                    if let Some($this) = weak.upgrade() {
                        $this.touch();
                        $body
                    }
                });
            }};
        }
        on!(AttractAdapter.on_start, |this| {
            this.begin_visit();
            this.go(Screen::Home);
        });
        on!(AttractAdapter.on_choose_language, |this, lang| this.set_language(&lang));
        on!(AppAdapter.on_set_language, |this, lang| this.set_language(&lang));
        on!(AppAdapter.on_back, |this| this.back());
        on!(AppAdapter.on_done, |this| this.done());
        on!(AppAdapter.on_staff_corner, |this| this.staff_corner());
        on!(StaffAdapter.on_choose, |this, id| this.choose_assistant(id));
        on!(StaffAdapter.on_pin_key, |this, digit| this.pin_key(&digit));
        on!(StaffAdapter.on_pin_back, |this| this.pin_back());
        on!(StaffAdapter.on_pin_enter, |this| this.pin_enter());
        on!(StaffAdapter.on_cancel, |this| this.exit_staff());
        on!(StaffAdapter.on_exit, |this| this.exit_staff());
        on!(StaffAdapter.on_open_stock, |this| this.staff_screen(Screen::StaffStock));
        on!(StaffAdapter.on_open_health, |this| this
            .staff_screen(Screen::StaffHealth));
        on!(StaffAdapter.on_start_typing, |this| this.start_typing());
        on!(StaffAdapter.on_typed, |this, text| this
            .edit_staff_query(|q| q.push_str(&text)));
        on!(StaffAdapter.on_backspace, |this| this.edit_staff_query(|q| {
            q.pop();
        }));
        on!(StaffAdapter.on_clear, |this| this.edit_staff_query(String::clear));
        on!(StaffAdapter.on_search, |this| this.staff_search());
        on!(StaffAdapter.on_open_result, |this, code| this.look_up(&code));
        on!(StaffAdapter.on_select, |this, sku| this.select_variant(&sku));
        on!(StaffAdapter.on_scan, |this| this.open_scan());
        on!(StaffAdapter.on_sync_now, |this| this.staff_sync(false));
        on!(StaffAdapter.on_refresh_catalog, |this| this.staff_sync(true));
        on!(AppAdapter.on_still_here, |this| ());
        // A scroll: `on!` has already told the session.
        on!(Activity.on_touched, |this| ());
        on!(AppAdapter.on_scanned, |this, text| this.scanned(&text));
        on!(AppAdapter.on_show_qr, |this, kind| this.show_qr(kind));
        on!(AppAdapter.on_close_qr, |this| this.close_qr());
        on!(AppAdapter.on_renew_qr, |this| this.renew_qr());
        on!(AppAdapter.on_open_scan, |this| this.open_scan());
        on!(AppAdapter.on_close_scan, |this| this.close_scan());
        on!(AppAdapter.on_home, |this| this.home());
        on!(AppAdapter.on_open_search, |this| this.go(Screen::Search));
        on!(AppAdapter.on_open_wishlist, |this| this.go(Screen::Wishlist));
        on!(ProductAdapter.on_toggle_saved, |this| this.toggle_chosen());
        on!(HomeAdapter.on_toggle_saved, |this, id| this.toggle_card(&id, false));
        on!(ResultsAdapter.on_toggle_saved, |this, id| this.toggle_card(&id, true));
        on!(WishlistAdapter.on_open, |this, sku| this.open_saved(&sku));
        on!(WishlistAdapter.on_remove, |this, sku| this
            .edit_wishlist(vec![(sku.to_string(), Action::Remove)]));
        on!(WishlistAdapter.on_browse, |this| this.home());
        on!(HomeAdapter.on_open_search, |this| this.go(Screen::Search));
        on!(HomeAdapter.on_open_category, |this, path| this.open_category(&path));
        on!(HomeAdapter.on_open_product, |this, id| this.open_product(&id));
        on!(SearchAdapter.on_open_product, |this, id| this.open_product(&id));
        on!(ResultsAdapter.on_open_product, |this, id| this.open_product(&id));
        on!(SearchAdapter.on_typed, |this, text| this
            .edit_search(|q| q.push_str(&text)));
        on!(SearchAdapter.on_backspace, |this| this.edit_search(|q| {
            q.pop();
        }));
        on!(SearchAdapter.on_clear, |this| this.edit_search(String::clear));
        on!(SearchAdapter.on_show_all, |this| this.show_all_results());
        on!(ResultsAdapter.on_toggle_size, |this, i| this
            .toggle_filter(Filter::Size(i as usize)));
        on!(ResultsAdapter.on_toggle_color, |this, i| this
            .toggle_filter(Filter::Color(i as usize)));
        on!(ResultsAdapter.on_toggle_price, |this, i| this
            .toggle_filter(Filter::Price(i as usize)));
        on!(ResultsAdapter.on_toggle_in_stock, |this| this
            .toggle_filter(Filter::InStockHere));
        on!(ResultsAdapter.on_clear_filters, |this| this
            .toggle_filter(Filter::Clear));
        on!(ProductAdapter.on_select_color, |this, i| this
            .choose_variant(Some(i as usize), None));
        on!(ProductAdapter.on_select_size, |this, i| this
            .choose_variant(None, Some(i as usize)));
    }

    fn with_window(&self, f: impl FnOnce(&AppWindow)) {
        if let Some(window) = self.window.upgrade() {
            f(&window);
        }
    }

    /// Runs a UI task, counted until it finishes.
    fn spawn(&self, task: impl Future<Output = ()> + 'static) {
        let ticket = self.pending.ticket();
        Controller::spawn_waiting(async move {
            task.await;
            drop(ticket);
        });
    }

    /// Runs a UI task that waits on the shopper (minutes, perhaps), not on the kiosk: it
    /// is not pending work.
    fn spawn_waiting(task: impl Future<Output = ()> + 'static) {
        if let Err(e) = slint::spawn_local(task) {
            tracing::error!("cannot start a UI task: {e}");
        }
    }

    fn now(&self) -> Timestamp {
        (self.clock)()
    }

    // ----- navigation -----

    pub fn go(self: &Rc<Self>, screen: Screen) {
        let mut state = self.state.borrow_mut();
        if state.screen == screen {
            return;
        }
        if state.screen != Screen::Attract {
            let previous = state.screen;
            state.history.push(previous);
        }
        state.screen = screen;
        drop(state);
        self.show_screen();
    }

    fn back(self: &Rc<Self>) {
        let mut state = self.state.borrow_mut();
        state.screen = state.history.pop().unwrap_or(Screen::Home);
        drop(state);
        self.show_screen();
    }

    fn home(self: &Rc<Self>) {
        let mut state = self.state.borrow_mut();
        state.history.clear();
        state.screen = Screen::Home;
        drop(state);
        self.show_screen();
    }

    fn show_screen(&self) {
        let state = self.state.borrow();
        let (screen, can_go_back) = (state.screen, !state.history.is_empty());
        drop(state);
        self.with_window(|w| {
            let app = w.global::<AppAdapter>();
            app.set_screen(screen);
            app.set_can_go_back(can_go_back);
        });
    }

    // ----- start and language -----

    /// Shows the attract loop in `lang` and loads the home screen behind it.
    pub fn start(self: &Rc<Self>, lang: &str) {
        self.set_language(lang);
        self.refresh_status();
    }

    pub fn set_language(self: &Rc<Self>, lang: &str) {
        let lang = if lang == "en" { "en" } else { "fr" };
        if let Err(e) = slint::select_bundled_translation(lang) {
            tracing::warn!("no {lang} translation bundled: {e}");
        }
        self.state.borrow_mut().lang = lang.to_owned();
        self.with_window(|w| w.global::<AppAdapter>().set_lang(lang.into()));

        let this = self.clone();
        let lang = lang.to_owned();
        let now = self.now();
        let previous = self.state.borrow().content_lang.clone();
        let category = self.state.borrow().results.as_ref().and_then(|q| q.category.clone());
        self.spawn(async move {
            let answer = this
                .catalog
                .run(move |c| {
                    let content = c.content_lang(&lang)?;
                    let categories = c.categories(&content)?;
                    let featured = c.featured(&content, 8, now)?;
                    // A category page stays on the same category in the new language.
                    let category = match category {
                        Some(path) if previous != content => c.translate_category(&path, &previous, &content)?,
                        other => other,
                    };
                    Ok((content, categories, featured, category))
                })
                .await;
            let (content, categories, featured, category) = match answer {
                Ok(answer) => answer,
                Err(e) => return tracing::error!("cannot load the home screen: {e}"),
            };
            {
                let mut state = this.state.borrow_mut();
                state.content_lang = content;
                if let Some(query) = state.results.as_mut() {
                    query.category = category;
                }
            }
            let cards = this.card_rows(&featured);
            let tiles: Vec<_> = categories.iter().map(adapters::category).collect();
            this.with_window(|w| {
                w.global::<AttractAdapter>()
                    .set_featured(ModelRc::new(VecModel::from(cards.clone())));
                w.global::<HomeAdapter>()
                    .set_featured(ModelRc::new(VecModel::from(cards)));
                w.global::<HomeAdapter>()
                    .set_categories(ModelRc::new(VecModel::from(tiles)));
            });
            this.load_card_images(
                &featured,
                |w| w.global::<AttractAdapter>().get_featured(),
                SHEET_PICTURE,
            );
            this.load_card_images(&featured, |w| w.global::<HomeAdapter>().get_featured(), CARD_PICTURE);
            for (i, category) in categories.iter().enumerate() {
                if let Some(url) = category.image_link.clone() {
                    this.load_row_image(
                        url,
                        TILE_PICTURE,
                        i,
                        |w| w.global::<HomeAdapter>().get_categories(),
                        |row, image| {
                            row.image = image;
                        },
                    );
                }
            }
            // Whatever else is on screen is redone in the new language.
            this.refresh_wishlist();
            this.refresh_search();
            this.refresh_results();
            this.refresh_product();
        });
    }

    /// Result cards for `cards`, hearts filled for groups on the wishlist.
    fn card_rows(&self, cards: &[ProductCard]) -> Vec<ProductCardData> {
        let state = self.state.borrow();
        let saved = state.saved_groups();
        cards
            .iter()
            .map(|c| adapters::card(c, &state.lang, saved.contains(c.group_id.as_str())))
            .collect()
    }

    // ----- pictures -----

    /// Loads the picture of each card into row `i` of the model `model_of` returns,
    /// checking the row still shows that product when the picture arrives.
    fn load_card_images(
        self: &Rc<Self>,
        cards: &[ProductCard],
        model_of: fn(&AppWindow) -> ModelRc<ProductCardData>,
        size: (u32, u32),
    ) {
        for (i, card) in cards.iter().enumerate() {
            let Some(url) = card.image_link.clone() else { continue };
            let id = card.group_id.clone();
            self.load_row_image(url, size, i, model_of, move |row: &mut ProductCardData, image| {
                if row.id == id.as_str() {
                    row.image = image;
                }
            });
        }
    }

    fn load_row_image<T: Clone + 'static>(
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

    // ----- search as you type -----

    fn edit_search(self: &Rc<Self>, edit: impl FnOnce(&mut String)) {
        let mut state = self.state.borrow_mut();
        edit(&mut state.search_text);
        let too_long = state.search_text.chars().count() >= catalog::MAX_QUERY_CHARS;
        if too_long {
            state.search_text = state.search_text.chars().take(catalog::MAX_QUERY_CHARS).collect();
        }
        let text = state.search_text.clone();
        drop(state);
        self.with_window(|w| {
            let search = w.global::<SearchAdapter>();
            search.set_query(text.as_str().into());
            search.set_too_long(too_long);
        });
        self.refresh_search();
    }

    fn refresh_search(self: &Rc<Self>) {
        let mut state = self.state.borrow_mut();
        state.search_seq += 1;
        let seq = state.search_seq;
        let text = state.search_text.clone();
        let mut query = Query::new(&state.content_lang, self.now());
        drop(state);
        if text.trim().is_empty() {
            self.with_window(|w| {
                let search = w.global::<SearchAdapter>();
                search.set_results(ModelRc::default());
                search.set_total(0);
            });
            return;
        }
        query.text = text.clone();
        query.limit = 200;
        let this = self.clone();
        self.spawn(async move {
            let answer = this
                .catalog
                .run(move |c| {
                    let exact = c.lookup(&query.text)?;
                    let cards = c.search(&query)?;
                    Ok((exact, cards))
                })
                .await;
            if this.state.borrow().search_seq != seq {
                return;
            }
            let (exact, mut cards) = match answer {
                Ok(answer) => answer,
                Err(e) => return tracing::error!("search failed: {e}"),
            };
            // A typed or scanned reference opens its product at once.
            if let Some(hit) = exact
                && !cards.iter().any(|c| c.group_id == hit.group_id)
            {
                let now = this.now();
                let lang = this.state.borrow().content_lang.clone();
                if let Ok(Some(card)) = this.catalog.run(move |c| c.card(&lang, &hit.group_id, now)).await {
                    cards.insert(0, card);
                }
            }
            let total = cards.len();
            cards.truncate(SEARCH_ROWS);
            let rows = this.card_rows(&cards);
            this.with_window(|w| {
                let search = w.global::<SearchAdapter>();
                search.set_results(ModelRc::new(VecModel::from(rows)));
                search.set_total(total as i32);
            });
            this.load_card_images(&cards, |w| w.global::<SearchAdapter>().get_results(), ROW_PICTURE);
        });
    }

    /// Types `text` into the search field, as the on-screen keyboard would.
    pub fn type_text(self: &Rc<Self>, text: &str) {
        self.edit_search(|q| q.push_str(text));
    }

    pub fn show_all_results(self: &Rc<Self>) {
        let mut state = self.state.borrow_mut();
        let mut query = Query::new(&state.content_lang, self.now());
        query.text = state.search_text.clone();
        state.results = Some(query);
        drop(state);
        self.refresh_results();
        self.go(Screen::Results);
    }

    // ----- results with filters -----

    pub fn open_category(self: &Rc<Self>, path: &str) {
        let mut state = self.state.borrow_mut();
        let mut query = Query::new(&state.content_lang, self.now());
        query.category = Some(path.to_owned());
        state.results = Some(query);
        drop(state);
        self.refresh_results();
        self.go(Screen::Results);
    }

    fn toggle_filter(self: &Rc<Self>, filter: Filter) {
        let mut state = self.state.borrow_mut();
        let facets = state.facets.clone();
        let store = self.store.clone();
        let Some(query) = state.results.as_mut() else { return };
        let toggle = |current: &mut Option<String>, choice: Option<&String>| {
            *current = match (current.as_ref(), choice) {
                (Some(c), Some(n)) if c == n => None,
                (_, n) => n.cloned(),
            };
        };
        match filter {
            Filter::Size(i) => toggle(&mut query.size, facets.sizes.get(i)),
            Filter::Color(i) => toggle(&mut query.color, facets.colors.get(i)),
            Filter::Price(i) => {
                let band = PRICE_BANDS.get(i).map(|(lo, hi)| (lo * 100, hi.saturating_mul(100)));
                query.price_band = if query.price_band == band { None } else { band };
            }
            Filter::InStockHere => {
                query.in_stock_at = if query.in_stock_at.is_some() { None } else { Some(store) };
            }
            Filter::Clear => {
                query.size = None;
                query.color = None;
                query.price_band = None;
                query.in_stock_at = None;
            }
        }
        drop(state);
        self.refresh_results();
    }

    fn refresh_results(self: &Rc<Self>) {
        let mut state = self.state.borrow_mut();
        let lang = state.content_lang.clone();
        let Some(query) = state.results.as_mut() else { return };
        query.lang = lang;
        query.now = self.now();
        query.limit = 120;
        let query = query.clone();
        state.results_seq += 1;
        let seq = state.results_seq;
        drop(state);
        let this = self.clone();
        self.spawn(async move {
            let q = query.clone();
            let answer = this
                .catalog
                .run(move |c| {
                    let total = c.count(&q)?;
                    Ok((c.search(&q)?, c.facets(&q)?, total))
                })
                .await;
            if this.state.borrow().results_seq != seq {
                return;
            }
            let (cards, facets, total) = match answer {
                Ok(answer) => answer,
                Err(e) => return tracing::error!("results failed: {e}"),
            };
            let lang = this.state.borrow().lang.clone();
            this.state.borrow_mut().facets = facets.clone();
            let rows = this.card_rows(&cards);
            let sizes: Vec<ChipData> = facets
                .sizes
                .iter()
                .map(|s| adapters::chip(s, query.size.as_ref() == Some(s), true, false))
                .collect();
            let colors: Vec<ChipData> = facets
                .colors
                .iter()
                .map(|c| adapters::chip(c, query.color.as_ref() == Some(c), true, true))
                .collect();
            let currency = cards
                .first()
                .map_or_else(|| "EUR".to_owned(), |c| c.price.currency.clone());
            let prices: Vec<ChipData> = PRICE_BANDS
                .iter()
                .map(|(lo, hi)| {
                    let band = (lo * 100, hi.saturating_mul(100));
                    adapters::chip(
                        &price_band_label(*lo, *hi, &currency, &lang),
                        query.price_band == Some(band),
                        true,
                        false,
                    )
                })
                .collect();
            let (title, eyebrow) = match &query.category {
                Some(path) => (
                    adapters::category_name(path).to_owned(),
                    path.rsplit_once(" > ")
                        .map(|(p, _)| p.to_uppercase())
                        .unwrap_or_default(),
                ),
                None => (format!("« {} »", query.text.trim()), String::new()),
            };
            let any_filter = query.size.is_some()
                || query.color.is_some()
                || query.price_band.is_some()
                || query.in_stock_at.is_some();
            this.with_window(|w| {
                let results = w.global::<ResultsAdapter>();
                results.set_title(title.as_str().into());
                results.set_eyebrow(eyebrow.as_str().into());
                results.set_results(ModelRc::new(VecModel::from(rows)));
                results.set_total(total as i32);
                results.set_sizes(ModelRc::new(VecModel::from(sizes)));
                results.set_colors(ModelRc::new(VecModel::from(colors)));
                results.set_prices(ModelRc::new(VecModel::from(prices)));
                results.set_in_stock_here(query.in_stock_at.is_some());
                results.set_any_filter(any_filter);
            });
            this.load_card_images(&cards, |w| w.global::<ResultsAdapter>().get_results(), CARD_PICTURE);
        });
    }

    // ----- product sheet -----

    pub fn open_product(self: &Rc<Self>, group_id: &str) {
        let mut state = self.state.borrow_mut();
        if state.sheet.as_ref().is_none_or(|s| s.group_id != group_id) {
            state.sheet = None;
            state.chosen_sku = None;
        }
        let sheet_id = group_id.to_owned();
        drop(state);
        self.load_product(sheet_id);
        self.go(Screen::Product);
    }

    fn refresh_product(self: &Rc<Self>) {
        let id = self.state.borrow().sheet.as_ref().map(|s| s.group_id.clone());
        if let Some(id) = id {
            self.load_product(id);
        }
    }

    fn load_product(self: &Rc<Self>, group_id: String) {
        let mut state = self.state.borrow_mut();
        state.product_seq += 1;
        let seq = state.product_seq;
        let lang = state.content_lang.clone();
        drop(state);
        let store = self.store.clone();
        let this = self.clone();
        self.spawn(async move {
            let answer = this.catalog.run(move |c| c.product(&lang, &group_id, &store)).await;
            if this.state.borrow().product_seq != seq {
                return;
            }
            match answer {
                Ok(Some(sheet)) => {
                    this.state.borrow_mut().sheet = Some(Rc::new(sheet));
                    this.show_product(true);
                }
                Ok(None) => tracing::warn!("product is no longer in the catalog"),
                Err(e) => tracing::error!("cannot load product: {e}"),
            }
        });
    }

    /// Selects a variant of the open product by SKU.
    pub fn choose_sku(self: &Rc<Self>, sku: &str) {
        self.state.borrow_mut().chosen_sku = Some(sku.to_owned());
        self.show_product(true);
    }

    fn choose_variant(self: &Rc<Self>, color: Option<usize>, size: Option<usize>) {
        let state = self.state.borrow();
        let Some(sheet) = state.sheet.clone() else { return };
        let current = state
            .chosen_sku
            .as_ref()
            .and_then(|sku| sheet.variants.iter().find(|v| &v.sku == sku));
        let mut want_color = current.and_then(|v| v.color.clone());
        let mut want_size = current.and_then(|v| v.size.clone());
        drop(state);
        if let Some(i) = color {
            want_color = sheet.colors().get(i).cloned();
        }
        if let Some(i) = size {
            want_size = sheet.sizes().get(i).cloned();
        }
        let sku = sheet
            .pick(want_color.as_deref(), want_size.as_deref())
            .map(|v| v.sku.clone());
        let color_changed = color.is_some();
        self.state.borrow_mut().chosen_sku = sku;
        self.show_product(color_changed);
    }

    /// Fills the product adapter for the chosen variant; reloads pictures when the colour
    /// (and so the gallery) changed.
    fn show_product(self: &Rc<Self>, new_pictures: bool) {
        let mut state = self.state.borrow_mut();
        let Some(sheet) = state.sheet.clone() else { return };
        let chosen = state
            .chosen_sku
            .as_ref()
            .and_then(|sku| sheet.variants.iter().find(|v| &v.sku == sku))
            .or_else(|| first_available(&sheet))
            .cloned();
        let Some(chosen) = chosen else { return };
        state.chosen_sku = Some(chosen.sku.clone());
        let lang = state.lang.clone();
        let saved = state.is_saved(&chosen.sku);
        drop(state);
        let now = self.now();
        let (colors, sizes) = adapters::variant_chips(&sheet, &chosen);
        let stock = adapters::stock(&chosen);
        let sale = chosen.active_sale(now);
        self.with_window(|w| {
            let p = w.global::<ProductAdapter>();
            p.set_title(sheet.title.as_str().into());
            p.set_brand(sheet.brand.as_deref().unwrap_or_default().to_uppercase().into());
            p.set_category(sheet.category.as_deref().unwrap_or_default().into());
            p.set_description(sheet.description.as_str().into());
            p.set_sku(chosen.sku.as_str().into());
            p.set_has_link(
                sheet
                    .link
                    .as_deref()
                    .and_then(|l| links::product(l, &self.store))
                    .is_some(),
            );
            p.set_color_name(chosen.color.as_deref().unwrap_or_default().into());
            p.set_colors(ModelRc::new(VecModel::from(colors)));
            p.set_sizes(ModelRc::new(VecModel::from(sizes)));
            p.set_price(crate::domain::format_price(&chosen.price, &lang).into());
            p.set_sale_price(
                sale.map(|s| crate::domain::format_price(&s.price, &lang))
                    .unwrap_or_default()
                    .into(),
            );
            p.set_sale_ends(adapters::sale_end(&chosen, now, &lang));
            p.set_stock(stock.state);
            p.set_stock_here(stock.here);
            p.set_other_shops(stock.other_shops);
            p.set_online(stock.online);
            p.set_saved(saved);
            if new_pictures {
                p.set_image_index(0);
                let blanks: Vec<Image> = chosen.images.iter().map(|_| Image::default()).collect();
                p.set_images(ModelRc::new(VecModel::from(blanks)));
            }
        });
        if new_pictures {
            for (i, url) in chosen.images.iter().enumerate() {
                self.load_row_image(
                    url.clone(),
                    SHEET_PICTURE,
                    i,
                    |w| w.global::<ProductAdapter>().get_images(),
                    |row, image| {
                        *row = image;
                    },
                );
            }
        }
    }

    // ----- wishlist -----

    /// Starts a new anonymous visit: an empty wishlist that belongs to no one yet.
    pub fn begin_visit(self: &Rc<Self>) {
        {
            let mut state = self.state.borrow_mut();
            state.visit = crate::sync::driver::random_id();
            state.customer = None;
            state.saved.clear();
        }
        self.start_session_clock();
        self.refresh_wishlist();
    }

    /// Whose list the hearts edit: the signed-in customer's, else the visit's.
    fn owner(&self) -> Owner {
        let state = self.state.borrow();
        match state.customer {
            Some(alias) => Owner::Alias(alias.to_string()),
            None => Owner::Visit(state.visit.clone()),
        }
    }

    /// Saves or removes the chosen variant of the open product.
    fn toggle_chosen(self: &Rc<Self>) {
        let state = self.state.borrow();
        let Some(sku) = state.chosen_sku.clone() else { return };
        let action = if state.is_saved(&sku) {
            Action::Remove
        } else {
            Action::Add
        };
        drop(state);
        self.edit_wishlist(vec![(sku, action)]);
    }

    /// A card's heart: removes every variant of the product from the list, or saves the
    /// one the shopper's filters point to (`use_filters`, on the results screen), else the
    /// one its sheet would open on.
    fn toggle_card(self: &Rc<Self>, group_id: &str, use_filters: bool) {
        let state = self.state.borrow();
        let saved: Vec<(String, Action)> = state
            .saved
            .iter()
            .filter(|s| s.group_id.as_deref() == Some(group_id))
            .map(|s| (s.sku.clone(), Action::Remove))
            .collect();
        let filters = match (&state.results, use_filters) {
            (Some(q), true) => (q.color.clone(), q.size.clone()),
            _ => (None, None),
        };
        let lang = state.content_lang.clone();
        drop(state);
        if !saved.is_empty() {
            return self.edit_wishlist(saved);
        }
        let (store, group, this) = (self.store.clone(), group_id.to_owned(), self.clone());
        self.spawn(async move {
            let sku = match this.catalog.run(move |c| c.product(&lang, &group, &store)).await {
                Ok(sheet) => sheet
                    .and_then(|s| card_variant(&s, filters.0.as_deref(), filters.1.as_deref()).map(|v| v.sku.clone())),
                Err(e) => {
                    tracing::error!("cannot load the product to save: {e}");
                    None
                }
            };
            match sku {
                Some(sku) => this.edit_wishlist(vec![(sku, Action::Add)]),
                None => this.notify(Notice::SaveFailed),
            }
        });
    }

    /// Saves `sku` on this visit's list, as a tap on its heart would.
    pub fn save_sku(self: &Rc<Self>, sku: &str) {
        self.edit_wishlist(vec![(sku.to_owned(), Action::Add)]);
    }

    /// Applies edits to this visit's list, each one transaction for the list and the
    /// outbox; then wakes the sender and shows the list as it now is.
    fn edit_wishlist(self: &Rc<Self>, edits: Vec<(String, Action)>) {
        let owner = self.owner();
        let visit = self.state.borrow().visit.clone();
        let now = self.now();
        let notice = match edits.last() {
            Some((_, Action::Add)) => Notice::Saved,
            _ => Notice::Removed,
        };
        let this = self.clone();
        self.spawn(async move {
            let answer = this
                .catalog
                .run(move |c| {
                    let mut queued = false;
                    for (sku, action) in &edits {
                        let edited = outbox::edit(c.connection(), now, &owner, sku, *action, Some(&visit))?;
                        queued |= matches!(edited, Edited::Queued { .. });
                    }
                    Ok(queued)
                })
                .await;
            match answer {
                Ok(queued) => {
                    if queued && let Some(sync) = &this.sync {
                        sync.wake();
                    }
                    this.notify(notice);
                }
                Err(e) => {
                    tracing::error!("cannot save the wishlist: {e}");
                    this.notify(Notice::SaveFailed);
                }
            }
            this.refresh_wishlist();
        });
    }

    /// Reloads this visit's list with its products, and every heart on screen.
    fn refresh_wishlist(self: &Rc<Self>) {
        let mut state = self.state.borrow_mut();
        state.wishlist_seq += 1;
        let seq = state.wishlist_seq;
        let lang = state.content_lang.clone();
        drop(state);
        let (owner, store, now, this) = (self.owner(), self.store.clone(), self.now(), self.clone());
        self.spawn(async move {
            let answer = this
                .catalog
                .run(move |c| {
                    let lines = outbox::wishlist(c.connection(), &owner)?;
                    lines
                        .into_iter()
                        .map(|line| Ok((saved_sheet(c, &lang, &line.sku, &store)?, line.sku)))
                        .collect::<Result<Vec<_>, CatalogError>>()
                })
                .await;
            if this.state.borrow().wishlist_seq != seq {
                return;
            }
            let lines = match answer {
                Ok(lines) => lines,
                Err(e) => return tracing::error!("cannot load the wishlist: {e}"),
            };
            let lang = this.state.borrow().lang.clone();
            let mut rows = Vec::with_capacity(lines.len());
            let mut pictures = Vec::new();
            for (i, (sheet, sku)) in lines.iter().enumerate() {
                let variant = sheet
                    .as_ref()
                    .and_then(|s| s.variants.iter().find(|v| &v.sku == sku).map(|v| (s, v)));
                if let Some(url) = variant.and_then(|(_, v)| v.images.first()) {
                    pictures.push((i, sku.clone(), url.clone()));
                }
                rows.push(adapters::wishlist_item(sku, variant, &lang, now));
            }
            this.state.borrow_mut().saved = lines
                .into_iter()
                .map(|(sheet, sku)| Saved {
                    sku,
                    group_id: sheet.map(|s| s.group_id),
                })
                .collect();
            this.with_window(|w| {
                w.global::<AppAdapter>().set_wishlist_count(rows.len() as i32);
                w.global::<WishlistAdapter>()
                    .set_items(ModelRc::new(VecModel::from(rows)));
            });
            for (i, sku, url) in pictures {
                this.load_row_image(
                    url,
                    LINE_PICTURE,
                    i,
                    |w| w.global::<WishlistAdapter>().get_items(),
                    move |row, image| {
                        if row.sku == sku.as_str() {
                            row.image = image;
                        }
                    },
                );
            }
            this.show_hearts();
            this.refresh_status();
        });
    }

    /// Fills or empties the hearts on the cards and the sheet on screen.
    fn show_hearts(&self) {
        let state = self.state.borrow();
        let groups = state.saved_groups();
        let sheet_saved = state.chosen_sku.as_ref().is_some_and(|sku| state.is_saved(sku));
        self.with_window(|w| {
            let models = [
                w.global::<HomeAdapter>().get_featured(),
                w.global::<ResultsAdapter>().get_results(),
            ];
            for model in models {
                for i in 0..model.row_count() {
                    let Some(mut row) = model.row_data(i) else { continue };
                    let saved = groups.contains(row.id.as_str());
                    if row.saved != saved {
                        row.saved = saved;
                        model.set_row_data(i, row);
                    }
                }
            }
            w.global::<ProductAdapter>().set_saved(sheet_saved);
        });
    }

    /// Updates the offline banner: this visit's edits not yet on the hub, and whether the
    /// last push failed (and the health screen, when it is open).
    fn refresh_status(self: &Rc<Self>) {
        if self.state.borrow().screen == Screen::StaffHealth {
            self.refresh_health();
        }
        let (owner, this) = (self.owner(), self.clone());
        self.spawn(async move {
            let answer = this
                .catalog
                .run(move |c| {
                    let waiting = outbox::waiting(c.connection(), &owner)?;
                    let failing = outbox::status(c.connection())?.last_error.is_some();
                    let settings = trust::settings(c.connection())?;
                    Ok((waiting, failing, settings))
                })
                .await;
            match answer {
                Ok((waiting, failing, settings)) => this.with_window(|w| {
                    let app = w.global::<AppAdapter>();
                    if let Some(shop) = settings.shops.iter().find(|s| s.code == this.store) {
                        app.set_store_name(shop.name.as_str().into());
                    }
                    app.set_waiting(waiting.min(i32::MAX as u64) as i32);
                    app.set_offline(failing);
                    app.set_can_take_list(settings.list_url.is_some());
                    app.set_can_pair(settings.pairing && this.sync.is_some());
                }),
                Err(e) => tracing::warn!("cannot read the outbox: {e}"),
            }
        });
    }

    /// Opens a wishlist line's product on its saved size and colour.
    pub fn open_saved(self: &Rc<Self>, sku: &str) {
        let group = self
            .state
            .borrow()
            .saved
            .iter()
            .find(|s| s.sku == sku)
            .and_then(|s| s.group_id.clone());
        let Some(group) = group else { return };
        self.open_product(&group);
        self.state.borrow_mut().chosen_sku = Some(sku.to_owned());
    }

    /// Shows `notice` for a moment.
    fn notify(&self, notice: Notice) {
        self.with_window(|w| w.global::<AppAdapter>().set_notice(notice));
        let window = self.window.clone();
        self.notice_timer.start(TimerMode::SingleShot, NOTICE_FOR, move || {
            if let Some(w) = window.upgrade() {
                w.global::<AppAdapter>().set_notice(Notice::None);
            }
        });
    }
}

/// The sheet of the product a saved SKU belongs to, in the shopper's language if it is
/// translated, else in the SKU's own; `None` when the catalog no longer has the SKU.
fn saved_sheet(c: &Catalog, lang: &str, sku: &str, store: &str) -> Result<Option<ProductSheet>, CatalogError> {
    let Some(hit) = c.lookup(sku)? else { return Ok(None) };
    for lang in [lang, hit.lang.as_str()] {
        if let Some(sheet) = c.product(lang, &hit.group_id, store)?
            && sheet.variants.iter().any(|v| v.sku == sku)
        {
            return Ok(Some(sheet));
        }
    }
    Ok(None)
}

/// The variant a card's heart saves: among those matching the colour and size filters,
/// the first in stock here; without a match, the one the sheet opens on.
fn card_variant<'a>(
    sheet: &'a ProductSheet,
    color: Option<&str>,
    size: Option<&str>,
) -> Option<&'a catalog::VariantInfo> {
    let matching = sheet.variants.iter().filter(|v| {
        color.is_none_or(|c| v.color.as_deref() == Some(c)) && size.is_none_or(|s| v.size.as_deref() == Some(s))
    });
    in_stock_first(matching).or_else(|| first_available(sheet))
}

/// The variant a sheet opens on: the first one in stock here, else the first.
fn first_available(sheet: &ProductSheet) -> Option<&catalog::VariantInfo> {
    in_stock_first(sheet.variants.iter())
}

fn in_stock_first<'a>(
    mut variants: impl Iterator<Item = &'a catalog::VariantInfo> + Clone,
) -> Option<&'a catalog::VariantInfo> {
    variants.clone().find(|v| v.in_stock_here()).or_else(|| variants.next())
}

enum Filter {
    Size(usize),
    Color(usize),
    Price(usize),
    InStockHere,
    Clear,
}

fn price_band_label(lo: i64, hi: i64, currency: &str, lang: &str) -> String {
    let whole = |major: i64| {
        let text = crate::domain::format_price(
            &crate::domain::Price {
                minor: major * 100,
                currency: currency.to_owned(),
            },
            lang,
        );
        text.replace(",00", "").replace(".00", "")
    };
    if lo == 0 {
        format!("< {}", whole(hi))
    } else if hi >= i64::MAX / 1000 {
        format!("> {}", whole(lo))
    } else {
        format!("{} – {}", whole(lo), whole(hi))
    }
}
