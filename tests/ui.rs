//! The kiosk driven headlessly as a shopper would: taps at the place of elements found by
//! their accessible label, real catalog thread, real pictures, the software renderer.
//!
//! Slint keeps one event-loop proxy per process, so every test runs its body on one UI
//! thread, in turn.

use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, mpsc};

use i_slint_backend_testing::{ElementHandle, ElementQuery};
use slint::{ComponentHandle, Model};
use vitrine::kiosk::headless::Headless;
use vitrine::kiosk::ui::{
    AppAdapter, Notice, ProductAdapter, ResultsAdapter, Screen, SearchAdapter, StockState, WishlistAdapter,
};
use vitrine::protocol::Owner;

use crate::world::World;
use vitrine::bench::proxy::{Fault, Proxy};

type Job = Box<dyn FnOnce() + Send>;

pub(crate) fn on_ui_thread<R: Send + 'static>(body: impl FnOnce() -> R + Send + 'static) -> R {
    static UI: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    let sender = UI.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("ui".into())
            .spawn(move || {
                for job in rx {
                    job();
                }
            })
            .unwrap();
        Mutex::new(tx)
    });
    let (done, result) = mpsc::channel();
    let job: Job = Box::new(move || {
        let _ = done.send(std::panic::catch_unwind(AssertUnwindSafe(body)));
    });
    sender.lock().unwrap().send(job).unwrap();
    match result.recv().unwrap() {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// The demo catalog, imported once for all UI tests (with what is popular in the shop,
/// as the demo hub would tell). They only read the catalog; the wishlists they fill
/// belong each to its own anonymous visit.
pub(crate) fn demo_db() -> PathBuf {
    static DB: OnceLock<PathBuf> = OnceLock::new();
    DB.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap().keep();
        vitrine::kiosk::demo_catalog(&dir).unwrap()
    })
    .clone()
}

pub(crate) struct Ui {
    pub(crate) h: Headless,
}

impl Ui {
    pub(crate) fn start(size: (u32, u32), lang: &str) -> Ui {
        let clock = Arc::new(|| "2026-11-22T12:00:00Z".parse().unwrap());
        Ui::on(&demo_db(), size, lang, clock)
    }

    pub(crate) fn on(db: &std::path::Path, size: (u32, u32), lang: &str, clock: vitrine::kiosk::context::Clock) -> Ui {
        Ui::with_sync(db, size, lang, clock, None)
    }

    pub(crate) fn with_sync(
        db: &std::path::Path,
        size: (u32, u32),
        lang: &str,
        clock: vitrine::kiosk::context::Clock,
        sync: Option<vitrine::sync::driver::SyncLink>,
    ) -> Ui {
        let h = Headless::new(db, vitrine::demo::HOME_STORE, size, clock, sync).unwrap();
        h.kiosk.shell.start(lang);
        h.settle().unwrap();
        h.render().unwrap();
        Ui { h }
    }

    /// Does what a shopper's gesture would through the shell, then waits for the
    /// kiosk to settle and draws the frame.
    pub(crate) fn act(&self, gesture: impl FnOnce(&std::rc::Rc<vitrine::kiosk::shell::Shell>)) {
        gesture(&self.h.kiosk.shell);
        self.h.settle().unwrap();
        self.h.render().unwrap();
    }

    /// Runs the event loop until `done` holds (a timer-driven change).
    pub(crate) fn wait_for(&self, what: &str, done: impl Fn(&vitrine::kiosk::ui::AppWindow) -> bool) {
        let window = self.window().as_weak();
        self.h
            .settle_until(what, move || window.upgrade().is_some_and(|w| done(&w)))
            .unwrap();
        self.h.render().unwrap();
    }

    pub(crate) fn wishlist(&self) -> Vec<vitrine::kiosk::ui::WishlistItemData> {
        self.window().global::<WishlistAdapter>().get_items().iter().collect()
    }

    pub(crate) fn window(&self) -> &vitrine::kiosk::ui::AppWindow {
        &self.h.kiosk.window
    }

