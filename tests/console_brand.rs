//! The console's brand page through HTTP, as a browser uses it (see `console` for the
//! browser stand-in and the chain it runs on): an admin's brand reaching the kiosks'
//! settings and the audit log, colours and logos refused with what to change, the brand's
//! own fonts (uploaded, served to kiosks, kept, removed, refused), who may change it, and a
//! brand fixed in `hub.toml` shown but not changeable.

use jiff::Timestamp;
use reqwest::StatusCode;
use vitrine::brand::{ColourError, INK_SOFT, Rgb, Scheme};
use vitrine::hub::accounts::{Hashed, Role};
use vitrine::hub::audit::Actor;
use vitrine::hub::brand::Branding;
use vitrine::hub::{self, admin};
use vitrine::protocol::brand::{Brand, MAX_FONT_BYTES};

use crate::console::{Browser, PASSWORD, Page, chain, device_token};
use crate::world::{World, hub_conn};

/// An OFL font (its family: "Inter").
const INTER: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/fonts/Inter-Regular.otf"));

const LOGO: &[u8] = br##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 40"><rect width="120" height="40" fill="#1f4e5f"/></svg>"##;

/// The brand form as an admin fills it in (the English welcome line left empty).
const DELVAUX: &[(&str, &str)] = &[
    ("name", "Bijouterie Delvaux"),
    ("background", "#fbfaf7"),
    ("accent", "#1f4e5f"),
    ("type_pair", "modern"),
    ("welcome_fr", "Bijoux faits main à Bruxelles"),
    ("welcome_en", ""),
];

/// The brand form's files, each a file name and its bytes, or none chosen.
#[derive(Default, Clone, Copy)]
struct Files<'a> {
    logo: Option<(&'a str, &'a [u8])>,
    titles_font: Option<(&'a str, &'a [u8])>,
    text_font: Option<(&'a str, &'a [u8])>,
}

/// Posts the brand form (multipart), with the form token first when given and the logo
/// last, as a browser sends them; without a logo the file field goes empty, as a browser
/// sends it when no file is chosen.
fn post_brand(
    browser: &mut Browser,
    token: Option<&str>,
    fields: &[(&str, &str)],
    logo: Option<(&str, &[u8])>,
) -> Page {
    post_brand_files(
        browser,
        token,
        fields,
        Files {
            logo,
            ..Files::default()
        },
    )
}

/// [`post_brand`] with every file field: the logo, then the fonts, each empty when no
/// file is chosen.
fn post_brand_files(browser: &mut Browser, token: Option<&str>, fields: &[(&str, &str)], files: Files<'_>) -> Page {
    let mut form = reqwest::multipart::Form::new();
    if let Some(token) = token {
        form = form.text("authenticity_token", token.to_owned());
    }
    for (name, value) in fields {
        form = form.text(name.to_string(), value.to_string());
    }
    for (field, file) in [
        ("logo", files.logo),
        ("titles_font", files.titles_font),
        ("text_font", files.text_font),
    ] {
        let (file_name, bytes) = match file {
            Some((name, bytes)) => (name.to_owned(), bytes.to_vec()),
            None => (String::new(), Vec::new()),
        };
        form = form.part(field, reqwest::multipart::Part::bytes(bytes).file_name(file_name));
    }
    let url = format!("{}/console/brand", browser.base);
    let response = browser
        .rt
        .block_on(browser.http.post(url).multipart(form).send())
        .unwrap();
    browser.read(response)
}

/// `fields` with `name` set to `value`.
fn with<'a>(fields: &[(&'a str, &'a str)], name: &'a str, value: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut changed: Vec<(&str, &str)> = fields.iter().filter(|(n, _)| *n != name).copied().collect();
    changed.push((name, value));
    changed
}

fn saved(world: &World) -> Option<Branding> {
    hub::brand::saved(&hub_conn(&world.hub_data())).unwrap()
}

