//! The product sheet: pictures, price and sale, stock here and elsewhere, the colours
//! and sizes to choose from, the heart and "view on your phone". Each sheet opened is
//! measured once it shows, with where the shopper found it.

use std::cell::RefCell;
use std::rc::Rc;

use slint::{ComponentHandle, Image, ModelRc, VecModel};

use super::{SHEET_PICTURE, empty, on};
use crate::catalog::{ProductSheet, VariantInfo};
use crate::kiosk::context::Ctx;
use crate::kiosk::ui::{AppWindow, ProductAdapter};
use crate::kiosk::{adapters, links};
use crate::protocol::measure::{EventDetail, ViewSource};

/// The variant a sheet opens on: the first one in stock here, else the first.
pub fn first_available(sheet: &ProductSheet) -> Option<&VariantInfo> {
    in_stock_first(sheet.variants.iter())
}

/// The variant a card's heart saves: among those matching the colour and size filters,
/// the first in stock here; without a match, the one the sheet opens on.
pub fn card_variant<'a>(sheet: &'a ProductSheet, color: Option<&str>, size: Option<&str>) -> Option<&'a VariantInfo> {
    let matching = sheet.variants.iter().filter(|v| {
        color.is_none_or(|c| v.color.as_deref() == Some(c)) && size.is_none_or(|s| v.size.as_deref() == Some(s))
    });
    in_stock_first(matching).or_else(|| first_available(sheet))
}

fn in_stock_first<'a>(mut variants: impl Iterator<Item = &'a VariantInfo> + Clone) -> Option<&'a VariantInfo> {
    variants.clone().find(|v| v.in_stock_here()).or_else(|| variants.next())
}

/// The sheet on screen and the variant chosen on it.
#[derive(Debug, Default)]
pub struct ProductState {
    pub sheet: Option<Rc<ProductSheet>>,
    pub chosen_sku: Option<String>,
    /// Where the sheet being opened was found, until its view is measured (a sheet
    /// loaded again in another language is not viewed again).
    opened_from: Option<ViewSource>,
    seq: u64,
}

impl ProductState {
    /// Opening another product forgets the previous one's choice.
    pub fn open(&mut self, group_id: &str) {
        if self.sheet.as_ref().is_none_or(|s| s.group_id != group_id) {
            self.sheet = None;
            self.chosen_sku = None;
        }
    }

    /// The variant shown: the chosen one, else the one the sheet opens on.
    pub fn chosen(&self) -> Option<&VariantInfo> {
        let sheet = self.sheet.as_deref()?;
        self.chosen_sku
            .as_ref()
            .and_then(|sku| sheet.variants.iter().find(|v| &v.sku == sku))
            .or_else(|| first_available(sheet))
    }

    /// A colour chip (`color`) or a size chip (`size`) tapped: the variant with that
    /// colour and the current size (or the nearest the sheet has).
    pub fn choose(&mut self, color: Option<usize>, size: Option<usize>) {
        let Some(sheet) = self.sheet.clone() else { return };
        let current = self.chosen();
        let mut want_color = current.and_then(|v| v.color.clone());
        let mut want_size = current.and_then(|v| v.size.clone());
        if let Some(i) = color {
            want_color = sheet.colors().get(i).cloned();
        }
        if let Some(i) = size {
            want_size = sheet.sizes().get(i).cloned();
        }
        self.chosen_sku = sheet
            .pick(want_color.as_deref(), want_size.as_deref())
            .map(|v| v.sku.clone());
    }

    fn next(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }
}

pub struct Product {
    ctx: Rc<Ctx>,
    state: RefCell<ProductState>,
}

pub fn setup(window: &AppWindow, ctx: &Rc<Ctx>) -> Rc<Product> {
    let product = Rc::new(Product {
        ctx: ctx.clone(),
        state: Default::default(),
    });
    on!(window, &product, ProductAdapter.on_select_color, |this, i| this
        .choose(Some(i as usize), None));
    on!(window, &product, ProductAdapter.on_select_size, |this, i| this
        .choose(None, Some(i as usize)));
    product
}

