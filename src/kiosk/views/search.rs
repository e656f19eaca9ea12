//! Search as you type: the kiosk's keyboard edits the text, each edit asks the catalog,
//! and only the answer to the latest edit is shown. A typed or scanned reference (SKU,
//! GTIN, MPN) puts its product first.
//!
//! A search is measured once, not per keystroke: when the shopper acts on its results
//! (opens one, asks for them all), or leaves them on screen for [`SETTLED_AFTER`]. It
//! names no visit, and counts the results the field found (at most `ASKED`, and the
//! exact reference).

use std::rc::Rc;
use std::time::Duration;

use slint::{ComponentHandle, ModelRc, Timer, TimerMode, VecModel};

use super::{ROW_PICTURE, card_rows, empty, load_card_images, on};
use crate::catalog::{self, Query};
use crate::kiosk::context::Ctx;
use crate::kiosk::ui::{AppWindow, SearchAdapter};
use crate::protocol::measure::EventDetail;

/// How many results show under the field.
const ROWS: usize = 12;
/// How many the catalog is asked for (the total shown is theirs).
const ASKED: usize = 200;
/// A search whose results stay this long without another keystroke is one the shopper
/// made.
pub const SETTLED_AFTER: Duration = Duration::from_secs(2);

/// The search field's text and the request it is on.
#[derive(Debug, Default)]
pub struct SearchState {
    pub text: String,
    seq: u64,
    /// The text whose results are on screen, and how many there are.
    shown: Option<(String, usize)>,
    /// The search measured last, as the hub counts it: one search counts once.
    measured: Option<String>,
    /// The shopper acted on the text before its results came: measure them when they do.
    submitted: bool,
}

impl SearchState {
    /// Applies a keyboard edit; the text is cut at the catalog's limit. Returns whether
    /// it had to be cut (the shopper is told).
    pub fn edit(&mut self, edit: impl FnOnce(&mut String)) -> bool {
        self.submitted = false;
        edit(&mut self.text);
        let too_long = self.text.chars().count() >= catalog::MAX_QUERY_CHARS;
        if too_long {
            self.text = self.text.chars().take(catalog::MAX_QUERY_CHARS).collect();
        }
        too_long
    }

    /// A new request: answers to older ones are dropped.
    fn next(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// The results of `text` are on screen; the search to measure, if the shopper already
    /// acted on it.
    fn answered(&mut self, text: String, total: usize) -> Option<EventDetail> {
        self.shown = Some((text, total));
        if std::mem::take(&mut self.submitted) {
            self.settle()
        } else {
            None
        }
    }

    /// The shopper settled on the results on screen: the search to measure, unless it
    /// was already, or its results are not those of the field's text yet.
    fn settle(&mut self) -> Option<EventDetail> {
        let (text, total) = self.shown.as_ref()?;
        if *text != self.text {
            return None;
        }
        let query = crate::protocol::measure::normalise_query(text);
        if query.is_empty() || self.measured.as_ref() == Some(&query) {
            return None;
        }
        let results = u32::try_from(*total).unwrap_or(u32::MAX);
        self.measured = Some(query.clone());
        Some(EventDetail::Searched { query, results })
    }

    /// The shopper acted on the text (opened a result, asked for them all): the search to
    /// measure now, or when its results come.
    fn submit(&mut self) -> Option<EventDetail> {
        if self.shown.as_ref().is_some_and(|(text, _)| *text == self.text) {
            self.settle()
        } else {
            self.submitted = true;
            None
        }
    }
}

pub struct Search {
    ctx: Rc<Ctx>,
    state: std::cell::RefCell<SearchState>,
    /// Measures the search once its results stayed on screen a while.
    settle_timer: Timer,
}

pub fn setup(window: &AppWindow, ctx: &Rc<Ctx>) -> Rc<Search> {
    let search = Rc::new(Search {
        ctx: ctx.clone(),
        state: Default::default(),
        settle_timer: Timer::default(),
    });
    on!(window, &search, SearchAdapter.on_typed, |this, text| this
        .edit(|q| q.push_str(&text)));
    on!(window, &search, SearchAdapter.on_backspace, |this| this.edit(|q| {
        q.pop();
    }));
    on!(window, &search, SearchAdapter.on_clear, |this| this.edit(String::clear));
    search
}

impl Search {
    /// The text in the field.
    pub fn text(&self) -> String {
        self.state.borrow().text.clone()
    }

    /// Types `text` into the field, as the on-screen keyboard would.
    pub fn type_text(self: &Rc<Self>, text: &str) {
        self.edit(|q| q.push_str(text));
    }

    /// The shopper acted on the results (opened one, asked for them all): the search is
    /// measured now, or as soon as its results come.
    pub fn submit(&self) {
        self.settle_timer.stop();
        let measured = self.state.borrow_mut().submit();
        if let Some(detail) = measured {
            self.ctx.record_without_visit(detail);
        }
    }

    /// The results stayed on screen: the search is measured, once.
    fn settle(&self) {
        let measured = self.state.borrow_mut().settle();
        if let Some(detail) = measured {
            self.ctx.record_without_visit(detail);
        }
    }