/// `bytes` with every UTF-16BE `from` (name records) and ASCII `from` replaced (`to` of
/// the same length: the font's tables stay whole).
fn replace_utf16(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let wide = |s: &str| s.encode_utf16().flat_map(u16::to_be_bytes).collect::<Vec<u8>>();
    for (from, to) in [
        (wide(from), wide(to)),
        (from.as_bytes().to_vec(), to.as_bytes().to_vec()),
    ] {
        let mut at = 0;
        while let Some(found) = out[at..].windows(from.len()).position(|w| w == from.as_slice()) {
            let start = at + found;
            out[start..start + to.len()].copy_from_slice(&to);
            at = start + to.len();
        }
    }
    out
}

/// Inter with its licence fields saying no Open Font License: its licence text and its
/// licence URL (`http://scripts.sil.org/OFL`, which names the OFL too) changed.
fn closed_font() -> Vec<u8> {
    let closed = replace_utf16(INTER, "Open Font License", "Closed Font Terms");
    let closed = replace_utf16(&closed, "scripts.sil.org/OFL", "closed.example/TERM");
    assert_ne!(closed, INTER, "the licence words were found");
    closed
}

/// A GET with the kiosk's device token: the status and the body's bytes.
fn kiosk_get(world: &World, device: &str, path: &str) -> (StatusCode, Vec<u8>) {
    world.rt.block_on(async {
        let response = world
            .http
            .get(format!("{}{path}", world.hub.url()))
            .bearer_auth(device)
            .send()
            .await
            .unwrap();
        (response.status(), response.bytes().await.unwrap().to_vec())
    })
}

#[test]
fn an_admins_brand_reaches_the_kiosks_settings_and_the_audit_log() {
    let world = chain();
    let kiosk = world.kiosk_at("paris-1", "PARIS", &world.hub.url());
    let (_, device) = device_token(&kiosk);
    let mut admin = Browser::signed_in(&world.hub.url(), "admin@chain.fr");
    let page = admin.get("/console/brand");
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("enctype=\"multipart/form-data\"") && page.body.contains("No logo"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("href=\"/console/brand\" aria-current=\"page\""),
        "in the navigation"
    );
    assert_eq!(admin.get("/console/brand/logo").status, StatusCode::NOT_FOUND);

    let token = admin.token.clone();
    let done = post_brand(&mut admin, Some(&token), DELVAUX, Some(("delvaux.svg", LOGO)));
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location.as_deref(), Some("/console/brand"));
    let page = admin.get("/console/brand");
    let ratio = INK_SOFT.contrast("#fbfaf7".parse().unwrap());
    for shown in [
        "Brand saved: kiosks show it after their next pull.".to_owned(),
        "Bijouterie Delvaux".to_owned(),
        "#1f4e5f".to_owned(),
        "Bijoux faits main à Bruxelles".to_owned(),
        "Inter throughout".to_owned(),
        "<image href=\"/console/brand/logo\"".to_owned(),
        format!("Grey text on the background: {ratio:.1}:1"),
    ] {
        assert!(page.body.contains(&shown), "{shown}: {}", page.body);
    }
    assert!(!page.body.contains("style=\""), "no inline style: the CSP refuses it");

    let logo = admin
        .rt
        .block_on(admin.http.get(format!("{}/console/brand/logo", admin.base)).send())
        .unwrap();
    assert_eq!(logo.status(), StatusCode::OK);
    let header = |name: &str| logo.headers()[name].to_str().unwrap().to_owned();
    assert_eq!(header("content-type"), "image/svg+xml");
    assert_eq!(header("x-content-type-options"), "nosniff");
    let policy = header("content-security-policy");
    assert!(
        policy.contains("default-src 'none'") && !policy.contains("script"),
        "an SVG opened on its own runs no script: {policy}"
    );
    assert_eq!(&admin.rt.block_on(logo.bytes()).unwrap()[..], LOGO);

    let (status, settings) = world.json(
        reqwest::Method::GET,
        "/v1/kiosk/settings",
        Some(&device),
        &serde_json::Value::Null,
    );
    assert_eq!(status, 200, "{settings}");
    let brand = &settings["brand"];
    assert_eq!(brand["name"], "Bijouterie Delvaux");
    assert_eq!(brand["background"], "#fbfaf7");
    assert_eq!(brand["accent"], "#1f4e5f");
    assert_eq!(brand["type_pair"], "modern");
    assert_eq!(
        brand["welcome"],
        serde_json::json!({"fr": "Bijoux faits main à Bruxelles"}),
        "an empty line is no line"
    );
    assert_eq!(brand["logo"]["format"], "svg");
    let audit = admin.get("/console/audit");
    assert!(
        audit.body.contains("brand.set") && audit.body.contains("console:admin@chain.fr"),
        "{}",
        audit.body
    );

    // Sent again without a file: the logo stays. Then removed.
    admin.get("/console/brand");
    let token = admin.token.clone();
    let renamed = with(DELVAUX, "name", "Delvaux");
    assert_eq!(
        post_brand(&mut admin, Some(&token), &renamed, None).status,
        StatusCode::SEE_OTHER
    );
    let kept = saved(&world).expect("saved");
    assert_eq!(kept.brand.name, "Delvaux");
    assert_eq!(kept.logo.as_deref(), Some(LOGO));
    let removed = with(&renamed, "remove_logo", "on");
    assert_eq!(
        post_brand(&mut admin, Some(&token), &removed, None).status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(saved(&world).expect("saved").brand.logo, None);
    assert_eq!(admin.get("/console/brand/logo").status, StatusCode::NOT_FOUND);

    // Both colours given back to the kiosk's own.
    let own = with(&with(&renamed, "background_own", "on"), "accent_own", "on");
    assert_eq!(
        post_brand(&mut admin, Some(&token), &own, None).status,
        StatusCode::SEE_OTHER
    );
    let plain = saved(&world).expect("saved").brand;
    assert_eq!((plain.background, plain.accent), (None, None));
}