    pub(crate) fn screen(&self) -> Screen {
        self.window().global::<AppAdapter>().get_screen()
    }

    /// The first element with this accessible label that is on screen.
    pub(crate) fn find(&self, label: &str) -> ElementHandle {
        let (w, h) = self.size();
        ElementHandle::find_by_accessible_label(self.window(), label)
            .find(|e| {
                let (p, s) = (e.absolute_position(), e.size());
                s.width > 0.0 && p.x >= 0.0 && p.y >= 0.0 && p.x + s.width <= w + 0.5 && p.y + s.height <= h + 0.5
            })
            .unwrap_or_else(|| panic!("no element labelled {label:?} on the {:?} screen", self.screen()))
    }

    fn result_titles(&self) -> Vec<String> {
        let results = self.window().global::<ResultsAdapter>().get_results();
        results.iter().map(|c| c.title.to_string()).collect()
    }

    pub(crate) fn has(&self, label: &str) -> bool {
        ElementHandle::find_by_accessible_label(self.window(), label)
            .next()
            .is_some()
    }

    fn size(&self) -> (f32, f32) {
        let s = self.window().window().size();
        (s.width as f32, s.height as f32)
    }

    /// Taps the middle of the element labelled `label`, then waits for the kiosk to settle.
    pub(crate) fn tap(&self, label: &str) {
        let e = self.find(label);
        let (p, s) = (e.absolute_position(), e.size());
        self.h.tap(p.x + s.width / 2.0, p.y + s.height / 2.0);
        self.h.settle().unwrap();
        self.h.render().unwrap();
    }

    /// Vertical spans of rows that scroll sideways (ids ending in `sideways`): text there
    /// may run past the window edge, a finger brings it in.
    fn sideways_rows(&self) -> Vec<(f32, f32)> {
        ElementQuery::from_root(self.window())
            .match_descendants()
            .match_predicate(|e| e.id().is_some_and(|id| id.ends_with("sideways")))
            .find_all()
            .into_iter()
            .map(|e| (e.absolute_position().y, e.absolute_position().y + e.size().height))
            .collect()
    }

    /// Rectangles of what floats over a screen (ids ending in `overlay`): a toast may
    /// cover the text under it for a moment.
    fn overlays(&self) -> Vec<(f32, f32, f32, f32)> {
        ElementQuery::from_root(self.window())
            .match_descendants()
            .match_predicate(|e| e.id().is_some_and(|id| id.ends_with("overlay")))
            .find_all()
            .into_iter()
            .map(|e| {
                (
                    e.absolute_position().x,
                    e.absolute_position().y,
                    e.size().width,
                    e.size().height,
                )
            })
            .collect()
    }

    /// Texts stay inside the window (but in rows that scroll sideways) and never
    /// overlap one another (but under what floats).
    pub(crate) fn assert_texts_fit(&self, context: &str) {
        let texts = self.texts();
        let (w, _) = self.size();
        assert!(texts.len() >= 3, "{context}: nothing rendered?");
        let sideways = self.sideways_rows();
        for (text, (x, y, width, _)) in &texts {
            if sideways.iter().any(|(top, bottom)| y >= top && y <= bottom) {
                continue;
            }
            assert!(
                *x >= -0.5 && x + width <= w + 0.5,
                "{context}: {text:?} is cut by the window edge ({x} + {width} > {w})"
            );
        }
        let overlays = self.overlays();
        let floating = |r: &(f32, f32, f32, f32)| {
            overlays.iter().any(|o| {
                let overlap_x = (r.0 + r.2).min(o.0 + o.2) - r.0.max(o.0);
                let overlap_y = (r.1 + r.3).min(o.1 + o.3) - r.1.max(o.1);
                overlap_x > 0.0 && overlap_y > 0.0
            })
        };
        for (i, (a, ra)) in texts.iter().enumerate() {
            for (b, rb) in &texts[i + 1..] {
                if floating(ra) || floating(rb) {
                    continue;
                }
                let overlap_x = (ra.0 + ra.2).min(rb.0 + rb.2) - ra.0.max(rb.0);
                let overlap_y = (ra.1 + ra.3).min(rb.1 + rb.3) - ra.1.max(rb.1);
                assert!(overlap_x <= 2.0 || overlap_y <= 2.0, "{context}: {a:?} overlaps {b:?}");
            }
        }
    }

