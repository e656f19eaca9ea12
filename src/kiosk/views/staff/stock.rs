//! The stock tool: type (on the kiosk's keyboard) or scan a SKU, GTIN or product code,
//! or a name; the matrix shows every size and colour with this shop's quantity, and a
//! variant's other shops nearest first. The kiosk's saved figures show at once, then
//! every shop's live ones from the hub when it answers. Each look-up is measured, with
//! no visit.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use jiff::Timestamp;
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

use crate::catalog::{self, ProductSheet, Query, ShopStock};
use crate::domain::{Availability, distance_km};
use crate::kiosk::adapters;
use crate::kiosk::context::Ctx;
use crate::kiosk::ui::{AppWindow, ShopStockData, StaffResultData, StaffStockAdapter};
use crate::kiosk::views::on;
use crate::protocol::measure::EventDetail;
use crate::protocol::{Shop, StockAnswer};
use crate::scan::payload::{self, Payload};
use crate::trust;

/// Rows of the search results under the field.
const RESULT_ROWS: usize = 8;

/// Stock figures for the open product: every shop's, by SKU.
#[derive(Debug, Default)]
pub struct Figures {
    /// From the hub just now, rather than saved at the last pull.
    pub live: bool,
    /// When the inventory feed said so.
    pub as_of: Option<Timestamp>,
    pub by_sku: HashMap<String, Vec<ShopStock>>,
}

impl Figures {
    pub fn new(levels: Vec<(String, ShopStock)>, as_of: Option<Timestamp>, live: bool) -> Figures {
        let mut by_sku: HashMap<String, Vec<ShopStock>> = HashMap::new();
        for (sku, level) in levels {
            by_sku.entry(sku).or_default().push(level);
        }
        Figures { live, as_of, by_sku }
    }

    /// The hub's live answer, as figures.
    pub fn live(answer: StockAnswer) -> Figures {
        let at = answer.as_of.unwrap_or(Timestamp::UNIX_EPOCH);
        let levels = answer
            .levels
            .into_iter()
            .map(|l| {
                let level = ShopStock {
                    store_code: l.store_code,
                    quantity: l.quantity,
                    availability: Availability::parse(&l.availability).unwrap_or(Availability::OutOfStock),
                    updated_at: at,
                };
                (l.sku, level)
            })
            .collect();
        Figures::new(levels, answer.as_of, true)
    }

    /// `store`'s figure for `sku`.
    pub fn at(&self, sku: &str, store: &str) -> Option<&ShopStock> {
        self.by_sku.get(sku)?.iter().find(|l| l.store_code == store)
    }

    /// Every other shop's figure for `sku`.
    pub fn elsewhere(&self, sku: &str, store: &str) -> Vec<&ShopStock> {
        self.by_sku
            .get(sku)
            .map(|levels| levels.iter().filter(|l| l.store_code != store).collect())
            .unwrap_or_default()
    }
}

/// The stock tool's memory, from staff mode's start to its end.
#[derive(Debug, Default)]
pub struct StockState {
    pub query: String,
    search_seq: u64,
    lookup_seq: u64,
    pub sheet: Option<Rc<ProductSheet>>,
    pub selected: Option<String>,
    pub figures: Figures,
    pub shops: Vec<Shop>,
}

impl StockState {
    /// The shop's position, if configured.
    fn position(&self, code: &str) -> Option<(f64, f64)> {
        self.shops
            .iter()
            .find(|s| s.code == code)
            .and_then(|s| Some((s.latitude?, s.longitude?)))
    }