#[test]
fn an_admins_own_fonts_reach_the_kiosks_and_stay_until_removed() {
    let world = chain();
    let kiosk = world.kiosk_at("paris-1", "PARIS", &world.hub.url());
    let (_, device) = device_token(&kiosk);
    let mut admin = Browser::signed_in(&world.hub.url(), "admin@chain.fr");
    let page = admin.get("/console/brand");
    for field in [
        "id=\"titles-font\" type=\"file\" name=\"titles_font\" accept=\".ttf,.otf,font/ttf,font/otf\"",
        "id=\"text-font\" type=\"file\" name=\"text_font\" accept=\".ttf,.otf,font/ttf,font/otf\"",
        "TrueType or OpenType files under the SIL Open Font License, at most 2 MiB each.",
    ] {
        assert!(page.body.contains(field), "{field}: {}", page.body);
    }
    assert!(!page.body.contains("Remove this font"), "no font to remove yet");
    let logo_at = page.body.find("name=\"logo\"").unwrap();
    assert!(
        page.body.find("name=\"titles_font\"").unwrap() > logo_at,
        "the fonts come after the logo, last"
    );

    let token = admin.token.clone();
    let titles = Files {
        titles_font: Some(("Inter-Regular.otf", INTER)),
        ..Files::default()
    };
    let done = post_brand_files(&mut admin, Some(&token), DELVAUX, titles);
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = admin.get("/console/brand");
    assert!(page.body.contains("Titles: Inter (own font)"), "{}", page.body);
    assert!(
        page.body.contains("Titles: Inter<") && page.body.contains("name=\"remove_titles_font\""),
        "the form names it and offers to remove it: {}",
        page.body
    );
    assert!(!page.body.contains("remove_text_font") && !page.body.contains("Text: Inter"));

    let (status, settings) = world.json(
        reqwest::Method::GET,
        "/v1/kiosk/settings",
        Some(&device),
        &serde_json::Value::Null,
    );
    assert_eq!(status, 200, "{settings}");
    let font = &settings["brand"]["titles_font"];
    assert_eq!(font["family"], "Inter", "{settings}");
    let sha = font["sha256"].as_str().expect("a digest").to_owned();
    assert_eq!(sha, hex::encode(<sha2::Sha256 as sha2::Digest>::digest(INTER)));
    assert!(settings["brand"]["text_font"].is_null(), "{settings}");
    let (status, bytes) = kiosk_get(&world, &device, &format!("/v1/kiosk/brand/fonts/{sha}"));
    assert_eq!(status, StatusCode::OK);
    assert!(bytes == INTER, "the same file");
    let unknown = format!("/v1/kiosk/brand/fonts/{}", "0".repeat(64));
    assert_eq!(kiosk_get(&world, &device, &unknown).0, StatusCode::NOT_FOUND);

    // Sent again without a file: the font stays. Then removed.
    admin.get("/console/brand");
    let token = admin.token.clone();
    let renamed = with(DELVAUX, "name", "Delvaux");
    assert_eq!(
        post_brand(&mut admin, Some(&token), &renamed, None).status,
        StatusCode::SEE_OTHER
    );
    let kept = saved(&world).expect("saved");
    assert_eq!(kept.brand.name, "Delvaux");
    assert_eq!(
        kept.brand.titles_font.as_ref().map(|f| f.family.as_str()),
        Some("Inter")
    );
    assert_eq!(kept.titles_font.as_deref(), Some(INTER));
    assert_eq!((kept.brand.text_font, kept.text_font), (None, None));
    let removed = with(&renamed, "remove_titles_font", "on");
    assert_eq!(
        post_brand(&mut admin, Some(&token), &removed, None).status,
        StatusCode::SEE_OTHER
    );
    let plain = saved(&world).expect("saved");
    assert_eq!((plain.brand.titles_font, plain.titles_font), (None, None));
    assert_eq!(
        kiosk_get(&world, &device, &format!("/v1/kiosk/brand/fonts/{sha}")).0,
        StatusCode::NOT_FOUND
    );
    let page = admin.get("/console/brand");
    assert!(!page.body.contains("(own font)"), "{}", page.body);
}

