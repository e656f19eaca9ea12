//! One controller per view. Each has `setup(&window, &ctx)`, which wires its adapter's
//! own callbacks and returns its handle, and keeps its state in plain Rust (tested
//! without Slint, beside it). What crosses views (opening a product from a card, a
//! heart, a scanned code, the end of a visit) goes through the shell (`kiosk::shell`).
//!
//! Callbacks start tasks (`slint::spawn_local`) that ask the catalog thread, then fill
//! the adapter with the answer. A task whose answer arrives after the shopper moved on
//! (a newer search, another product) drops it: each kind of request carries a sequence
//! number and only the latest is shown.
//!
//! - [`home`]: the attract loop's and the home screen's featured pieces and categories;
//! - [`search`]: search as you type, on the kiosk's keyboard;
//! - [`results`]: a search's or a category's results, with filters;
//! - [`product`]: the product sheet, its colours and sizes;
//! - [`wishlist`]: the visit's list, and every heart on screen;
//! - [`codes`]: the codes shown for the shopper's phone;
//! - [`scan`]: the scan sheet, the camera's live picture;
//! - [`staff`]: staff mode's keypad, stock tool and health screen.

pub mod codes;
pub mod home;
pub mod product;
pub mod results;
pub mod scan;
pub mod search;
pub mod staff;
pub mod wishlist;

/// Pixel sizes pictures are decoded at, per place they are shown (4:5 pictures).
pub const CARD_PICTURE: (u32, u32) = (400, 500);
pub const ROW_PICTURE: (u32, u32) = (100, 125);
pub const TILE_PICTURE: (u32, u32) = (640, 480);
pub const SHEET_PICTURE: (u32, u32) = (960, 1200);
pub const LINE_PICTURE: (u32, u32) = (160, 200);

/// Wires `Adapter.callback` to the controller `this`, held weakly (the window must not
/// keep its controllers alive in a cycle). Each call tells the session someone is there.
macro_rules! on {
    ($window:expr, $this:expr, $global:ident . $callback:ident, |$me:ident $(, $arg:ident)*| $body:expr) => {{
        let weak = std::rc::Rc::downgrade($this);
        $window.global::<$global>().$callback(move |$($arg),*| {
            if let Some($me) = weak.upgrade() {
                $me.ctx.touch();
                $body
            }
        });
    }};
}
pub(crate) use on;

use std::rc::Rc;

use slint::{ModelRc, VecModel};

use super::adapters;
use super::context::Ctx;
use super::ui::{AppWindow, ProductCardData};
use crate::catalog::ProductCard;

/// Result cards for `cards`, hearts filled for groups on the visit's list.
pub fn card_rows(ctx: &Ctx, cards: &[ProductCard]) -> Vec<ProductCardData> {
    let visit = ctx.visit.borrow();
    let saved = visit.saved_groups();
    let lang = ctx.lang();
    cards
        .iter()
        .map(|c| adapters::card(c, &lang, saved.contains(c.group_id.as_str())))
        .collect()
}

/// Loads the picture of each card into row `i` of the model `model_of` returns,
/// checking the row still shows that product when the picture arrives.
pub fn load_card_images(
    ctx: &Rc<Ctx>,
    cards: &[ProductCard],
    model_of: fn(&AppWindow) -> ModelRc<ProductCardData>,
    size: (u32, u32),
) {
    for (i, card) in cards.iter().enumerate() {
        let Some(url) = card.image_link.clone() else { continue };
        let id = card.group_id.clone();
        ctx.load_row_image(url, size, i, model_of, move |row: &mut ProductCardData, image| {
            if row.id == id.as_str() {
                row.image = image;
            }
        });
    }
}

/// Fills or empties the hearts of a model of cards.
pub fn show_hearts(model: &ModelRc<ProductCardData>, saved: &std::collections::HashSet<&str>) {
    use slint::Model;
    for i in 0..model.row_count() {
        let Some(mut row) = model.row_data(i) else { continue };
        let is_saved = saved.contains(row.id.as_str());
        if row.saved != is_saved {
            row.saved = is_saved;
            model.set_row_data(i, row);
        }
    }
}

/// An empty model, for a view emptied at the end of a visit.
pub fn empty<T: Clone + 'static>() -> ModelRc<T> {
    ModelRc::new(VecModel::default())
}
