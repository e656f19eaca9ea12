//! A search's or a category's results, with filters: size, colour, price band, "in stock
//! here". The filters a shopper chose also choose what a card's heart saves.

use std::cell::RefCell;
use std::rc::Rc;

use slint::{ComponentHandle, ModelRc, VecModel};

use super::{CARD_PICTURE, card_rows, empty, load_card_images, on, show_hearts};
use crate::catalog::{Facets, Query};
use crate::kiosk::adapters;
use crate::kiosk::context::Ctx;
use crate::kiosk::ui::{AppWindow, ChipData, ResultsAdapter};
use crate::protocol::measure::ViewSource;

/// Price bands for the filter chips, in major units of the catalog's currency.
const PRICE_BANDS: [(i64, i64); 4] = [(0, 50), (50, 100), (100, 200), (200, i64::MAX / 1000)];
/// Results shown at most.
const LIMIT: usize = 120;

/// A filter chip tapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    Size(usize),
    Color(usize),
    Price(usize),
    InStockHere,
    Clear,
}

/// The query on screen, the facets its answer offered, and the request it is on.
#[derive(Debug, Default)]
pub struct ResultsState {
    pub query: Option<Query>,
    facets: Facets,
    seq: u64,
}

/// A price band in minor units.
fn band(i: usize) -> Option<(i64, i64)> {
    PRICE_BANDS.get(i).map(|(lo, hi)| (lo * 100, hi.saturating_mul(100)))
}

impl ResultsState {
    /// Applies a tapped chip to the query: a chosen value again clears it.
    pub fn toggle(&mut self, filter: Filter, store: &str) {
        let Some(query) = self.query.as_mut() else { return };
        let toggle = |current: &mut Option<String>, choice: Option<&String>| {
            *current = match (current.as_ref(), choice) {
                (Some(c), Some(n)) if c == n => None,
                (_, n) => n.cloned(),
            };
        };
        match filter {
            Filter::Size(i) => toggle(&mut query.size, self.facets.sizes.get(i)),
            Filter::Color(i) => toggle(&mut query.color, self.facets.colors.get(i)),
            Filter::Price(i) => {
                query.price_band = if query.price_band == band(i) { None } else { band(i) };
            }
            Filter::InStockHere => {
                query.in_stock_at = match query.in_stock_at {
                    Some(_) => None,
                    None => Some(store.to_owned()),
                };
            }
            Filter::Clear => {
                query.size = None;
                query.color = None;
                query.price_band = None;
                query.in_stock_at = None;
            }
        }
    }

    /// The colour and size filters, which a card's heart follows.
    pub fn filters(&self) -> (Option<String>, Option<String>) {
        match &self.query {
            Some(q) => (q.color.clone(), q.size.clone()),
            None => (None, None),
        }
    }

    fn next(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }
}