#[test]
fn fonts_that_are_not_open_font_license_opentype_files_are_refused() {
    let world = chain();
    let mut admin = Browser::signed_in(&world.hub.url(), "admin@chain.fr");
    admin.get("/console/brand");
    let token = admin.token.clone();

    let closed = closed_font();
    let files = Files {
        text_font: Some(("Closed-Regular.otf", &closed[..])),
        ..Files::default()
    };
    let refused = post_brand_files(&mut admin, Some(&token), DELVAUX, files);
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(
        refused
            .body
            .contains("This font does not say it is under the SIL Open Font License"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("value=\"Bijouterie Delvaux\"")
            && refused
                .body
                .contains("Choose the font files again: a browser does not keep them."),
        "what was typed is kept, the files are to be chosen again: {}",
        refused.body
    );
    assert!(saved(&world).is_none(), "nothing saved");

    let woff = Files {
        titles_font: Some(("Inter.woff2", &b"wOF2\x00\x01\x00\x00 not a font that kiosks draw"[..])),
        ..Files::default()
    };
    let refused = post_brand_files(&mut admin, Some(&token), DELVAUX, woff);
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains("A font must be a TrueType or OpenType file (.ttf or .otf; not WOFF)."),
        "{}",
        refused.body
    );

    // Over 2 MiB (more than the API's own body limit: this form's is larger).
    let huge = [INTER, &vec![0; MAX_FONT_BYTES][..]].concat();
    let files = Files {
        titles_font: Some(("Huge.otf", &huge[..])),
        ..Files::default()
    };
    let refused = post_brand_files(&mut admin, Some(&token), DELVAUX, files);
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(
        refused.body.contains("A font file is at most 2 MiB."),
        "{}",
        refused.body
    );
    assert!(saved(&world).is_none(), "nothing saved");
}