    /// Visible text elements: their text and rectangle.
    fn texts(&self) -> Vec<(String, (f32, f32, f32, f32))> {
        let (w, h) = self.size();
        // A text a scrolling area cuts off at its edge is seen only within the area.
        let areas: Vec<_> = ElementQuery::from_root(self.window())
            .match_descendants()
            .match_predicate(|e| {
                e.type_name().as_deref() == Some("Flickable")
                    || e.bases().is_some_and(|mut b| b.any(|base| base == "Flickable"))
            })
            .find_all()
            .into_iter()
            .map(|f| {
                let (p, s) = (f.absolute_position(), f.size());
                let inside: Vec<_> = f
                    .query_descendants()
                    .match_type_name("Text")
                    .find_all()
                    .iter()
                    .map(|t| (t.absolute_position().x, t.absolute_position().y, t.accessible_label()))
                    .collect();
                ((p.y, p.y + s.height), inside)
            })
            .collect();
        let mut found = ElementQuery::from_root(self.window())
            .match_descendants()
            .match_type_name("Text")
            .find_all()
            .into_iter()
            .filter(|e| e.computed_opacity() > 0.0)
            .filter_map(|e| {
                let (p, s) = (e.absolute_position(), e.size());
                let label = e.accessible_label();
                let (mut top, mut bottom) = (p.y, p.y + s.height);
                for ((area_top, area_bottom), inside) in &areas {
                    if inside.contains(&(p.x, p.y, label.clone())) {
                        top = top.max(*area_top);
                        bottom = bottom.min(*area_bottom);
                    }
                }
                let text = label.map(|t| t.to_string()).unwrap_or_default();
                let on_screen = top >= 0.0 && bottom <= h && bottom > top && p.x < w && s.width > 0.0;
                (on_screen && !text.trim().is_empty()).then_some((text, (p.x, top, s.width, bottom - top)))
            })
            .collect::<Vec<_>>();
        // An element inherited through a component is reported once per level.
        found.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        found.dedup();
        found
    }
}

#[test]
fn tapping_a_category_opens_its_products() {
    on_ui_thread(|| {
        let ui = Ui::start((1920, 1080), "fr");
        assert_eq!(ui.screen(), Screen::Attract);
        ui.tap("Touchez l’écran pour commencer");
        assert_eq!(ui.screen(), Screen::Home);
        ui.tap("Sacs");
        assert_eq!(ui.screen(), Screen::Results);
        let results = ui.window().global::<ResultsAdapter>();
        assert_eq!(results.get_title(), "Sacs");
        assert_eq!(results.get_eyebrow(), "ACCESSOIRES");
        let total = results.get_total();
        assert!(total >= 4, "{total}");
        let titles = ui.result_titles();
        assert!(titles.iter().all(|t| t.starts_with("Sac ")), "{titles:?}");

        // Filters narrow the list, and clearing them brings it back.
        ui.tap("En stock ici");
        let here = results.get_total();
        assert!(results.get_in_stock_here() && here <= total);
        ui.tap("Taille TU");
        assert!(results.get_total() <= here);
        ui.tap("Effacer les filtres");
        assert_eq!(results.get_total(), total);
        ui.tap("Retour");
        assert_eq!(ui.screen(), Screen::Home);
    });
}

