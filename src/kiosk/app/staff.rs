//! Staff mode: the keypad (reached by tapping the attract screen's corner five times,
//! or by scanning a staff badge), the stock tool and the kiosk's health.
//!
//! Opening the keypad ends any shopper's visit first, and leaving staff mode ("leave",
//! or idling) empties every staff model: the shopper side never shows any of it. PINs
//! are checked on the catalog thread against the hashes the hub sent (`sync::staff`),
//! which also keeps the keypad's lock and the audit events.

use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};
use zeroize::Zeroizing;

use super::Controller;
use crate::catalog::{self, ProductSheet, Query, ShopStock};
use crate::domain::distance_km;
use crate::kiosk::adapters;
use crate::kiosk::session::{Limits, Session};
use crate::kiosk::ui::{
    AppAdapter, Screen, ShopStockData, StaffAction, StaffAdapter, StaffNameData, StaffPinState, StaffResultData,
};
use crate::protocol::Shop;
use crate::scan::payload::{self, Payload};
use crate::sync::staff::{self as kept, Assistant, Checked};
use crate::sync::{outbox, trust};

/// Taps on the attract screen's corner, within [`CORNER_WITHIN`], that open the keypad.
const CORNER_TAPS: usize = 5;
const CORNER_WITHIN: Duration = Duration::from_secs(3);
/// Staff mode idles out as a visit does (a tablet left in staff mode goes back to the
/// shop floor), but a shift is longer than a visit.
const STAFF_MAX: Duration = Duration::from_secs(4 * 3600);
/// Rows of the stock tool's search results.
const RESULT_ROWS: usize = 8;

/// The staff side's memory, from the keypad to "leave".
#[derive(Default)]
pub(super) struct Staff {
    chosen: Option<i64>,
    pin: Zeroizing<String>,
    locked_until: Option<Timestamp>,
    /// Set once the PIN was right.
    assistant: Option<Assistant>,
    query: String,
    search_seq: u64,
    lookup_seq: u64,
    sheet: Option<Rc<ProductSheet>>,
    selected: Option<String>,
    figures: Figures,
    shops: Vec<Shop>,
    /// The hub's answer to the health screen's probe: its round trip, or why not.
    probe: Option<Result<Duration, String>>,
}

/// Stock figures for the open product: every shop's, by SKU.
#[derive(Default)]
struct Figures {
    /// From the hub just now, rather than saved at the last pull.
    live: bool,
    /// When the inventory feed said so.
    as_of: Option<Timestamp>,
    by_sku: HashMap<String, Vec<ShopStock>>,
}

impl Figures {
    fn new(levels: Vec<(String, ShopStock)>, as_of: Option<Timestamp>, live: bool) -> Figures {
        let mut by_sku: HashMap<String, Vec<ShopStock>> = HashMap::new();
        for (sku, level) in levels {
            by_sku.entry(sku).or_default().push(level);
        }
        Figures { live, as_of, by_sku }
    }
}

/// What the catalog thread answers for a product the stock tool opens.
struct Lookup {
    sheet: ProductSheet,
    sku: Option<String>,
    levels: Vec<(String, ShopStock)>,
    as_of: Option<Timestamp>,
    shops: Vec<Shop>,
}

impl Controller {
    pub(super) fn in_staff(&self) -> bool {
        self.state.borrow().staff.is_some()
    }

    /// A tap on the attract screen's corner: the fifth within three seconds opens the
    /// keypad. A shopper tapping about never lands five times there so quickly.
    pub(super) fn staff_corner(self: &Rc<Self>) {
        let now = Instant::now();
        let mut state = self.state.borrow_mut();
        state.corner_taps.retain(|t| now.duration_since(*t) < CORNER_WITHIN);
        state.corner_taps.push(now);
        let open = state.corner_taps.len() >= CORNER_TAPS;
        if open {
            state.corner_taps.clear();
        }
        drop(state);
        if open {
            self.open_keypad(None);
        }
    }