#[test]
fn colours_that_do_not_read_and_a_gif_logo_are_refused_with_what_to_change() {
    let world = chain();
    let mut admin = Browser::signed_in(&world.hub.url(), "admin@chain.fr");
    admin.get("/console/brand");
    let token = admin.token.clone();

    let black = with(DELVAUX, "background", "#000000");
    let Err(ColourError::DarkBackground { ratio, .. }) = Scheme::new(Rgb([0, 0, 0]), "#1f4e5f".parse().unwrap()) else {
        panic!("a black background is too dark");
    };
    let refused = post_brand(&mut admin, Some(&token), &black, Some(("delvaux.svg", LOGO)));
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let said = format!(
        "The background #000000 is too dark: grey text on it reads at {ratio:.1}:1, and at least 4.5:1 is needed."
    );
    assert!(refused.body.contains(&said), "{}", refused.body);
    assert!(
        refused.body.contains("value=\"Bijouterie Delvaux\"")
            && refused.body.contains("value=\"#000000\"")
            && refused.body.contains("value=\"Bijoux faits main à Bruxelles\""),
        "what was typed is kept: {}",
        refused.body
    );
    assert!(refused.body.contains("Choose the logo file again"));
    assert!(saved(&world).is_none(), "nothing saved");

    let token = admin.token.clone();
    let pale = with(DELVAUX, "accent", "#f4b6c2");
    let refused = post_brand(&mut admin, Some(&token), &pale, None);
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("The accent #f4b6c2 on ") && refused.body.contains("Choose a deeper accent."),
        "{}",
        refused.body
    );

    let gif = post_brand(
        &mut admin,
        Some(&token),
        DELVAUX,
        Some(("logo.gif", &b"GIF89a\x01\x00\x01\x00"[..])),
    );
    assert_eq!(gif.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        gif.body.contains("The logo must be an SVG or PNG file."),
        "{}",
        gif.body
    );

    let long = "x".repeat(41);
    let refused = post_brand(&mut admin, Some(&token), &with(DELVAUX, "name", &long), None);
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("at most 40 characters"), "{}", refused.body);

    let typo = post_brand(&mut admin, Some(&token), &with(DELVAUX, "accent", "teal"), None);
    assert!(
        typo.body.contains("Write the accent colour as #rrggbb."),
        "{}",
        typo.body
    );
    assert!(saved(&world).is_none(), "nothing saved");

    // In French, with a decimal comma.
    admin.post("/console/language", &[("lang", "fr"), ("back", "/console/brand")]);
    admin.get("/console/brand");
    let token = admin.token.clone();
    let refused = post_brand(&mut admin, Some(&token), &black, None);
    let dit = format!("Le fond #000000 est trop sombre : le texte gris s’y lit à {ratio:.1}:1").replace('.', ",");
    assert!(refused.body.contains(&dit), "{}", refused.body);
}

#[test]
fn managers_and_viewers_see_the_brand_but_only_admins_change_it() {
    let world = chain();
    for email in ["paris@chain.fr", "viewer@chain.fr"] {
        let mut browser = Browser::signed_in(&world.hub.url(), email);
        let page = browser.get("/console/brand");
        assert_eq!(page.status, StatusCode::OK, "{email}");
        assert!(page.body.contains("href=\"/console/brand\""), "in {email}'s navigation");
        assert!(!page.body.contains("multipart/form-data"), "no form for {email}");
        assert!(page.body.contains("Only admins change the brand."));
        let token = browser.token.clone();
        let refused = post_brand(&mut browser, Some(&token), DELVAUX, Some(("delvaux.svg", LOGO)));
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{email}");
    }
    assert!(saved(&world).is_none(), "nothing saved");
}

#[test]
fn a_brand_form_without_its_token_is_refused() {
    let world = chain();
    let mut admin = Browser::signed_in(&world.hub.url(), "admin@chain.fr");
    admin.get("/console/brand");
    assert_eq!(
        post_brand(&mut admin, None, DELVAUX, Some(("delvaux.svg", LOGO))).status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post_brand(&mut admin, Some("AAAA"), DELVAUX, None).status,
        StatusCode::FORBIDDEN
    );
    assert!(saved(&world).is_none(), "nothing saved");
    let mut signed_out = Browser::new(&world.hub.url());
    assert_eq!(signed_out.get("/console/brand").status, StatusCode::SEE_OTHER);
    assert_eq!(signed_out.get("/console/brand/logo").status, StatusCode::SEE_OTHER);
}