#[test]
fn typing_on_the_on_screen_keyboard_shows_results_as_you_type() {
    on_ui_thread(|| {
        let ui = Ui::start((1080, 1920), "fr");
        ui.tap("Touchez l’écran pour commencer");
        ui.tap("Chercher dans la boutique");
        assert_eq!(ui.screen(), Screen::Search);
        let search = ui.window().global::<SearchAdapter>();
        ui.tap("j");
        ui.tap("e");
        assert_eq!(search.get_query(), "je");
        let titles: Vec<String> = search.get_results().iter().map(|c| c.title.to_string()).collect();
        // Titles weigh most: the jeans first, then pieces whose description says "jersey".
        assert!(
            titles.len() > 4 && titles[..4].iter().all(|t| t.starts_with("Jean ")),
            "{titles:?}"
        );
        // Accented letters from the French layout, and backspace.
        ui.tap("Supprimer");
        ui.tap("Supprimer");
        for key in ["é", "c", "h"] {
            ui.tap(key);
        }
        assert_eq!(search.get_query(), "éch");
        let titles: Vec<String> = search.get_results().iter().map(|c| c.title.to_string()).collect();
        assert!(titles.iter().any(|t| t.starts_with("Écharpe")), "{titles:?}");
        ui.tap("Effacer");
        assert_eq!(search.get_query(), "");
        assert_eq!(search.get_results().row_count(), 0);
        // A reference typed in full opens the way to its product.
        for key in ["x", "y", "z"] {
            ui.tap(key);
        }
        assert_eq!(search.get_total(), 0);
        assert!(ui.has("Rien ne correspond à « xyz ». Essayez moins de lettres ou un autre mot."));
    });
}

#[test]
fn choosing_a_variant_shows_its_own_stock() {
    on_ui_thread(|| {
        let ui = Ui::start((1920, 1080), "fr");
        let catalog = vitrine::catalog::Catalog::open(&demo_db()).unwrap();
        let sheet = catalog
            .product("fr", "ML-DRESS-01", vitrine::demo::HOME_STORE)
            .unwrap()
            .unwrap();
        ui.act(|c| c.open_product("ML-DRESS-01", vitrine::protocol::measure::ViewSource::Featured));
        assert_eq!(ui.screen(), Screen::Product);
        let product = ui.window().global::<ProductAdapter>();
        assert_eq!(product.get_title(), sheet.title.as_str());
        assert_eq!(product.get_images().row_count(), 3);
        assert!(
            product.get_images().iter().all(|i| i.size().width > 0),
            "pictures are decoded"
        );

        let mut seen = std::collections::BTreeSet::new();
        for color in sheet.colors() {
            ui.tap(&format!("Couleur {color}"));
            for size in sheet.sizes() {
                ui.tap(&format!("Taille {size}"));
                let sku = product.get_sku().to_string();
                let variant = sheet.variants.iter().find(|v| v.sku == sku).unwrap();
                assert_eq!(
                    (variant.color.as_ref(), variant.size.as_ref()),
                    (Some(&color), Some(&size))
                );
                let expected = match variant.here.as_ref() {
                    Some(h) if !h.is_available() => StockState::OutHere,
                    Some(h) if h.quantity.is_some_and(|q| q <= 3) => StockState::Low,
                    Some(_) => StockState::InStock,
                    None => StockState::Unknown,
                };
                assert_eq!(product.get_stock(), expected, "{sku}");
                assert_eq!(product.get_other_shops() as usize, variant.elsewhere.len(), "{sku}");
                seen.insert(format!("{:?}", product.get_stock()));
            }
        }
        assert!(
            seen.len() >= 2,
            "the demo dress has variants in different stock states: {seen:?}"
        );
    });
}

#[test]
fn switching_language_translates_the_interface_and_the_catalog() {
    on_ui_thread(|| {
        let ui = Ui::start((1280, 800), "fr");
        assert!(ui.has("Touchez l’écran pour commencer"));
        ui.tap("English");
        assert!(ui.has("Touch to start"), "interface in English");
        ui.tap("Touch to start");
        ui.tap("Bags");
        let titles = ui.result_titles();
        assert!(
            !titles.is_empty() && titles.iter().all(|t| t.ends_with(" bag")),
            "catalog in English: {titles:?}"
        );
        ui.tap("Français");
        // The same category, now in French.
        assert_eq!(ui.window().global::<ResultsAdapter>().get_title(), "Sacs");
        assert!(ui.has("En stock ici"), "interface back in French");
        let titles = ui.result_titles();
        assert!(
            !titles.is_empty() && titles.iter().all(|t| t.starts_with("Sac ")),
            "catalog in French: {titles:?}"
        );
    });
}