impl Product {
    /// Loads a product group's sheet, on `sku` when given (else the first in stock here);
    /// `source` is where the shopper found it.
    pub fn open_on(self: &Rc<Self>, group_id: &str, sku: Option<&str>, source: ViewSource) {
        {
            let mut state = self.state.borrow_mut();
            state.open(group_id);
            state.opened_from = Some(source);
            if let Some(sku) = sku {
                state.chosen_sku = Some(sku.to_owned());
            }
        }
        self.load(group_id.to_owned());
    }

    /// The chosen variant's SKU: the one asked for, even while its sheet loads.
    pub fn chosen_sku(&self) -> Option<String> {
        let state = self.state.borrow();
        state
            .chosen_sku
            .clone()
            .or_else(|| state.chosen().map(|v| v.sku.clone()))
    }

    /// The web store's page of the open product, attributed to this shop and the visit
    /// under way.
    pub fn link(&self) -> Option<String> {
        let state = self.state.borrow();
        let link = state.sheet.as_ref()?.link.as_deref()?;
        links::product(link, &self.ctx.store, self.ctx.visit.borrow().measured_id())
    }

    /// Loads the open sheet again (the language changed).
    pub fn refresh(self: &Rc<Self>) {
        let id = self.state.borrow().sheet.as_ref().map(|s| s.group_id.clone());
        if let Some(id) = id {
            self.load(id);
        }
    }

    fn load(self: &Rc<Self>, group_id: String) {
        let seq = self.state.borrow_mut().next();
        let (lang, store, this) = (self.ctx.content_lang(), self.ctx.store.clone(), self.clone());
        self.ctx.spawn(async move {
            let answer = this.ctx.catalog.run(move |c| c.product(&lang, &group_id, &store)).await;
            if this.state.borrow().seq != seq {
                return;
            }
            match answer {
                Ok(Some(sheet)) => {
                    this.state.borrow_mut().sheet = Some(Rc::new(sheet));
                    this.show(true);
                    this.measure_view();
                }
                Ok(None) => tracing::warn!("product is no longer in the catalog"),
                Err(e) => tracing::error!("cannot load product: {e}"),
            }
        });
    }

    /// Records the view of a sheet just opened, on the variant it shows.
    fn measure_view(&self) {
        let viewed = {
            let mut state = self.state.borrow_mut();
            let source = state.opened_from.take();
            source.zip(state.chosen_sku.clone())
        };
        if let Some((source, sku)) = viewed {
            self.ctx.record(EventDetail::ProductViewed { sku, source });
        }
    }

    /// Selects a variant of the open product by SKU (a scanned code, a wishlist line).
    pub fn choose_sku(self: &Rc<Self>, sku: &str) {
        self.state.borrow_mut().chosen_sku = Some(sku.to_owned());
        self.show(true);
    }

    fn choose(self: &Rc<Self>, color: Option<usize>, size: Option<usize>) {
        self.state.borrow_mut().choose(color, size);
        // Another colour is another gallery.
        self.show(color.is_some());
    }