    /// Opens the keypad, with `chosen`'s name picked (a scanned badge). A shopper's
    /// visit under way ends first.
    pub fn open_keypad(self: &Rc<Self>, chosen: Option<i64>) {
        if self.state.borrow().session.is_some() && !self.in_staff() {
            self.end_session();
        }
        {
            let mut state = self.state.borrow_mut();
            state.staff = Some(Staff {
                chosen,
                ..Staff::default()
            });
            let limits = Limits {
                max: STAFF_MAX,
                ..self.limits.get()
            };
            state.session = Some(Session::new(limits, Instant::now()));
            state.screen = Screen::StaffPin;
            state.history.clear();
        }
        self.show_screen();
        self.with_window(|w| {
            let staff = w.global::<StaffAdapter>();
            staff.set_pin_length(0);
            staff.set_pin_state(StaffPinState::Ready);
            staff.set_checking(false);
            staff.set_names(ModelRc::default());
        });
        let this = self.clone();
        let now = self.now();
        self.spawn(async move {
            let answer = this
                .catalog
                .run(move |c| Ok((kept::assistants(c.connection())?, kept::guard(c.connection())?)))
                .await;
            let (names, guard) = match answer {
                Ok(answer) => answer,
                Err(e) => return tracing::error!("cannot read the staff list: {e}"),
            };
            let chosen = {
                let mut state = this.state.borrow_mut();
                let Some(staff) = state.staff.as_mut() else { return };
                staff.locked_until = guard.locked(now);
                // A badge of someone not on this shop's list chooses nobody.
                staff.chosen = staff.chosen.filter(|id| names.iter().any(|n| n.id == *id));
                if names.len() == 1 {
                    staff.chosen.get_or_insert(names[0].id);
                }
                staff.chosen
            };
            let rows: Vec<StaffNameData> = names
                .iter()
                .map(|n| StaffNameData {
                    id: small_id(n.id),
                    name: n.name.as_str().into(),
                })
                .collect();
            this.with_window(|w| {
                let staff = w.global::<StaffAdapter>();
                staff.set_names(ModelRc::new(VecModel::from(rows)));
                staff.set_chosen(chosen.map_or(-1, small_id));
            });
            this.staff_tick();
        });
    }

    pub(super) fn choose_assistant(&self, id: i32) {
        if let Some(staff) = self.state.borrow_mut().staff.as_mut() {
            staff.chosen = Some(i64::from(id));
        }
        self.with_window(|w| {
            let staff = w.global::<StaffAdapter>();
            staff.set_chosen(id);
            staff.set_pin_state(StaffPinState::Ready);
        });
    }

    pub(super) fn pin_key(&self, digit: &str) {
        self.edit_pin(|pin| {
            if pin.len() < *crate::pin::DIGITS.end() && digit.len() == 1 && digit.bytes().all(|b| b.is_ascii_digit()) {
                pin.push_str(digit);
            }
        });
    }

    pub(super) fn pin_back(&self) {
        self.edit_pin(|pin| {
            pin.pop();
        });
    }

    fn edit_pin(&self, edit: impl FnOnce(&mut String)) {
        let length = {
            let mut state = self.state.borrow_mut();
            let Some(staff) = state.staff.as_mut().filter(|s| s.assistant.is_none()) else {
                return;
            };
            edit(&mut staff.pin);
            staff.pin.len()
        };
        self.with_window(|w| {
            let staff = w.global::<StaffAdapter>();
            staff.set_pin_length(length as i32);
            staff.set_pin_state(StaffPinState::Ready);
        });
    }