/// The screens a shopper sees, for the checks that go through each of them.
pub(crate) const SHOPPER_SCREENS: [vitrine::kiosk::Screen; 6] = [
    vitrine::kiosk::Screen::Attract,
    vitrine::kiosk::Screen::Home,
    vitrine::kiosk::Screen::Search,
    vitrine::kiosk::Screen::Results,
    vitrine::kiosk::Screen::Product,
    vitrine::kiosk::Screen::Wishlist,
];

/// Every screen, in the three sizes and both languages: texts stay inside the window
/// and never overlap one another.
#[test]
fn every_screen_fits_every_size_in_both_languages() {
    on_ui_thread(|| {
        let db = demo_db();
        for lang in ["fr", "en"] {
            for size in [(1080, 1920), (1920, 1080), (1280, 800)] {
                for screen in SHOPPER_SCREENS {
                    let clock = Arc::new(|| "2026-11-22T12:00:00Z".parse().unwrap());
                    let h = Headless::new(&db, vitrine::demo::HOME_STORE, size, clock, None).unwrap();
                    let request = vitrine::kiosk::snapshot::Request::new(screen, lang, size);
                    vitrine::kiosk::snapshot::show(&h, &db, &request).unwrap();
                    h.render().unwrap();
                    let ui = Ui { h };
                    let context = format!("{screen:?} {lang} {}x{}", size.0, size.1);
                    let sideways = ui.sideways_rows();
                    assert!(
                        screen != vitrine::kiosk::Screen::Results || !sideways.is_empty(),
                        "{context}: the filter row is not found"
                    );
                    ui.assert_texts_fit(&context);
                }
            }
        }
    });
}

#[test]
fn the_home_screen_shows_what_is_popular_in_the_shop_and_counts_its_views() {
    on_ui_thread(|| {
        let ui = Ui::start((1080, 1920), "en");
        ui.act(|c| c.go(Screen::Home));
        let home = ui.window().global::<vitrine::kiosk::ui::HomeAdapter>();
        let popular = home.get_popular();
        assert_eq!(popular.row_count(), 8, "at most eight pieces");
        // Opening one counts as a view from the home screen's rows.
        let first = popular.row_data(0).unwrap();
        ui.act(|_| home.invoke_open_product(first.id.clone()));
        assert_eq!(ui.screen(), Screen::Product);
        let conn = rusqlite::Connection::open(demo_db()).unwrap();
        let sources: Vec<String> = conn
            .prepare("SELECT body FROM event")
            .unwrap()
            .query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .map(Result::unwrap)
            .filter(|body| body.contains("product_viewed"))
            .collect();
        assert!(sources.iter().any(|b| b.contains("\"featured\"")), "{sources:?}");
    });
}

/// The latest op the kiosk queued for `sku`: its owner, action and session.
fn last_op(db: &std::path::Path, sku: &str) -> (Owner, String, Option<String>) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(
        "SELECT owner_kind, owner, action, session FROM outbox WHERE sku = ?1 ORDER BY id DESC LIMIT 1",
        [sku],
        |r| {
            let kind: String = r.get(0)?;
            Ok((Owner::from_parts(&kind, r.get(1)?), r.get(2)?, r.get(3)?))
        },
    )
    .unwrap()
}