/// A price band's chip: "< 50 €", "50 € – 100 €", "> 200 €".
pub fn price_band_label(lo: i64, hi: i64, currency: &str, lang: &str) -> String {
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

pub struct Results {
    ctx: Rc<Ctx>,
    state: RefCell<ResultsState>,
}

pub fn setup(window: &AppWindow, ctx: &Rc<Ctx>) -> Rc<Results> {
    let results = Rc::new(Results {
        ctx: ctx.clone(),
        state: Default::default(),
    });
    on!(window, &results, ResultsAdapter.on_toggle_size, |this, i| this
        .toggle(Filter::Size(i as usize)));
    on!(window, &results, ResultsAdapter.on_toggle_color, |this, i| this
        .toggle(Filter::Color(i as usize)));
    on!(window, &results, ResultsAdapter.on_toggle_price, |this, i| this
        .toggle(Filter::Price(i as usize)));
    on!(window, &results, ResultsAdapter.on_toggle_in_stock, |this| this
        .toggle(Filter::InStockHere));
    on!(window, &results, ResultsAdapter.on_clear_filters, |this| this
        .toggle(Filter::Clear));
    results
}

impl Results {
    /// Shows the results of a text search.
    pub fn show_search(self: &Rc<Self>, text: &str) {
        let mut query = Query::new(&self.ctx.content_lang(), self.ctx.now());
        query.text = text.to_owned();
        query.rank_store = Some(self.ctx.store.clone());
        self.state.borrow_mut().query = Some(query);
        self.refresh();
    }

    /// Shows a category's pieces.
    pub fn show_category(self: &Rc<Self>, path: &str) {
        let mut query = Query::new(&self.ctx.content_lang(), self.ctx.now());
        query.category = Some(path.to_owned());
        self.state.borrow_mut().query = Some(query);
        self.refresh();
    }

    /// The colour and size filters chosen, which a card's heart follows.
    pub fn filters(&self) -> (Option<String>, Option<String>) {
        self.state.borrow().filters()
    }

    fn toggle(self: &Rc<Self>, filter: Filter) {
        self.state.borrow_mut().toggle(filter, &self.ctx.store);
        self.refresh();
    }

    /// The category on screen, if it is a category page.
    pub fn category(&self) -> Option<String> {
        self.state.borrow().query.as_ref().and_then(|q| q.category.clone())
    }

    /// Where a product opened from these results was found: browsing a category, or a
    /// search.
    pub fn source(&self) -> ViewSource {
        if self.category().is_some() {
            ViewSource::Browse
        } else {
            ViewSource::Search
        }
    }

    /// The category on screen after a language change (translated by the shell).
    pub fn set_category(&self, category: Option<String>) {
        if let Some(query) = self.state.borrow_mut().query.as_mut()
            && query.category.is_some()
        {
            query.category = category;
        }
    }

    /// Asks the catalog for the query on screen, if any.
    pub fn refresh(self: &Rc<Self>) {
        let (query, seq) = {
            let mut state = self.state.borrow_mut();
            let Some(query) = state.query.as_mut() else { return };
            query.lang = self.ctx.content_lang();
            query.now = self.ctx.now();
            query.limit = LIMIT;
            let query = query.clone();
            (query, state.next())
        };
        let this = self.clone();
        self.ctx.spawn(async move {
            let ctx = &this.ctx;
            let q = query.clone();
            let answer = ctx
                .catalog
                .run(move |c| {
                    let total = c.count(&q)?;
                    Ok((c.search(&q)?, c.facets(&q)?, total))
                })
                .await;
            if this.state.borrow().seq != seq {
                return;
            }
            let (cards, facets, total) = match answer {
                Ok(answer) => answer,
                Err(e) => return tracing::error!("results failed: {e}"),
            };
            let lang = ctx.lang();
            this.state.borrow_mut().facets = facets.clone();
            let rows = card_rows(ctx, &cards);
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
                .enumerate()
                .map(|(i, (lo, hi))| {
                    adapters::chip(
                        &price_band_label(*lo, *hi, &currency, &lang),
                        query.price_band == band(i),
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
            ctx.with_window(|w| {
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
            load_card_images(
                ctx,
                &cards,
                |w| w.global::<ResultsAdapter>().get_results(),
                CARD_PICTURE,
            );
        });
    }

    pub fn show_hearts(&self, saved: &std::collections::HashSet<&str>) {
        self.ctx
            .with_window(|w| show_hearts(&w.global::<ResultsAdapter>().get_results(), saved));
    }

    /// The end of a visit: no query, no results, answers on their way dropped.
    pub fn clear(&self) {
        {
            let mut state = self.state.borrow_mut();
            state.query = None;
            state.facets = Facets::default();
            state.next();
        }
        self.ctx.with_window(|w| {
            let results = w.global::<ResultsAdapter>();
            results.set_title("".into());
            results.set_eyebrow("".into());
            results.set_results(empty());
            results.set_total(0);
            results.set_sizes(empty());
            results.set_colors(empty());
            results.set_prices(empty());
            results.set_in_stock_here(false);
            results.set_any_filter(false);
        });
    }
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use super::*;

    fn state() -> ResultsState {
        ResultsState {
            query: Some(Query::new("fr", Timestamp::UNIX_EPOCH)),
            facets: Facets {
                sizes: vec!["S".into(), "M".into()],
                colors: vec!["Noir".into()],
            },
            seq: 0,
        }
    }

    #[test]
    fn a_chip_tapped_twice_clears_its_filter() {
        let mut s = state();
        s.toggle(Filter::Size(1), "PARIS");
        assert_eq!(s.query.as_ref().unwrap().size.as_deref(), Some("M"));
        s.toggle(Filter::Size(0), "PARIS");
        assert_eq!(
            s.query.as_ref().unwrap().size.as_deref(),
            Some("S"),
            "another size replaces it"
        );
        s.toggle(Filter::Size(0), "PARIS");
        assert_eq!(s.query.as_ref().unwrap().size, None);
        s.toggle(Filter::Price(1), "PARIS");
        assert_eq!(s.query.as_ref().unwrap().price_band, Some((5000, 10000)));
        s.toggle(Filter::Price(1), "PARIS");
        assert_eq!(s.query.as_ref().unwrap().price_band, None);
    }

    #[test]
    fn in_stock_here_means_this_shop_and_clear_clears_everything() {
        let mut s = state();
        s.toggle(Filter::InStockHere, "PARIS");
        s.toggle(Filter::Color(0), "PARIS");
        assert_eq!(s.query.as_ref().unwrap().in_stock_at.as_deref(), Some("PARIS"));
        assert_eq!(s.filters(), (Some("Noir".into()), None));
        s.toggle(Filter::Clear, "PARIS");
        let q = s.query.as_ref().unwrap();
        assert_eq!(
            (&q.size, &q.color, q.price_band, &q.in_stock_at),
            (&None, &None, None, &None)
        );
    }

    #[test]
    fn a_chip_past_the_facets_chooses_nothing() {
        let mut s = state();
        s.toggle(Filter::Size(9), "PARIS");
        assert_eq!(s.query.as_ref().unwrap().size, None);
        s.toggle(Filter::Price(9), "PARIS");
        assert_eq!(s.query.as_ref().unwrap().price_band, None);
    }

    #[test]
    fn price_bands_read_as_a_shopper_reads_prices() {
        assert_eq!(price_band_label(0, 50, "EUR", "fr"), "< 50\u{a0}€");
        assert!(price_band_label(200, i64::MAX / 1000, "EUR", "en").starts_with("> "));
        assert!(price_band_label(50, 100, "EUR", "en").contains(" – "));
    }
}