    /// Checks the PIN typed for the chosen name, off the UI thread (a slow hash).
    pub(super) fn pin_enter(self: &Rc<Self>) {
        let (id, pin) = {
            let mut state = self.state.borrow_mut();
            let Some(staff) = state.staff.as_mut().filter(|s| s.assistant.is_none()) else {
                return;
            };
            let Some(id) = staff.chosen else { return };
            if !crate::pin::valid(&staff.pin) {
                return;
            }
            (id, std::mem::take(&mut staff.pin))
        };
        self.with_window(|w| {
            let staff = w.global::<StaffAdapter>();
            staff.set_pin_length(0);
            staff.set_checking(true);
        });
        let (this, now) = (self.clone(), self.now());
        self.spawn(async move {
            let checked = this
                .catalog
                .run(move |c| Ok(kept::check(c.connection(), id, &pin, now)?))
                .await;
            if let Some(sync) = &this.sync {
                sync.wake();
            }
            if !this.in_staff() {
                return;
            }
            this.with_window(|w| w.global::<StaffAdapter>().set_checking(false));
            match checked {
                Ok(Checked::Welcome(assistant)) => this.enter_staff(assistant),
                Ok(Checked::Wrong { left }) => this.with_window(|w| {
                    let staff = w.global::<StaffAdapter>();
                    staff.set_pin_state(StaffPinState::Wrong);
                    staff.set_attempts_left(left as i32);
                }),
                Ok(Checked::Locked { until }) => {
                    if let Some(staff) = this.state.borrow_mut().staff.as_mut() {
                        staff.locked_until = Some(until);
                    }
                    this.with_window(|w| w.global::<StaffAdapter>().set_pin_state(StaffPinState::Locked));
                    this.staff_tick();
                }
                Ok(Checked::Unknown) => {
                    this.with_window(|w| w.global::<StaffAdapter>().set_pin_state(StaffPinState::Unknown));
                }
                Err(e) => tracing::error!("cannot check the PIN: {e}"),
            }
        });
    }

    fn enter_staff(self: &Rc<Self>, assistant: Assistant) {
        tracing::info!(staff = assistant.id, "staff mode opened");
        let name = assistant.name.clone();
        if let Some(staff) = self.state.borrow_mut().staff.as_mut() {
            staff.assistant = Some(assistant);
        }
        self.with_window(|w| {
            let staff = w.global::<StaffAdapter>();
            staff.set_staff_name(name.as_str().into());
            staff.set_names(ModelRc::default());
            staff.set_pin_state(StaffPinState::Ready);
            staff.set_can_scan(w.global::<AppAdapter>().get_has_camera());
        });
        self.clear_stock();
        self.staff_screen(Screen::StaffStock);
    }

    /// Moves between the staff screens; only once the PIN was right.
    pub(super) fn staff_screen(self: &Rc<Self>, screen: Screen) {
        if self.state.borrow().staff.as_ref().is_none_or(|s| s.assistant.is_none()) {
            return;
        }
        self.state.borrow_mut().screen = screen;
        self.show_screen();
        if screen == Screen::StaffHealth {
            self.probe_hub();
            self.refresh_health();
        }
    }

    /// Leaves staff mode ("leave", or idle): back to the attract screen, every staff
    /// model emptied.
    pub fn exit_staff(self: &Rc<Self>) {
        {
            let mut state = self.state.borrow_mut();
            state.staff = None;
            state.session = None;
            state.screen = Screen::Attract;
            state.history.clear();
        }
        self.close_scan();
        self.with_window(|w| {
            let staff = w.global::<StaffAdapter>();
            staff.set_names(ModelRc::default());
            staff.set_chosen(-1);
            staff.set_pin_length(0);
            staff.set_pin_state(StaffPinState::Ready);
            staff.set_locked_seconds(0);
            staff.set_staff_name(SharedString::new());
            staff.set_action(StaffAction::None);
            let app = w.global::<AppAdapter>();
            app.set_idle_seconds(0);
        });
        self.clear_stock();
        self.show_screen();
    }

