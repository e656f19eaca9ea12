//! The visit's list, and every heart on screen. A heart is one SQLite transaction for
//! the kiosk's list and the outbox, on the catalog thread; then the sync thread is woken
//! and the list shown as it now is. Other views' hearts are redrawn by the shell, which
//! this controller tells after each change.

use std::rc::Rc;

use slint::{ComponentHandle, ModelRc, VecModel};

use super::product::card_variant;
use super::{LINE_PICTURE, empty};
use crate::catalog::{Catalog, CatalogError, ProductSheet};
use crate::kiosk::adapters;
use crate::kiosk::context::{Ctx, Hook, Saved};
use crate::kiosk::ui::{AppAdapter, AppWindow, Notice, WishlistAdapter};
use crate::protocol::Action;
use crate::sync::outbox::{self, Edited};

pub struct Wishlist {
    ctx: Rc<Ctx>,
    seq: std::cell::Cell<u64>,
    /// Called after the list changed, to redraw the hearts of the other views.
    on_change: Hook<()>,
}

/// The list view; its callbacks lead to products and the home screen, so the shell wires
/// them.
pub fn setup(_window: &AppWindow, ctx: &Rc<Ctx>) -> Rc<Wishlist> {
    Rc::new(Wishlist {
        ctx: ctx.clone(),
        seq: Default::default(),
        on_change: Default::default(),
    })
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

impl Wishlist {
    /// What to call after the list changed.
    pub fn on_change(&self, f: impl Fn() + 'static) {
        self.on_change.set(move |()| f());
    }

    /// Saves or removes `sku` (the product sheet's heart).
    pub fn toggle_sku(self: &Rc<Self>, sku: String) {
        let action = if self.ctx.visit.borrow().is_saved(&sku) {
            Action::Remove
        } else {
            Action::Add
        };
        self.edit(vec![(sku, action)]);
    }

    /// A card's heart: removes every variant of the product from the list, or saves the
    /// one the `filters` (colour, size) point to, else the one its sheet would open on.
    pub fn toggle_card(self: &Rc<Self>, group_id: &str, filters: (Option<String>, Option<String>)) {
        let saved: Vec<(String, Action)> = self
            .ctx
            .visit
            .borrow()
            .saved
            .iter()
            .filter(|s| s.group_id.as_deref() == Some(group_id))
            .map(|s| (s.sku.clone(), Action::Remove))
            .collect();
        if !saved.is_empty() {
            return self.edit(saved);
        }
        let (lang, store, group, visit, this) = (
            self.ctx.content_lang(),
            self.ctx.store.clone(),
            group_id.to_owned(),
            self.ctx.visit.borrow().id.clone(),
            self.clone(),
        );
        self.ctx.spawn(async move {
            let answer = this.ctx.catalog.run(move |c| c.product(&lang, &group, &store)).await;
            // A heart tapped just before the visit ended is not the next shopper's.
            if this.ctx.visit.borrow().id != visit {
                return;
            }
            let sku = match answer {
                Ok(sheet) => sheet
                    .and_then(|s| card_variant(&s, filters.0.as_deref(), filters.1.as_deref()).map(|v| v.sku.clone())),
                Err(e) => {
                    tracing::error!("cannot load the product to save: {e}");
                    None
                }
            };
            match sku {
                Some(sku) => this.edit(vec![(sku, Action::Add)]),
                None => this.ctx.notify(Notice::SaveFailed),
            }
        });
    }

    /// Saves `sku` on this visit's list, as a tap on its heart would.
    pub fn save(self: &Rc<Self>, sku: &str) {
        self.edit(vec![(sku.to_owned(), Action::Add)]);
    }

    /// Removes a line (the list's own "remove").
    pub fn remove(self: &Rc<Self>, sku: &str) {
        self.edit(vec![(sku.to_owned(), Action::Remove)]);
    }

    /// Applies edits to this visit's list, each one transaction for the list and the
    /// outbox; then wakes the sender and shows the list as it now is.
    fn edit(self: &Rc<Self>, edits: Vec<(String, Action)>) {
        let (owner, visit, now) = (self.ctx.owner(), self.ctx.visit.borrow().id.clone(), self.ctx.now());
        let notice = match edits.last() {
            Some((_, Action::Add)) => Notice::Saved,
            _ => Notice::Removed,
        };
        let this = self.clone();
        self.ctx.spawn(async move {
            let answer = this
                .ctx
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
                    if queued {
                        this.ctx.wake_sync();
                    }
                    this.ctx.notify(notice);
                }
                Err(e) => {
                    tracing::error!("cannot save the wishlist: {e}");
                    this.ctx.notify(Notice::SaveFailed);
                }
            }
            this.refresh();
        });
    }

    /// Reloads this visit's list with its products, then every heart on screen.
    pub fn refresh(self: &Rc<Self>) {
        let seq = self.seq.get() + 1;
        self.seq.set(seq);
        let (owner, lang, store, now) = (
            self.ctx.owner(),
            self.ctx.content_lang(),
            self.ctx.store.clone(),
            self.ctx.now(),
        );
        let this = self.clone();
        self.ctx.spawn(async move {
            let ctx = &this.ctx;
            let answer = ctx
                .catalog
                .run(move |c| {
                    let lines = outbox::wishlist(c.connection(), &owner)?;
                    lines
                        .into_iter()
                        .map(|line| Ok((saved_sheet(c, &lang, &line.sku, &store)?, line.sku)))
                        .collect::<Result<Vec<_>, CatalogError>>()
                })
                .await;
            if this.seq.get() != seq {
                return;
            }
            let lines = match answer {
                Ok(lines) => lines,
                Err(e) => return tracing::error!("cannot load the wishlist: {e}"),
            };
            let lang = ctx.lang();
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
            ctx.visit.borrow_mut().saved = lines
                .into_iter()
                .map(|(sheet, sku)| Saved {
                    sku,
                    group_id: sheet.map(|s| s.group_id),
                })
                .collect();
            ctx.with_window(|w| {
                w.global::<AppAdapter>().set_wishlist_count(rows.len() as i32);
                w.global::<WishlistAdapter>()
                    .set_items(ModelRc::new(VecModel::from(rows)));
            });
            for (i, sku, url) in pictures {
                ctx.load_row_image(
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
            this.on_change.call(());
        });
    }

    /// The end of a visit: an empty list, answers on their way dropped.
    pub fn clear(&self) {
        self.seq.set(self.seq.get() + 1);
        self.ctx.with_window(|w| {
            w.global::<AppAdapter>().set_wishlist_count(0);
            w.global::<WishlistAdapter>().set_items(empty());
        });
    }
}