    fn edit(self: &Rc<Self>, edit: impl FnOnce(&mut String)) {
        self.settle_timer.stop();
        let too_long = self.state.borrow_mut().edit(edit);
        let text = self.text();
        self.ctx.with_window(|w| {
            let search = w.global::<SearchAdapter>();
            search.set_query(text.as_str().into());
            search.set_too_long(too_long);
        });
        self.refresh();
    }

    /// Asks the catalog for the field's text (again: the language may have changed).
    pub fn refresh(self: &Rc<Self>) {
        let (seq, text) = {
            let mut state = self.state.borrow_mut();
            (state.next(), state.text.clone())
        };
        if text.trim().is_empty() {
            return self.ctx.with_window(|w| {
                let search = w.global::<SearchAdapter>();
                search.set_results(ModelRc::default());
                search.set_total(0);
            });
        }
        let mut query = Query::new(&self.ctx.content_lang(), self.ctx.now());
        query.text = text.clone();
        query.limit = ASKED;
        query.rank_store = Some(self.ctx.store.clone());
        let this = self.clone();
        self.ctx.spawn(async move {
            let ctx = &this.ctx;
            let answer = ctx
                .catalog
                .run(move |c| Ok((c.lookup(&query.text)?, c.search(&query)?)))
                .await;
            if this.state.borrow().seq != seq {
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
                let (lang, now) = (ctx.content_lang(), ctx.now());
                if let Ok(Some(card)) = ctx.catalog.run(move |c| c.card(&lang, &hit.group_id, now)).await {
                    cards.insert(0, card);
                }
                // The shopper may have typed on, or left, meanwhile.
                if this.state.borrow().seq != seq {
                    return;
                }
            }
            let total = cards.len();
            cards.truncate(ROWS);
            let rows = card_rows(ctx, &cards);
            ctx.with_window(|w| {
                let search = w.global::<SearchAdapter>();
                search.set_results(ModelRc::new(VecModel::from(rows)));
                search.set_total(total as i32);
            });
            load_card_images(ctx, &cards, |w| w.global::<SearchAdapter>().get_results(), ROW_PICTURE);
            let submitted = this.state.borrow_mut().answered(text, total);
            match submitted {
                Some(detail) => ctx.record_without_visit(detail),
                None => {
                    let weak = Rc::downgrade(&this);
                    this.settle_timer.start(TimerMode::SingleShot, SETTLED_AFTER, move || {
                        if let Some(this) = weak.upgrade() {
                            this.settle();
                        }
                    });
                }
            }
        });
    }

    /// The end of a visit: an empty field, and answers on their way dropped.
    pub fn clear(&self) {
        self.settle_timer.stop();
        {
            let mut state = self.state.borrow_mut();
            let seq = state.seq + 1;
            *state = SearchState {
                seq,
                ..SearchState::default()
            };
        }
        self.ctx.with_window(|w| {
            let search = w.global::<SearchAdapter>();
            search.set_query("".into());
            search.set_too_long(false);
            search.set_results(empty());
            search.set_total(0);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_is_cut_at_the_catalogs_limit() {
        let mut state = SearchState::default();
        assert!(!state.edit(|t| t.push_str("robe")));
        assert_eq!(state.text, "robe");
        assert!(state.edit(|t| t.push_str(&"é".repeat(catalog::MAX_QUERY_CHARS + 5))));
        assert_eq!(state.text.chars().count(), catalog::MAX_QUERY_CHARS);
        state.edit(|t| {
            t.pop();
        });
        assert_eq!(state.text.chars().count(), catalog::MAX_QUERY_CHARS - 1);
    }

    #[test]
    fn a_search_is_measured_once_when_the_shopper_settles_on_it() {
        let mut state = SearchState::default();
        state.edit(|t| t.push_str("Rob"));
        assert_eq!(state.answered("Rob".into(), 9), None, "typing, nothing acted on");
        state.edit(|t| t.push_str("e "));
        assert_eq!(state.settle(), None, "the results on screen are not those of the text");
        assert_eq!(state.answered("Robe ".into(), 4), None);
        let searched = EventDetail::Searched {
            query: "robe".into(),
            results: 4,
        };
        assert_eq!(state.settle(), Some(searched));
        assert_eq!(state.submit(), None, "the same search counts once");
    }

    #[test]
    fn a_search_acted_on_before_its_results_is_measured_when_they_come() {
        let mut state = SearchState::default();
        state.edit(|t| t.push_str("jean"));
        assert_eq!(state.submit(), None);
        let searched = EventDetail::Searched {
            query: "jean".into(),
            results: 0,
        };
        assert_eq!(state.answered("jean".into(), 0), Some(searched));
        state.edit(String::clear);
        assert_eq!(state.submit(), None, "an empty field is no search");
    }

    #[test]
    fn each_request_outdates_the_one_before() {
        let mut state = SearchState::default();
        let first = state.next();
        let second = state.next();
        assert!(second > first);
    }
}