    /// Every second while the keypad is locked: the countdown.
    pub(super) fn staff_tick(&self) {
        let now = self.now();
        let seconds = self
            .state
            .borrow()
            .staff
            .as_ref()
            .and_then(|s| s.locked_until)
            .map_or(0, |until| until.duration_since(now).as_secs().max(0));
        self.with_window(|w| {
            let staff = w.global::<StaffAdapter>();
            let locked = seconds > 0;
            staff.set_locked_seconds(i32::try_from(seconds).unwrap_or(i32::MAX));
            if !locked && staff.get_pin_state() == StaffPinState::Locked {
                staff.set_pin_state(StaffPinState::Ready);
            }
        });
    }

    // ----- the stock tool -----

    fn clear_stock(&self) {
        if let Some(staff) = self.state.borrow_mut().staff.as_mut() {
            staff.query.clear();
            staff.sheet = None;
            staff.selected = None;
            staff.figures = Figures::default();
            staff.search_seq += 1;
            staff.lookup_seq += 1;
        }
        self.with_window(|w| {
            let staff = w.global::<StaffAdapter>();
            staff.set_query(SharedString::new());
            staff.set_typing(false);
            staff.set_results(ModelRc::default());
            staff.set_not_found(false);
            staff.set_has_product(false);
            staff.set_title(SharedString::new());
            staff.set_brand(SharedString::new());
            staff.set_sizes(ModelRc::default());
            staff.set_rows(ModelRc::default());
            staff.set_shops(ModelRc::default());
            staff.set_sku(SharedString::new());
            staff.set_variant(SharedString::new());
            staff.set_gtin(SharedString::new());
            staff.set_available_at(SharedString::new());
            staff.set_out_here(false);
        });
    }

    pub(super) fn start_typing(&self) {
        self.with_window(|w| w.global::<StaffAdapter>().set_typing(true));
    }

    /// The stock tool's search field, as its keyboard edits it: the matching products
    /// under it as the assistant types.
    pub(super) fn edit_staff_query(self: &Rc<Self>, edit: impl FnOnce(&mut String)) {
        let (text, seq) = {
            let mut state = self.state.borrow_mut();
            let Some(staff) = state.staff.as_mut() else { return };
            edit(&mut staff.query);
            if staff.query.chars().count() > catalog::MAX_QUERY_CHARS {
                staff.query = staff.query.chars().take(catalog::MAX_QUERY_CHARS).collect();
            }
            staff.search_seq += 1;
            (staff.query.clone(), staff.search_seq)
        };
        self.with_window(|w| {
            let staff = w.global::<StaffAdapter>();
            staff.set_query(text.as_str().into());
            staff.set_typing(true);
            staff.set_not_found(false);
        });
        if text.trim().is_empty() {
            return self.with_window(|w| w.global::<StaffAdapter>().set_results(ModelRc::default()));
        }
        let lang = self.state.borrow().content_lang.clone();
        let (this, now) = (self.clone(), self.now());
        self.spawn(async move {
            let answer = this
                .catalog
                .run(move |c| {
                    let mut rows = Vec::new();
                    // The code itself, then SKUs that begin so (in capitals: the
                    // keyboard types lower case).
                    let exact = c.lookup(&text)?;
                    for hit in exact
                        .into_iter()
                        .chain(c.skus_starting(&text.to_uppercase(), RESULT_ROWS)?)
                    {
                        if rows.iter().any(|(code, _, _)| *code == hit.sku) {
                            continue;
                        }
                        let title = c.card(&hit.lang, &hit.group_id, now)?.map(|card| card.title);
                        rows.push((hit.sku.clone(), title.unwrap_or_default(), hit.sku));
                    }
                    let mut query = Query::new(&lang, now);
                    query.text = text;
                    query.limit = RESULT_ROWS;
                    for card in c.search(&query)? {
                        rows.push((card.group_id.clone(), card.title, card.group_id));
                    }
                    rows.truncate(RESULT_ROWS);
                    Ok(rows)
                })
                .await;
            if this.state.borrow().staff.as_ref().is_none_or(|s| s.search_seq != seq) {
                return;
            }
            let rows = match answer {
                Ok(rows) => rows,
                Err(e) => return tracing::error!("staff search failed: {e}"),
            };
            let empty = rows.is_empty();
            let rows: Vec<StaffResultData> = rows
                .into_iter()
                .map(|(code, title, detail)| StaffResultData {
                    code: code.into(),
                    title: title.into(),
                    detail: detail.into(),
                })
                .collect();
            this.with_window(|w| {
                let staff = w.global::<StaffAdapter>();
                staff.set_results(ModelRc::new(VecModel::from(rows)));
                staff.set_not_found(empty);
            });
        });
    }