    /// Fills the adapter for the chosen variant; reloads pictures when the gallery changed.
    fn show(self: &Rc<Self>, new_pictures: bool) {
        let mut state = self.state.borrow_mut();
        let Some(sheet) = state.sheet.clone() else { return };
        let Some(chosen) = state.chosen().cloned() else { return };
        state.chosen_sku = Some(chosen.sku.clone());
        drop(state);
        let (lang, now) = (self.ctx.lang(), self.ctx.now());
        let saved = self.ctx.visit.borrow().is_saved(&chosen.sku);
        let has_link = self.link().is_some();
        let (colors, sizes) = adapters::variant_chips(&sheet, &chosen);
        let stock = adapters::stock(&chosen);
        let sale = chosen.active_sale(now);
        self.ctx.with_window(|w| {
            let p = w.global::<ProductAdapter>();
            p.set_title(sheet.title.as_str().into());
            p.set_brand(sheet.brand.as_deref().unwrap_or_default().to_uppercase().into());
            p.set_category(sheet.category.as_deref().unwrap_or_default().into());
            p.set_description(sheet.description.as_str().into());
            p.set_sku(chosen.sku.as_str().into());
            p.set_has_link(has_link);
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
                self.ctx.load_row_image(
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

    /// Fills or empties the sheet's heart.
    pub fn show_heart(&self) {
        let saved = self
            .chosen_sku()
            .is_some_and(|sku| self.ctx.visit.borrow().is_saved(&sku));
        self.ctx.with_window(|w| w.global::<ProductAdapter>().set_saved(saved));
    }

    /// The end of a visit: no sheet, answers on their way dropped.
    pub fn clear(&self) {
        {
            let mut state = self.state.borrow_mut();
            state.sheet = None;
            state.chosen_sku = None;
            state.opened_from = None;
            state.next();
        }
        self.ctx.with_window(|w| {
            let product = w.global::<ProductAdapter>();
            product.set_title("".into());
            product.set_brand("".into());
            product.set_price("".into());
            product.set_sale_price("".into());
            product.set_sale_ends("".into());
            product.set_color_name("".into());
            product.set_description("".into());
            product.set_category("".into());
            product.set_images(empty());
            product.set_colors(empty());
            product.set_sizes(empty());
            product.set_sku("".into());
            product.set_saved(false);
            product.set_has_link(false);
        });
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::catalog::ShopStock;
    use crate::domain::{Availability, Price};

    pub fn variant(sku: &str, color: &str, size: &str, here: Option<u32>) -> VariantInfo {
        VariantInfo {
            sku: sku.into(),
            size: Some(size.into()),
            color: Some(color.into()),
            gtin: None,
            price: Price {
                minor: 5900,
                currency: "EUR".into(),
            },
            sale: None,
            online: Availability::InStock,
            images: Vec::new(),
            here: here.map(|q| ShopStock {
                store_code: "PARIS".into(),
                quantity: Some(q),
                availability: if q > 0 {
                    Availability::InStock
                } else {
                    Availability::OutOfStock
                },
                updated_at: jiff::Timestamp::UNIX_EPOCH,
            }),
            elsewhere: Vec::new(),
        }
    }

    pub fn sheet() -> ProductSheet {
        ProductSheet {
            group_id: "DRESS".into(),
            title: "Robe".into(),
            brand: None,
            description: String::new(),
            category: None,
            link: None,
            variants: vec![
                variant("D-RED-S", "Rouge", "S", Some(0)),
                variant("D-RED-M", "Rouge", "M", Some(2)),
                variant("D-BLUE-S", "Bleu", "S", Some(1)),
                variant("D-BLUE-M", "Bleu", "M", Some(0)),
            ],
        }
    }

    #[test]
    fn a_sheet_opens_on_the_first_variant_in_stock_here() {
        let sheet = sheet();
        assert_eq!(first_available(&sheet).unwrap().sku, "D-RED-M");
        let mut state = ProductState {
            sheet: Some(Rc::new(sheet)),
            ..ProductState::default()
        };
        assert_eq!(state.chosen().unwrap().sku, "D-RED-M");
        state.open("DRESS");
        assert!(state.sheet.is_some(), "the same product keeps its sheet");
        state.open("SHIRT");
        assert!(state.sheet.is_none() && state.chosen_sku.is_none());
    }

    #[test]
    fn a_colour_keeps_the_size_and_a_size_keeps_the_colour() {
        let mut state = ProductState {
            sheet: Some(Rc::new(sheet())),
            chosen_sku: Some("D-RED-S".into()),
            ..ProductState::default()
        };
        let blue = state.sheet.as_ref().unwrap().colors().iter().position(|c| c == "Bleu");
        state.choose(blue, None);
        assert_eq!(state.chosen_sku.as_deref(), Some("D-BLUE-S"));
        let m = state.sheet.as_ref().unwrap().sizes().iter().position(|s| s == "M");
        state.choose(None, m);
        assert_eq!(state.chosen_sku.as_deref(), Some("D-BLUE-M"));
    }

    #[test]
    fn a_hearts_variant_follows_the_filters_then_the_stock() {
        let sheet = sheet();
        assert_eq!(card_variant(&sheet, Some("Bleu"), None).unwrap().sku, "D-BLUE-S");
        assert_eq!(card_variant(&sheet, None, Some("S")).unwrap().sku, "D-BLUE-S");
        assert_eq!(card_variant(&sheet, Some("Bleu"), Some("M")).unwrap().sku, "D-BLUE-M");
        assert_eq!(card_variant(&sheet, Some("Vert"), None).unwrap().sku, "D-RED-M");
    }
}