#[test]
fn the_sheet_heart_saves_the_chosen_size_and_colour_for_this_visit() {
    on_ui_thread(|| {
        let ui = Ui::start((1280, 800), "en");
        ui.tap("Touch to start");
        ui.act(|c| c.open_product("ML-DRESS-01", vitrine::protocol::measure::ViewSource::Featured));
        let product = ui.window().global::<ProductAdapter>();
        let app = ui.window().global::<AppAdapter>();
        let size = product.get_sizes().row_data(1).unwrap().label.to_string();
        ui.tap(&format!("Size {size}"));
        let sku = product.get_sku().to_string();
        assert!(!product.get_saved());

        ui.tap("Add to my wishlist");
        assert!(product.get_saved() && ui.has("Saved to my wishlist"));
        assert_eq!(app.get_notice(), Notice::Saved);
        assert_eq!(app.get_wishlist_count(), 1);
        // One transaction put it on the list and in the outbox, for the anonymous visit.
        let (owner, action, session) = last_op(&demo_db(), &sku);
        let Owner::Visit(visit) = &owner else {
            panic!("{owner:?} is not a visit")
        };
        assert_eq!((action.as_str(), session.as_deref()), ("add", Some(visit.as_str())));

        ui.tap("My wishlist");
        assert_eq!(ui.screen(), Screen::Wishlist);
        let items = ui.wishlist();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].sku, sku.as_str());
        assert!(items[0].variant.ends_with(&format!("· {size}")), "{}", items[0].variant);
        assert!(items[0].image.size().width > 0, "the line has its picture");

        // The line opens its product on the saved size and colour.
        ui.tap(&format!("{}, {}", items[0].title, items[0].variant));
        assert_eq!(ui.screen(), Screen::Product);
        assert_eq!(product.get_sku(), sku.as_str());
        assert!(product.get_saved());

        ui.tap("My wishlist");
        ui.tap(&format!("Remove {} from my wishlist", items[0].title));
        assert!(ui.wishlist().is_empty() && ui.has("Your wishlist is empty"));
        assert_eq!(app.get_wishlist_count(), 0);
        assert_eq!(app.get_notice(), Notice::Removed);
        assert_eq!(last_op(&demo_db(), &sku).1, "remove");

        // The next shopper starts with an empty list.
        ui.act(|c| c.save_sku(&sku));
        assert_eq!(app.get_wishlist_count(), 1);
        ui.act(|c| c.begin_visit());
        assert_eq!(app.get_wishlist_count(), 0);
        assert!(ui.wishlist().is_empty());
    });
}

#[test]
fn a_card_heart_saves_the_size_the_shopper_filtered_on() {
    on_ui_thread(|| {
        let ui = Ui::start((1920, 1080), "fr");
        ui.tap("Touchez l’écran pour commencer");
        ui.act(|c| c.open_category("Femme > Robes"));
        let results = ui.window().global::<ResultsAdapter>();
        let size = results.get_sizes().row_data(1).unwrap().label.to_string();
        ui.tap(&format!("Taille {size}"));
        let first = results.get_results().row_data(0).unwrap();
        assert!(!first.saved);

        ui.tap(&format!("Ajouter {} à mes favoris", first.title));
        assert!(
            results.get_results().row_data(0).unwrap().saved,
            "the card's heart is filled"
        );
        let items = ui.wishlist();
        assert_eq!(items.len(), 1);
        assert!(items[0].variant.ends_with(&format!("· {size}")), "{}", items[0].variant);

        // Tapped again, the heart takes every size of the product off the list.
        ui.tap(&format!("Retirer {} de mes favoris", first.title));
        assert!(!results.get_results().row_data(0).unwrap().saved);
        assert!(ui.wishlist().is_empty());
    });
}