    /// The keyboard's "done": opens the first result.
    pub(super) fn staff_search(self: &Rc<Self>) {
        let first = self.window.upgrade().and_then(|w| {
            let results = w.global::<StaffAdapter>().get_results();
            slint::Model::row_data(&results, 0).map(|r| r.code.to_string())
        });
        match first {
            Some(code) => self.look_up(&code),
            None => self.with_window(|w| w.global::<StaffAdapter>().set_not_found(true)),
        }
    }

    /// Opens a product in the stock tool by SKU, GTIN, MPN or product group: this shop's
    /// saved figures at once, then every shop's live from the hub.
    pub fn look_up(self: &Rc<Self>, code: &str) {
        let seq = {
            let mut state = self.state.borrow_mut();
            let Some(staff) = state.staff.as_mut().filter(|s| s.assistant.is_some()) else {
                return;
            };
            staff.lookup_seq += 1;
            staff.lookup_seq
        };
        self.with_window(|w| w.global::<StaffAdapter>().set_typing(false));
        let (code, lang) = (code.to_owned(), self.state.borrow().content_lang.clone());
        let (store, this) = (self.store.clone(), self.clone());
        self.spawn(async move {
            let answer = this
                .catalog
                .run(move |c| {
                    let (group, sku) = match c.lookup(&code)? {
                        Some(hit) => (hit.group_id, Some(hit.sku)),
                        None => (code, None),
                    };
                    let Some(sheet) = c.product(&lang, &group, &store)? else {
                        return Ok(None);
                    };
                    let skus: Vec<String> = sheet.variants.iter().map(|v| v.sku.clone()).collect();
                    let conn = c.connection();
                    Ok(Some(Lookup {
                        levels: catalog::stock_levels(conn, &skus)?,
                        as_of: catalog::inventory_as_of(conn)?,
                        shops: trust::settings(conn)?.shops,
                        sheet,
                        sku,
                    }))
                })
                .await;
            if this.state.borrow().staff.as_ref().is_none_or(|s| s.lookup_seq != seq) {
                return;
            }
            let found = match answer {
                Ok(found) => found,
                Err(e) => return tracing::error!("stock lookup failed: {e}"),
            };
            let Some(found) = found else {
                return this.with_window(|w| {
                    let staff = w.global::<StaffAdapter>();
                    staff.set_not_found(true);
                    staff.set_typing(true);
                });
            };
            let skus: Vec<String> = found.sheet.variants.iter().map(|v| v.sku.clone()).collect();
            {
                let mut state = this.state.borrow_mut();
                let Some(staff) = state.staff.as_mut() else { return };
                staff.selected = found
                    .sku
                    .or_else(|| found.sheet.variants.first().map(|v| v.sku.clone()));
                staff.sheet = Some(Rc::new(found.sheet));
                staff.figures = Figures::new(found.levels, found.as_of, false);
                staff.shops = found.shops;
            }
            this.show_stock();
            this.fetch_live(seq, skus);
        });
    }

