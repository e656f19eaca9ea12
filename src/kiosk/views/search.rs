//! Search as you type: the kiosk's keyboard edits the text, each edit asks the catalog,
//! and only the answer to the latest edit is shown. A typed or scanned reference (SKU,
//! GTIN, MPN) puts its product first.

use std::rc::Rc;

use slint::{ComponentHandle, ModelRc, VecModel};

use super::{ROW_PICTURE, card_rows, empty, load_card_images, on};
use crate::catalog::{self, Query};
use crate::kiosk::context::Ctx;
use crate::kiosk::ui::{AppWindow, SearchAdapter};

/// How many results show under the field.
const ROWS: usize = 12;
/// How many the catalog is asked for (the total shown is theirs).
const ASKED: usize = 200;

/// The search field's text and the request it is on.
#[derive(Debug, Default)]
pub struct SearchState {
    pub text: String,
    seq: u64,
}

impl SearchState {
    /// Applies a keyboard edit; the text is cut at the catalog's limit. Returns whether
    /// it had to be cut (the shopper is told).
    pub fn edit(&mut self, edit: impl FnOnce(&mut String)) -> bool {
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
}

pub struct Search {
    ctx: Rc<Ctx>,
    state: std::cell::RefCell<SearchState>,
}

pub fn setup(window: &AppWindow, ctx: &Rc<Ctx>) -> Rc<Search> {
    let search = Rc::new(Search {
        ctx: ctx.clone(),
        state: Default::default(),
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

    fn edit(self: &Rc<Self>, edit: impl FnOnce(&mut String)) {
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
        query.text = text;
        query.limit = ASKED;
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
        });
    }

    /// The end of a visit: an empty field, and answers on their way dropped.
    pub fn clear(&self) {
        {
            let mut state = self.state.borrow_mut();
            state.text.clear();
            state.next();
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
    fn each_request_outdates_the_one_before() {
        let mut state = SearchState::default();
        let first = state.next();
        let second = state.next();
        assert!(second > first);
    }
}
