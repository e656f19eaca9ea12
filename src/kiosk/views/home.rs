//! The attract loop's featured pieces, and the home screen: featured pieces (those store
//! ops name in the console first), the categories to browse, and what is popular in the
//! shop (the hub's count of the last 30 days' views and adds, per shop; the row stays
//! hidden until there is one). A product opened from either row is measured as featured.

use std::rc::Rc;

use slint::{ComponentHandle, ModelRc, VecModel};

use super::{CARD_PICTURE, SHEET_PICTURE, TILE_PICTURE, card_rows, load_card_images, show_hearts};
use crate::kiosk::adapters;
use crate::kiosk::context::Ctx;
use crate::kiosk::ui::{AppWindow, AttractAdapter, HomeAdapter};

/// Featured pieces on the attract loop and the home screen.
const FEATURED: usize = 8;
/// Popular pieces on the home screen.
const POPULAR: usize = 8;

pub struct Home {
    ctx: Rc<Ctx>,
}

/// The home view; its callbacks all lead elsewhere, so the shell wires them.
pub fn setup(_window: &AppWindow, ctx: &Rc<Ctx>) -> Rc<Home> {
    Rc::new(Home { ctx: ctx.clone() })
}

impl Home {
    /// Loads the featured pieces (those store ops named first), categories and popular
    /// pieces in the content language.
    pub fn load(self: &Rc<Self>) {
        self.load_popular();
        let (ctx, lang, now) = (self.ctx.clone(), self.ctx.content_lang(), self.ctx.now());
        let first = {
            let remote = self.ctx.remote.borrow();
            // Taken now, so a status refresh that sees this version does not load again.
            self.ctx.featured_version.set(remote.version);
            remote.featured.clone()
        };
        self.ctx.spawn(async move {
            let answer = ctx
                .catalog
                .run(move |c| Ok((c.categories(&lang)?, c.featured_first(&lang, &first, FEATURED, now)?)))
                .await;
            let (categories, featured) = match answer {
                Ok(answer) => answer,
                Err(e) => return tracing::error!("cannot load the home screen: {e}"),
            };
            let cards = card_rows(&ctx, &featured);
            let tiles: Vec<_> = categories.iter().map(adapters::category).collect();
            ctx.with_window(|w| {
                w.global::<AttractAdapter>()
                    .set_featured(ModelRc::new(VecModel::from(cards.clone())));
                let home = w.global::<HomeAdapter>();
                home.set_featured(ModelRc::new(VecModel::from(cards)));
                home.set_categories(ModelRc::new(VecModel::from(tiles)));
            });
            load_card_images(
                &ctx,
                &featured,
                |w| w.global::<AttractAdapter>().get_featured(),
                SHEET_PICTURE,
            );
            load_card_images(
                &ctx,
                &featured,
                |w| w.global::<HomeAdapter>().get_featured(),
                CARD_PICTURE,
            );
            for (i, category) in categories.iter().enumerate() {
                if let Some(url) = category.image_link.clone() {
                    ctx.load_row_image(
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
        });
    }

    /// Loads what is popular in the shop, as the last catalog pull saved it (a visit's
    /// start asks again, so a fresh kiosk shows the row once the hub has counted some).
    pub fn load_popular(self: &Rc<Self>) {
        let (ctx, lang, now) = (self.ctx.clone(), self.ctx.content_lang(), self.ctx.now());
        self.ctx.spawn(async move {
            let popular = match ctx.catalog.run(move |c| c.popular(&lang, POPULAR, now)).await {
                Ok(cards) => cards,
                Err(e) => {
                    tracing::warn!("cannot load what is popular in the shop: {e}");
                    Vec::new()
                }
            };
            let cards = card_rows(&ctx, &popular);
            ctx.with_window(|w| {
                w.global::<HomeAdapter>()
                    .set_popular(ModelRc::new(VecModel::from(cards)));
            });
            load_card_images(
                &ctx,
                &popular,
                |w| w.global::<HomeAdapter>().get_popular(),
                CARD_PICTURE,
            );
        });
    }

    pub fn show_hearts(&self, saved: &std::collections::HashSet<&str>) {
        self.ctx.with_window(|w| {
            let home = w.global::<HomeAdapter>();
            show_hearts(&home.get_featured(), saved);
            show_hearts(&home.get_popular(), saved);
        });
    }
}