    /// Asks the hub for every shop's figures now; keeps the saved ones if it cannot.
    fn fetch_live(self: &Rc<Self>, seq: u64, skus: Vec<String>) {
        let Some(sync) = self.sync.clone() else { return };
        let this = self.clone();
        self.spawn(async move {
            let answer = sync.stock(skus).await;
            if this.state.borrow().staff.as_ref().is_none_or(|s| s.lookup_seq != seq) {
                return;
            }
            let answer = match answer {
                Ok(answer) => answer,
                Err(e) => return tracing::info!("live stock unavailable, showing saved figures: {e:#}"),
            };
            let levels = answer
                .levels
                .into_iter()
                .map(|l| {
                    let level = ShopStock {
                        store_code: l.store_code,
                        quantity: l.quantity,
                        availability: crate::domain::Availability::parse(&l.availability)
                            .unwrap_or(crate::domain::Availability::OutOfStock),
                        updated_at: answer.as_of.unwrap_or(Timestamp::UNIX_EPOCH),
                    };
                    (l.sku, level)
                })
                .collect();
            if let Some(staff) = this.state.borrow_mut().staff.as_mut() {
                staff.figures = Figures::new(levels, answer.as_of, true);
            }
            this.show_stock();
        });
    }

    pub(super) fn select_variant(self: &Rc<Self>, sku: &str) {
        if let Some(staff) = self.state.borrow_mut().staff.as_mut() {
            staff.selected = Some(sku.to_owned());
        }
        self.show_stock();
    }

    /// Fills the stock tool for the open product and the selected variant.
    fn show_stock(&self) {
        let state = self.state.borrow();
        let Some(staff) = state.staff.as_ref() else { return };
        let Some(sheet) = staff.sheet.clone() else { return };
        let selected = staff.selected.clone().unwrap_or_default();
        let figures = &staff.figures;
        let now = self.now();
        let here = |sku: &str| {
            figures
                .by_sku
                .get(sku)
                .and_then(|levels| levels.iter().find(|l| l.store_code == self.store))
        };
        let (sizes, rows) = adapters::stock_matrix(&sheet, here, &selected);
        let variant = sheet.variants.iter().find(|v| v.sku == selected);
        let position = |code: &str| {
            staff
                .shops
                .iter()
                .find(|s| s.code == code)
                .and_then(|s| Some((s.latitude?, s.longitude?)))
        };
        let own = position(&self.store);
        let minutes = adapters::minutes_since(figures.as_of, now);
        let others: Vec<&ShopStock> = figures
            .by_sku
            .get(&selected)
            .map(|levels| levels.iter().filter(|l| l.store_code != self.store).collect())
            .unwrap_or_default();
        let shops: Vec<ShopStockData> = adapters::shop_rows(
            &others,
            |code| {
                staff
                    .shops
                    .iter()
                    .find(|s| s.code == code)
                    .map_or_else(|| code.to_owned(), |s| s.name.clone())
            },
            |code| Some(distance_km(own?, position(code)?)),
            minutes,
        );
        let out_here = variant.is_some() && !here(&selected).is_some_and(ShopStock::is_available);
        let here_quantity = here(&selected).and_then(|l| l.quantity);
        let live = figures.live;
        drop(state);
        let label: Vec<&str> = variant
            .map(|v| [v.color.as_deref(), v.size.as_deref()].into_iter().flatten().collect())
            .unwrap_or_default();
        self.with_window(|w| {
            let ui = w.global::<StaffAdapter>();
            ui.set_has_product(true);
            ui.set_not_found(false);
            ui.set_title(sheet.title.as_str().into());
            ui.set_brand(sheet.brand.as_deref().unwrap_or_default().to_uppercase().into());
            ui.set_sizes(ModelRc::new(VecModel::from(sizes)));
            ui.set_rows(ModelRc::new(VecModel::from(rows)));
            ui.set_sku(selected.as_str().into());
            ui.set_variant(label.join(" · ").into());
            ui.set_gtin(variant.and_then(|v| v.gtin.as_deref()).unwrap_or_default().into());
            ui.set_online(variant.is_some_and(|v| v.online.is_available()));
            ui.set_out_here(out_here);
            ui.set_here_known(here_quantity.is_some());
            ui.set_here_quantity(here_quantity.map_or(0, |q| i32::try_from(q).unwrap_or(i32::MAX)));
            ui.set_available_at(adapters::available_at(&shops));
            ui.set_shops(ModelRc::new(VecModel::from(shops)));
            ui.set_here_minutes(minutes);
            ui.set_live(live);
        });
    }