#[test]
fn a_brand_fixed_in_the_config_file_is_shown_and_not_changed_from_the_console() {
    let fixed = Branding::new(
        Brand {
            name: "Maison Lumen".into(),
            accent: Some("#1f4e5f".into()),
            ..Brand::default()
        },
        Some(LOGO.to_vec()),
    )
    .unwrap();
    let world = World::empty_with(hub::Config {
        brand: Some(fixed),
        ..hub::Config::default()
    });
    let conn = hub_conn(&world.hub_data());
    let hashed = Hashed::new(PASSWORD).unwrap();
    admin::add_account(
        &conn,
        &Actor::Cli,
        "admin@chain.fr",
        Role::Admin,
        &[],
        &hashed,
        Timestamp::now(),
    )
    .unwrap()
    .unwrap();
    let mut admin = Browser::signed_in(&world.hub.url(), "admin@chain.fr");
    let page = admin.get("/console/brand");
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Maison Lumen") && page.body.contains("(hub.toml); change it there."),
        "{}",
        page.body
    );
    assert!(!page.body.contains("multipart/form-data"), "no form");
    assert_eq!(admin.get("/console/brand/logo").body.as_bytes(), LOGO);

    let token = admin.token.clone();
    let refused = post_brand(&mut admin, Some(&token), DELVAUX, None);
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    let page = admin.get("/console/brand");
    assert!(
        page.body.contains("role=\"alert\"") && !page.body.contains("Brand saved"),
        "{}",
        page.body
    );
    assert!(saved(&world).is_none(), "nothing saved");
    assert!(page.body.contains("Maison Lumen") && !page.body.contains("Bijouterie Delvaux"));
}

/// `hub.toml [brand]`: a hub without the console sets its brand there, logo beside the
/// file; what would be refused in the console stops the hub at start, saying why.
#[test]
fn a_brand_in_the_config_file_is_checked_when_the_hub_starts() {
    let dir = tempfile::tempdir().unwrap();
    let load = |text: &str| {
        let file = dir.path().join("hub.toml");
        std::fs::write(&file, text).unwrap();
        hub::Config::load(&file).map_err(|e| format!("{e:#}"))
    };
    std::fs::write(dir.path().join("delvaux.svg"), LOGO).unwrap();
    std::fs::write(dir.path().join("inter.otf"), INTER).unwrap();
    let config = load(
        "[brand]\nname = \"Bijouterie Delvaux\"\nlogo = \"delvaux.svg\"\naccent = \"#1f4e5f\"\n\
         type_pair = \"modern\"\ntitles_font = \"inter.otf\"\n[brand.welcome]\nfr = \"Bijoux faits main à Bruxelles\"\n",
    )
    .unwrap();
    let branding = config.brand.unwrap();
    assert_eq!(branding.brand.name, "Bijouterie Delvaux");
    assert_eq!(branding.brand.titles_font.as_ref().unwrap().family, "Inter");
    assert_eq!(branding.titles_font.as_deref(), Some(INTER));
    assert_eq!(branding.brand.text_font, None);
    assert_eq!(branding.logo.as_deref(), Some(LOGO));
    assert_eq!(
        branding.brand.logo.unwrap().format,
        vitrine::protocol::brand::LogoFormat::Svg
    );
    assert!(load("").unwrap().brand.is_none(), "no [brand]: the console's");

    for (text, says) in [
        ("[brand]\nbackground = \"#000000\"\n", "too dark"),
        ("[brand]\naccent = \"#f4b6c2\"\n", "choose a deeper accent"),
        ("[brand]\naccent = \"teal\"\n", "#rrggbb"),
        (
            "[brand]\ntype_pair = \"gothic\"\n",
            "type_pair is one of classic, modern",
        ),
        ("[brand]\nlogo = \"missing.svg\"\n", "cannot read the logo"),
        ("[brand]\nwelcome = { de = \"Willkommen\" }\n", "not in \"de\""),
        ("[brand]\ncolour = \"#ffffff\"\n", "colour"),
    ] {
        let error = load(text).unwrap_err();
        assert!(error.contains(says), "{text}: {error}");
    }
    std::fs::write(dir.path().join("huge.png"), vec![0u8; 300 * 1024]).unwrap();
    let error = load("[brand]\nlogo = \"huge.png\"\n").unwrap_err();
    assert!(error.contains("larger than the 262144 bytes"), "{error}");
    std::fs::write(dir.path().join("logo.gif"), b"GIF89a....").unwrap();
    let error = load("[brand]\nlogo = \"logo.gif\"\n").unwrap_err();
    assert!(error.contains("neither an SVG nor a PNG"), "{error}");
    std::fs::write(dir.path().join("closed.otf"), closed_font()).unwrap();
    let error = load("[brand]\ntext_font = \"closed.otf\"\n").unwrap_err();
    assert!(error.contains("Open Font License"), "{error}");
}