/// The whole way with the network down then back: the heart says saved at once, the
/// banner counts what waits, and the hub ends with the line once, from this shop.
#[test]
fn saved_offline_reaches_the_web_store_once_the_network_is_back() {
    on_ui_thread(|| {
        let world = World::new();
        let proxy = Proxy::start(world.hub.addr).unwrap();
        let kiosk = world.pulled_kiosk_at("tablet", vitrine::demo::HOME_STORE, &proxy.url());
        let syncer = kiosk.syncer(crate::world::quick_policy());

        let ui = Ui::on(&kiosk.db, (1280, 800), "en", Arc::new(jiff::Timestamp::now));
        ui.tap("Touch to start");
        ui.act(|c| c.open_product("ML-DRESS-01", vitrine::protocol::measure::ViewSource::Featured));
        let sku = ui.window().global::<ProductAdapter>().get_sku().to_string();

        proxy.set(Fault::Reset);
        ui.tap("Add to my wishlist");
        assert!(ui.has("Saved to my wishlist"), "saved before any network");
        world.rt.block_on(syncer.push_step()).unwrap();
        ui.wait_for("the offline banner", |w| w.global::<AppAdapter>().get_offline());
        assert_eq!(ui.window().global::<AppAdapter>().get_waiting(), 1);
        assert!(ui.has("Offline: 1 item kept on this kiosk, sent when the network is back"));

        proxy.set(Fault::None);
        std::thread::sleep(std::time::Duration::from_millis(50));
        world.rt.block_on(syncer.drain()).unwrap();
        ui.wait_for("the banner to go", |w| !w.global::<AppAdapter>().get_offline());
        assert_eq!(ui.window().global::<AppAdapter>().get_waiting(), 0);

        let (lines, _) = world.pull_all(100);
        assert_eq!(lines.len(), 1, "{lines:?}");
        let line = &lines[0];
        assert_eq!(line.sku, sku);
        assert!(line.present && matches!(line.owner, Owner::Visit(_)));
        assert_eq!(line.origin.store_code.as_deref(), Some(vitrine::demo::HOME_STORE));
        assert!(matches!(&line.owner, Owner::Visit(v) if line.origin.session.as_ref() == Some(v)));
    });
}

/// What store ops set in the console reaches the attract loop without a restart: the
/// pieces they name come first, and their campaign line replaces the built-in one.
#[test]
fn store_ops_put_their_pieces_first_and_their_campaign_on_the_attract_screen() {
    use vitrine::kiosk::ui::{AttractAdapter, HomeAdapter};
    use vitrine::protocol::RemoteSettings;

    on_ui_thread(|| {
        // A catalog of its own: the settings are written into it.
        let dir = tempfile::tempdir().unwrap();
        let db = vitrine::kiosk::demo_catalog(dir.path()).unwrap();
        let clock = Arc::new(|| "2026-11-22T12:00:00Z".parse().unwrap());
        let ui = Ui::on(&db, (1080, 1920), "fr", clock);
        assert_eq!(ui.screen(), Screen::Attract);
        let ids = |model: slint::ModelRc<vitrine::kiosk::ui::ProductCardData>| {
            model.iter().map(|c| c.id.to_string()).collect::<Vec<_>>()
        };
        let attract = ui.window().global::<AttractAdapter>();
        let before = ids(attract.get_featured());
        assert!(before.len() > 1, "the demo features several pieces: {before:?}");
        assert_eq!(attract.get_campaign(), "");
        let chosen = before.last().unwrap().clone();

        let campaign = "Soldes d'hiver -30 %";
        let save = |remote: RemoteSettings| {
            let mut catalog = vitrine::catalog::Catalog::open(&db).unwrap();
            let mut settings = vitrine::trust::settings(catalog.connection()).unwrap();
            assert!(!settings.shops.is_empty(), "the demo's shops stay");
            settings.remote = remote;
            let now = "2026-11-22T12:00:00Z".parse().unwrap();
            vitrine::trust::save_settings(catalog.connection(), &settings, now).unwrap();
        };
        save(RemoteSettings {
            version: 1,
            featured: vec!["NOT-IN-THE-CATALOG".into(), chosen.clone()],
            campaign: Some(campaign.into()),
            ..Default::default()
        });
        // What the status timer does every two seconds.
        ui.act(|shell| shell.refresh_status());

        let after = ids(attract.get_featured());
        assert_eq!(after[0], chosen, "{after:?}");
        assert_eq!(after.len(), before.len(), "as many pieces as before");
        assert!(
            after.iter().filter(|id| **id == chosen).count() == 1,
            "the chosen piece once: {after:?}"
        );
        let home = ui.window().global::<HomeAdapter>();
        assert_eq!(ids(home.get_featured())[0], chosen, "the home screen's row too");
        assert_eq!(attract.get_campaign(), campaign);
        ui.find(campaign);

        // Ops clear both: the kiosk's own pieces and line come back.
        save(RemoteSettings {
            version: 2,
            ..Default::default()
        });
        ui.act(|shell| shell.refresh_status());
        assert_eq!(ids(attract.get_featured()), before);
        assert_eq!(attract.get_campaign(), "");
    });
}