    /// A shop's name, or its code when the hub did not name it.
    fn name(&self, code: &str) -> String {
        self.shops
            .iter()
            .find(|s| s.code == code)
            .map_or_else(|| code.to_owned(), |s| s.name.clone())
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

pub struct Stock {
    ctx: Rc<Ctx>,
    state: RefCell<StockState>,
    /// Only in staff mode, once the PIN was right.
    active: std::cell::Cell<bool>,
}

/// The stock tool; its "scan" opens the scan sheet, so the shell wires it.
pub fn setup(window: &AppWindow, ctx: &Rc<Ctx>) -> Rc<Stock> {
    let stock = Rc::new(Stock {
        ctx: ctx.clone(),
        state: RefCell::default(),
        active: Default::default(),
    });
    on!(window, &stock, StaffStockAdapter.on_start_typing, |this| this
        .ctx
        .with_window(|w| w.global::<StaffStockAdapter>().set_typing(true)));
    on!(window, &stock, StaffStockAdapter.on_typed, |this, text| this
        .edit(|q| q.push_str(&text)));
    on!(window, &stock, StaffStockAdapter.on_backspace, |this| this.edit(|q| {
        q.pop();
    }));
    on!(window, &stock, StaffStockAdapter.on_clear, |this| this
        .edit(String::clear));
    on!(window, &stock, StaffStockAdapter.on_search, |this| this.open_first());
    on!(window, &stock, StaffStockAdapter.on_open_result, |this, code| this
        .look_up(&code));
    on!(window, &stock, StaffStockAdapter.on_select, |this, sku| this
        .select(&sku));
    stock
}

impl Stock {
    /// Staff mode begins (`can_scan`: a camera is there) or ends; either way the tool
    /// starts empty.
    pub fn set_active(&self, active: bool, can_scan: bool) {
        self.active.set(active);
        self.clear();
        self.ctx
            .with_window(|w| w.global::<StaffStockAdapter>().set_can_scan(can_scan));
    }

    /// A code the camera read in staff mode: a product's opens its stock; a shopper's
    /// code is not for this side.
    pub fn scanned(self: &Rc<Self>, text: &str) {
        if let Payload::Product(code) = payload::classify(text) {
            self.look_up(code.as_lookup());
        }
    }

    /// The search field, as its keyboard edits it: the matching products under it.
    fn edit(self: &Rc<Self>, edit: impl FnOnce(&mut String)) {
        if !self.active.get() {
            return;
        }
        let (text, seq) = {
            let mut state = self.state.borrow_mut();
            edit(&mut state.query);
            if state.query.chars().count() > catalog::MAX_QUERY_CHARS {
                state.query = state.query.chars().take(catalog::MAX_QUERY_CHARS).collect();
            }
            state.search_seq += 1;
            (state.query.clone(), state.search_seq)
        };
        self.ctx.with_window(|w| {
            let stock = w.global::<StaffStockAdapter>();
            stock.set_query(text.as_str().into());
            stock.set_typing(true);
            stock.set_not_found(false);
        });
        if text.trim().is_empty() {
            return self
                .ctx
                .with_window(|w| w.global::<StaffStockAdapter>().set_results(ModelRc::default()));
        }
        let (this, lang, now) = (self.clone(), self.ctx.content_lang(), self.ctx.now());
        self.ctx.spawn(async move {
            let answer = this
                .ctx
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
            if this.state.borrow().search_seq != seq {
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
            this.ctx.with_window(|w| {
                let stock = w.global::<StaffStockAdapter>();
                stock.set_results(ModelRc::new(VecModel::from(rows)));
                stock.set_not_found(empty);
            });
        });
    }

    /// The keyboard's "done": opens the first result.
    fn open_first(self: &Rc<Self>) {
        let first = self.ctx.window.upgrade().and_then(|w| {
            let results = w.global::<StaffStockAdapter>().get_results();
            slint::Model::row_data(&results, 0).map(|r| r.code.to_string())
        });
        match first {
            Some(code) => self.look_up(&code),
            None => self
                .ctx
                .with_window(|w| w.global::<StaffStockAdapter>().set_not_found(true)),
        }
    }

    /// Opens a product by SKU, GTIN, MPN or product group: this shop's saved figures at
    /// once, then every shop's live from the hub.
    pub fn look_up(self: &Rc<Self>, code: &str) {
        if !self.active.get() {
            return;
        }
        let seq = {
            let mut state = self.state.borrow_mut();
            state.lookup_seq += 1;
            state.lookup_seq
        };
        self.ctx
            .with_window(|w| w.global::<StaffStockAdapter>().set_typing(false));
        let (code, lang, store, this) = (
            code.to_owned(),
            self.ctx.content_lang(),
            self.ctx.store.clone(),
            self.clone(),
        );
        self.ctx.spawn(async move {
            let answer = this
                .ctx
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
            if this.state.borrow().lookup_seq != seq {
                return;
            }
            let found = match answer {
                Ok(found) => found,
                Err(e) => return tracing::error!("stock lookup failed: {e}"),
            };
            let Some(found) = found else {
                return this.ctx.with_window(|w| {
                    let stock = w.global::<StaffStockAdapter>();
                    stock.set_not_found(true);
                    stock.set_typing(true);
                });
            };
            let skus: Vec<String> = found.sheet.variants.iter().map(|v| v.sku.clone()).collect();
            let looked_up = {
                let mut state = this.state.borrow_mut();
                state.selected = found
                    .sku
                    .or_else(|| found.sheet.variants.first().map(|v| v.sku.clone()));
                state.sheet = Some(Rc::new(found.sheet));
                state.figures = Figures::new(found.levels, found.as_of, false);
                state.shops = found.shops;
                state.selected.clone()
            };
            if let Some(sku) = looked_up {
                this.ctx.record_without_visit(EventDetail::StockLookedUp { sku });
            }
            this.show();
            this.fetch_live(seq, skus);
        });
    }

    /// Asks the hub for every shop's figures now; keeps the saved ones if it cannot.
    fn fetch_live(self: &Rc<Self>, seq: u64, skus: Vec<String>) {
        let Some(sync) = self.ctx.sync.clone() else { return };
        let this = self.clone();
        self.ctx.spawn(async move {
            let answer = sync.stock(skus).await;
            if this.state.borrow().lookup_seq != seq || !this.active.get() {
                return;
            }
            match answer {
                Ok(answer) => this.state.borrow_mut().figures = Figures::live(answer),
                Err(e) => return tracing::info!("live stock unavailable, showing saved figures: {e:#}"),
            }
            this.show();
        });
    }

    fn select(&self, sku: &str) {
        if !self.active.get() {
            return;
        }
        self.state.borrow_mut().selected = Some(sku.to_owned());
        self.show();
    }

    /// Fills the tool for the open product and the selected variant.
    fn show(&self) {
        let state = self.state.borrow();
        let Some(sheet) = state.sheet.clone() else { return };
        let store = self.ctx.store.as_str();
        let selected = state.selected.clone().unwrap_or_default();
        let figures = &state.figures;
        let here = |sku: &str| figures.at(sku, store);
        let (sizes, rows) = adapters::stock_matrix(&sheet, here, &selected);
        let variant = sheet.variants.iter().find(|v| v.sku == selected);
        let own = state.position(store);
        let minutes = adapters::minutes_since(figures.as_of, self.ctx.now());
        let shops: Vec<ShopStockData> = adapters::shop_rows(
            &figures.elsewhere(&selected, store),
            |code| state.name(code),
            |code| Some(distance_km(own?, state.position(code)?)),
            minutes,
        );
        let out_here = variant.is_some() && !here(&selected).is_some_and(ShopStock::is_available);
        let here_quantity = here(&selected).and_then(|l| l.quantity);
        let live = figures.live;
        drop(state);
        let label: Vec<&str> = variant
            .map(|v| [v.color.as_deref(), v.size.as_deref()].into_iter().flatten().collect())
            .unwrap_or_default();
        self.ctx.with_window(|w| {
            let ui = w.global::<StaffStockAdapter>();
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

    /// Empties the tool: nothing of the last look-up stays.
    fn clear(&self) {
        {
            let mut state = self.state.borrow_mut();
            let (search_seq, lookup_seq) = (state.search_seq + 1, state.lookup_seq + 1);
            *state = StockState {
                search_seq,
                lookup_seq,
                ..StockState::default()
            };
        }
        self.ctx.with_window(|w| {
            let stock = w.global::<StaffStockAdapter>();
            stock.set_query(SharedString::new());
            stock.set_typing(false);
            stock.set_results(ModelRc::default());
            stock.set_not_found(false);
            stock.set_has_product(false);
            stock.set_title(SharedString::new());
            stock.set_brand(SharedString::new());
            stock.set_sizes(ModelRc::default());
            stock.set_rows(ModelRc::default());
            stock.set_shops(ModelRc::default());
            stock.set_sku(SharedString::new());
            stock.set_variant(SharedString::new());
            stock.set_gtin(SharedString::new());
            stock.set_available_at(SharedString::new());
            stock.set_out_here(false);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ShopLevel;

    #[test]
    fn live_figures_are_filed_by_sku_and_shop() {
        let answer = StockAnswer {
            as_of: Some(Timestamp::from_second(1_700_000_000).unwrap()),
            levels: vec![
                ShopLevel {
                    store_code: "PARIS".into(),
                    sku: "A".into(),
                    quantity: Some(2),
                    availability: "in_stock".into(),
                },
                ShopLevel {
                    store_code: "LYON".into(),
                    sku: "A".into(),
                    quantity: Some(0),
                    availability: "nonsense".into(),
                },
            ],
        };
        let figures = Figures::live(answer);
        assert!(figures.live);
        assert_eq!(figures.at("A", "PARIS").and_then(|l| l.quantity), Some(2));
        let lyon = figures.elsewhere("A", "PARIS");
        assert_eq!(lyon.len(), 1);
        assert_eq!(
            lyon[0].availability,
            Availability::OutOfStock,
            "an availability the kiosk does not know is no stock"
        );
        assert!(figures.at("B", "PARIS").is_none());
    }

    #[test]
    fn shops_are_named_and_placed_by_the_hubs_list() {
        let state = StockState {
            shops: vec![Shop {
                code: "LYON".into(),
                name: "Lyon Confluence".into(),
                latitude: Some(45.74),
                longitude: Some(4.82),
            }],
            ..StockState::default()
        };
        assert_eq!(state.name("LYON"), "Lyon Confluence");
        assert_eq!(state.name("NANTES"), "NANTES");
        assert_eq!(state.position("LYON"), Some((45.74, 4.82)));
        assert_eq!(state.position("NANTES"), None);
    }
}
