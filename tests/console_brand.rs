//! The console's brand page through HTTP, as a browser uses it (see `console` for the
//! browser stand-in and the chain it runs on): an admin's brand reaching the kiosks'
//! settings and the audit log, colours and logos refused with what to change, who may
//! change it, and a brand fixed in `hub.toml` shown but not changeable.

use jiff::Timestamp;
use reqwest::StatusCode;
use vitrine::brand::{ColourError, INK_SOFT, Rgb, Scheme};
use vitrine::hub::accounts::{Hashed, Role};
use vitrine::hub::audit::Actor;
use vitrine::hub::brand::Branding;
use vitrine::hub::{self, admin};
use vitrine::protocol::brand::Brand;

use crate::console::{Browser, PASSWORD, Page, chain, device_token};
use crate::world::{World, hub_conn};

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

/// Posts the brand form (multipart), with the form token first when given and the logo
/// last, as a browser sends them; without a logo the file field goes empty, as a browser
/// sends it when no file is chosen.
fn post_brand(
    browser: &mut Browser,
    token: Option<&str>,
    fields: &[(&str, &str)],
    logo: Option<(&str, &[u8])>,
) -> Page {
    let mut form = reqwest::multipart::Form::new();
    if let Some(token) = token {
        form = form.text("authenticity_token", token.to_owned());
    }
    for (name, value) in fields {
        form = form.text(name.to_string(), value.to_string());
    }
    let (file_name, bytes) = match logo {
        Some((name, bytes)) => (name.to_owned(), bytes.to_vec()),
        None => (String::new(), Vec::new()),
    };
    let form = form.part("logo", reqwest::multipart::Part::bytes(bytes).file_name(file_name));
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
    let config = load(
        "[brand]\nname = \"Bijouterie Delvaux\"\nlogo = \"delvaux.svg\"\naccent = \"#1f4e5f\"\n\
         type_pair = \"modern\"\n[brand.welcome]\nfr = \"Bijoux faits main à Bruxelles\"\n",
    )
    .unwrap();
    let branding = config.brand.unwrap();
    assert_eq!(branding.brand.name, "Bijouterie Delvaux");
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
    assert!(error.contains("at most 262144"), "{error}");
    std::fs::write(dir.path().join("logo.gif"), b"GIF89a....").unwrap();
    let error = load("[brand]\nlogo = \"logo.gif\"\n").unwrap_err();
    assert!(error.contains("neither an SVG nor a PNG"), "{error}");
}