    /// A code the camera read while in staff mode: a product's opens its stock; a
    /// shopper's code is not for this side.
    pub(super) fn staff_scanned(self: &Rc<Self>, text: &str) {
        if let Payload::Product(code) = payload::classify(text) {
            self.look_up(code.as_lookup());
        }
    }

    // ----- health -----

    /// Asks the hub whether it answers, for the health screen (again at each "sync now").
    fn probe_hub(self: &Rc<Self>) {
        let Some(sync) = self.sync.clone() else { return };
        let this = self.clone();
        Controller::spawn_waiting(async move {
            let answer = sync.probe().await.map_err(|e| format!("{e:#}"));
            if let Some(staff) = this.state.borrow_mut().staff.as_mut() {
                staff.probe = Some(answer);
            }
            this.refresh_health();
        });
    }

    /// Reads the kiosk's health into the health screen.
    pub(super) fn refresh_health(self: &Rc<Self>) {
        let data_dir = self.data_dir.borrow().clone();
        let this = self.clone();
        let now = self.now();
        self.spawn(async move {
            let answer = this
                .catalog
                .run(move |c| {
                    let conn = c.connection();
                    let products: i64 =
                        conn.query_row("SELECT COUNT(DISTINCT group_id) FROM product", [], |r| r.get(0))?;
                    // Walking the picture cache is disk work: here, not on the UI thread.
                    let disk = data_dir.as_deref().map(disk_use).unwrap_or((0, 0));
                    Ok((
                        outbox::status(conn)?,
                        kept::events_waiting(conn)?,
                        outbox::device(conn)?,
                        products,
                        catalog::inventory_as_of(conn)?,
                        disk,
                    ))
                })
                .await;
            let (status, events, device, products, inventory, (used, free)) = match answer {
                Ok(answer) => answer,
                Err(e) => return tracing::error!("cannot read the kiosk's health: {e}"),
            };
            let camera = this.camera.borrow().clone();
            let last_read = this.last_read.get();
            let probe = this.state.borrow().staff.as_ref().and_then(|s| s.probe.clone());
            this.with_window(|w| {
                let ui = w.global::<StaffAdapter>();
                // Reachable: the probe says so; before it answers, the last push did not
                // fail and a pull came in lately (every five minutes when all is well).
                let pulled = adapters::minutes_since(status.last_pull, now);
                let (reachable, error, round_trip) = match &probe {
                    Some(Ok(rtt)) => (true, String::new(), i32::try_from(rtt.as_millis()).unwrap_or(i32::MAX)),
                    Some(Err(why)) => (false, why.clone(), -1),
                    None => (
                        status.last_error.is_none() && device.is_some() && (0..=15).contains(&pulled),
                        String::new(),
                        -1,
                    ),
                };
                let error = status.last_error.clone().unwrap_or(error);
                ui.set_sync_ok(reachable && status.last_error.is_none());
                ui.set_hub_ms(round_trip);
                ui.set_sync_error(error.as_str().into());
                ui.set_last_push_minutes(adapters::minutes_since(status.last_push, now));
                ui.set_last_pull_minutes(adapters::minutes_since(status.last_pull, now));
                ui.set_outbox_waiting(status.pending.min(i32::MAX as u64) as i32);
                ui.set_outbox_rejected(status.rejected.min(i32::MAX as u64) as i32);
                ui.set_events_waiting(events.min(i32::MAX as u64) as i32);
                ui.set_hub_address(device.as_ref().map(|d| d.hub_url.as_str()).unwrap_or_default().into());
                ui.set_kiosk(
                    device
                        .as_ref()
                        .map(|d| format!("{} · {}", d.store_code, d.device_id))
                        .unwrap_or_else(|| this.store.clone())
                        .into(),
                );
                match &camera {
                    Some(camera) => {
                        ui.set_camera_name(camera.name.as_str().into());
                        ui.set_camera_fps(format!("{:.1}", camera.stats.fps()).into());
                        ui.set_camera_over_budget(
                            camera
                                .stats
                                .over_budget
                                .load(std::sync::atomic::Ordering::Relaxed)
                                .min(i32::MAX as u64) as i32,
                        );
                    }
                    None => {
                        ui.set_camera_name(SharedString::new());
                        ui.set_camera_fps("—".into());
                        ui.set_camera_over_budget(0);
                    }
                }
                ui.set_camera_read_minutes(
                    last_read.map_or(-1, |t| i32::try_from(t.elapsed().as_secs() / 60).unwrap_or(i32::MAX)),
                );
                ui.set_catalog_products(i32::try_from(products).unwrap_or(i32::MAX));
                ui.set_inventory_minutes(adapters::minutes_since(inventory, now));
                ui.set_app_version(env!("CARGO_PKG_VERSION").into());
                ui.set_disk_data(adapters::bytes(used));
                ui.set_disk_free(adapters::bytes(free));
            });
        });
    }

