//! The retailer's brand on a kiosk: what the hub sends is what the screens show, live,
//! and a brand whose colours would make text unreadable never reaches them.

use std::sync::Arc;

use slint::ComponentHandle;
use vitrine::kiosk::ui::{AppAdapter, BrandAdapter, Theme};
use vitrine::protocol::brand::{Brand, LogoFormat, TypePair};

use crate::browser::LOGO_SVG;
use crate::ui::{Ui, on_ui_thread};

fn save(db: &std::path::Path, brand: Brand) {
    let mut catalog = vitrine::catalog::Catalog::open(db).unwrap();
    let mut settings = vitrine::trust::settings(catalog.connection()).unwrap();
    settings.brand = brand;
    vitrine::trust::save_settings(catalog.connection(), &settings, jiff::Timestamp::now()).unwrap();
}

fn colour(hex: &str) -> slint::Color {
    let rgb: vitrine::brand::Rgb = hex.parse().unwrap();
    slint::Color::from_rgb_u8(rgb.0[0], rgb.0[1], rgb.0[2])
}

#[test]
fn a_brand_from_the_hub_shows_without_a_restart() {
    on_ui_thread(|| {
        let dir = tempfile::tempdir().unwrap();
        let db = vitrine::kiosk::demo_catalog(dir.path()).unwrap();
        let clock = Arc::new(|| "2026-11-22T12:00:00Z".parse().unwrap());
        let ui = Ui::on(&db, (1920, 1080), "fr", clock);
        let window = ui.window();
        let (theme, brand) = (window.global::<Theme>(), window.global::<BrandAdapter>());
        // The demo's own brand, and the kiosk's own colours.
        assert_eq!(brand.get_name(), "MAISON LUMEN");
        let built_in = theme.get_palette();
        assert_eq!(built_in.paper, colour("#f7f3ee"));

        // A Belgian jeweller: its name, colours, type, words and logo.
        let mut delvaux = Brand {
            name: "Bijouterie Delvaux".into(),
            background: Some("#fbfaf7".into()),
            accent: Some("#1f4e5f".into()),
            type_pair: TypePair::Modern,
            ..Brand::default()
        };
        delvaux
            .welcome
            .insert("fr".into(), "Bijoux faits main à Bruxelles".into());
        delvaux
            .welcome
            .insert("en".into(), "Handmade jewellery from Brussels".into());
        save(&db, delvaux.clone());
        ui.act(|shell| shell.refresh_status());
        assert_eq!(brand.get_name(), "Bijouterie Delvaux");
        assert!(!brand.get_has_logo());
        ui.find("Bijouterie Delvaux");
        assert_eq!(brand.get_welcome(), "Bijoux faits main à Bruxelles");
        ui.find("Bijoux faits main à Bruxelles");
        let palette = theme.get_palette();
        assert_eq!(palette.paper, colour("#fbfaf7"));
        assert_eq!(palette.accent, colour("#1f4e5f"));
        assert_eq!(palette.ink, built_in.ink, "text keeps the kiosk's ink");
        assert_eq!(theme.get_typo().serif, theme.get_typo().sans, "Inter throughout");
        ui.act(|shell| shell.set_language("en"));
        assert_eq!(brand.get_welcome(), "Handmade jewellery from Brussels");

        // The logo arrives with a later pull: it replaces the written name.
        let logo = LOGO_SVG.as_bytes();
        let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(logo));
        delvaux.logo = Some(vitrine::protocol::brand::Logo {
            sha256: sha.clone(),
            format: LogoFormat::Svg,
        });
        save(&db, delvaux.clone());
        ui.act(|shell| shell.refresh_status());
        assert!(!brand.get_has_logo(), "not fetched yet: still the name");
        let conn = vitrine::db::open(&db, vitrine::db::Schema::Kiosk).unwrap();
        vitrine::trust::save_brand_logo(&conn, &sha, logo).unwrap();
        ui.act(|shell| shell.refresh_status());
        assert!(brand.get_has_logo());
        assert_eq!(brand.get_logo().size().height, 144, "drawn at twice its tallest");
        ui.find("Bijouterie Delvaux");

        // Its own font for the text, fetched by a later pull: registered, and used.
        let garamond: &[u8] = include_bytes!("../assets/fonts/EBGaramond12-Regular.ttf");
        let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(garamond));
        delvaux.text_font = Some(vitrine::protocol::brand::Font {
            family: "EB Garamond 12".into(),
            sha256: sha.clone(),
        });
        save(&db, delvaux.clone());
        ui.act(|shell| shell.refresh_status());
        assert_eq!(theme.get_typo().sans, "Inter", "not fetched yet: the pair's");
        vitrine::trust::save_brand_font(&conn, &sha, garamond).unwrap();
        ui.act(|shell| shell.refresh_status());
        let text = theme.get_typo().sans;
        assert!(text.starts_with("EB Garamond"), "{text}");
        ui.find("Bijouterie Delvaux");

        // A logo the kiosk will not draw (an SVG filter, whose cost has no bound): the
        // name again.
        let blurred = br#"<svg xmlns="http://www.w3.org/2000/svg" width="100" height="20"><filter id="f"><feTurbulence numOctaves="4000000000"/></filter><rect width="100" height="20" filter="url(#f)"/></svg>"#;
        let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(blurred));
        delvaux.logo = Some(vitrine::protocol::brand::Logo {
            sha256: sha.clone(),
            format: LogoFormat::Svg,
        });
        save(&db, delvaux.clone());
        vitrine::trust::save_brand_logo(&conn, &sha, blurred).unwrap();
        ui.act(|shell| shell.refresh_status());
        assert!(!brand.get_has_logo());
        assert_eq!(brand.get_name(), "Bijouterie Delvaux");

        // Colours that fail the contrast check (sent by a hub that did not check): the
        // kiosk shows none of it, rather than text nobody can read.
        let unreadable = Brand {
            name: "Noir".into(),
            background: Some("#111111".into()),
            ..Brand::default()
        };
        save(&db, unreadable);
        ui.act(|shell| shell.refresh_status());
        assert_eq!(brand.get_name(), "", "none of a brand that fails the check");
        assert_eq!(theme.get_palette(), built_in);
        assert!(!brand.get_has_logo());

        // No brand at all: the shop's name is the wordmark, and nothing says Maison Lumen.
        save(&db, Brand::default());
        ui.act(|shell| shell.refresh_status());
        assert_eq!(brand.get_name(), "");
        assert_eq!(brand.get_welcome(), "");
        let shop = window.global::<AppAdapter>().get_store_name();
        assert!(!shop.is_empty());
        ui.find(&shop);
        assert_eq!(theme.get_typo().serif, "EB Garamond");
    });
}