    /// "Sync now" (`pull_only`: "refresh the catalog"), through the sync thread.
    pub(super) fn staff_sync(self: &Rc<Self>, pull_only: bool) {
        let Some(sync) = self.sync.clone() else {
            let failed = if pull_only {
                StaffAction::RefreshFailed
            } else {
                StaffAction::SyncFailed
            };
            return self.with_window(|w| w.global::<StaffAdapter>().set_action(failed));
        };
        self.with_window(|w| {
            w.global::<StaffAdapter>().set_action(if pull_only {
                StaffAction::Refreshing
            } else {
                StaffAction::Syncing
            })
        });
        let this = self.clone();
        // Waits on the network, not on the kiosk: not pending work.
        Controller::spawn_waiting(async move {
            let action = if pull_only {
                match sync.pull().await {
                    Ok(_) => StaffAction::Refreshed,
                    Err(e) => {
                        tracing::warn!("catalog refresh failed: {e:#}");
                        StaffAction::RefreshFailed
                    }
                }
            } else {
                match sync.sync_now().await {
                    Ok(_) => StaffAction::Synced,
                    Err(e) => {
                        tracing::warn!("sync failed: {e:#}");
                        StaffAction::SyncFailed
                    }
                }
            };
            if this.in_staff() {
                this.with_window(|w| w.global::<StaffAdapter>().set_action(action));
                this.probe_hub();
                this.refresh_health();
            }
        });
    }
}

/// An id as the UI's `int`; staff ids are small, a larger one cannot be chosen.
fn small_id(id: i64) -> i32 {
    i32::try_from(id).unwrap_or(-1)
}

/// Bytes the kiosk's data takes under `dir`, and bytes free on its file system.
fn disk_use(dir: &std::path::Path) -> (u64, u64) {
    fn size(path: &std::path::Path) -> u64 {
        match std::fs::symlink_metadata(path) {
            Ok(m) if m.is_dir() => std::fs::read_dir(path)
                .map(|entries| entries.flatten().map(|e| size(&e.path())).sum())
                .unwrap_or(0),
            Ok(m) => m.len(),
            Err(_) => 0,
        }
    }
    let free = rustix::fs::statvfs(dir)
        .map(|s| s.f_bavail.saturating_mul(s.f_frsize))
        .unwrap_or(0);
    (size(dir), free)
}
