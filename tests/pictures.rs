//! Catalog pictures: the hub passes on what its catalog names, kiosks keep what they get
//! on disk under a cap. Real hub, real HTTP, real files; a small origin server plays the
//! web store's picture host.

use std::path::Path;

use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use reqwest::Method;
use vitrine::client::KioskClient;
use vitrine::demo::IMAGE_BASE;
use vitrine::hub::images::AllowedHost;
use vitrine::pictures::PictureCache;
use vitrine::sync::outbox;

use crate::world::World;
use vitrine::bench::proxy::{Fault, Proxy};

/// A 4×5 terracotta PNG (the hub checks the type and the size, never the pixels).
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x04, 0x00, 0x00, 0x00, 0x05, 0x08, 0x02, 0x00, 0x00, 0x00, 0xed, 0xcf, 0xda, 0x8c, 0x00, 0x00, 0x00, 0x10, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xd8, 0x1f, 0x6d, 0x05, 0x47, 0x0c, 0x64, 0x70, 0x00, 0x6a, 0x1a, 0x1a, 0x91,
    0x02, 0x66, 0xbf, 0x55, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

fn demo_urls() -> Vec<String> {
    vitrine::demo::images()
        .into_iter()
        .map(|(name, _)| format!("{IMAGE_BASE}{name}"))
        .collect()
}

fn token(db: &Path) -> String {
    let mut catalog = vitrine::catalog::Catalog::open(db).unwrap();
    outbox::device(catalog.connection()).unwrap().unwrap().token
}

/// Bytes of the files under `dir`, counted from the file system.
fn bytes_on_disk(dir: &Path) -> u64 {
    let mut total = 0;
    for folder in std::fs::read_dir(dir).unwrap() {
        for file in std::fs::read_dir(folder.unwrap().path()).unwrap() {
            total += file.unwrap().metadata().unwrap().len();
        }
    }
    total
}

#[test]
fn a_picture_is_fetched_once_and_shows_with_the_network_down() {
    let world = World::new();
    let proxy = Proxy::start(world.hub.addr).unwrap();
    let kiosk = world.kiosk_at("tablet", vitrine::demo::HOME_STORE, &proxy.url());
    let dir = world.dir.path().join("tablet/pictures");
    let client = KioskClient::new(&proxy.url(), &token(&kiosk.db)).unwrap();
    let cache = PictureCache::open(&dir, 64 << 20, client.clone()).unwrap();
    let urls = demo_urls();

    let first = cache.get(&urls[0]).expect("the hub passes the picture on");
    assert_eq!(first, vitrine::demo::image(&urls[0]).unwrap());
    assert_eq!(cache.bytes(), first.len() as u64);
    assert_eq!(bytes_on_disk(&dir), first.len() as u64);

    proxy.set(Fault::Reset);
    assert_eq!(cache.get(&urls[0]).as_deref(), Some(&first[..]), "shown from disk");
    assert_eq!(cache.get(&urls[1]), None, "never fetched, and the hub is out of reach");
    // A kiosk restarted offline still has it.
    drop(cache);
    let cache = PictureCache::open(&dir, 64 << 20, client).unwrap();
    assert_eq!(cache.bytes(), first.len() as u64);
    assert_eq!(cache.get(&urls[0]).as_deref(), Some(&first[..]));
}

#[test]
fn the_cache_stays_under_its_cap_and_keeps_what_was_shown_last() {
    let world = World::new();
    let kiosk = world.kiosk("tablet");
    let dir = world.dir.path().join("tablet/pictures");
    let client = KioskClient::new(&world.hub.url(), &token(&kiosk.db)).unwrap();
    let urls = demo_urls();
    let size = |url: &String| vitrine::demo::image(url).unwrap().len() as u64;
    let cap = urls[..4].iter().map(size).sum::<u64>();
    let cache = PictureCache::open(&dir, cap, client.clone()).unwrap();

    for url in &urls[1..12] {
        assert!(cache.get(url).is_some());
        // The shopper keeps coming back to the first picture.
        assert!(cache.get(&urls[0]).is_some());
        assert!(cache.bytes() <= cap, "{} > {cap}", cache.bytes());
        assert_eq!(bytes_on_disk(&dir), cache.bytes());
    }
    // Asked of a cache that cannot reach the hub: only what is on disk shows.
    let down = Proxy::start(world.hub.addr).unwrap();
    down.set(Fault::Reset);
    let offline = PictureCache::open(&dir, cap, KioskClient::new(&down.url(), "vtk_none").unwrap()).unwrap();
    let kept = |url: &String| offline.get(url).is_some();
    assert!(kept(&urls[0]), "the picture shown most is kept");
    assert!(kept(&urls[11]), "the newest is kept");
    assert!(!kept(&urls[1]), "the oldest went first");

    // Opening with a smaller cap trims at once.
    let small = PictureCache::open(&dir, cap / 2, client).unwrap();
    assert!(small.bytes() <= cap / 2 && bytes_on_disk(&dir) == small.bytes());
}

#[test]
fn the_hub_serves_only_pictures_its_catalog_names() {
    let world = World::new();
    let kiosk = world.kiosk("tablet");
    let token = token(&kiosk.db);
    let get = |url: &str, token: Option<&str>| {
        let mut address = reqwest::Url::parse(&format!("{}/v1/kiosk/images", world.hub.url())).unwrap();
        address.query_pairs_mut().append_pair("url", url);
        world.request(Method::GET, address.as_str(), token, None, None)
    };
    let urls = demo_urls();
    assert_eq!(get(&urls[0], None).0, 401);
    let (status, body) = get(
        "https://demo.vitrine.example/images/not-in-the-catalog.svg",
        Some(&token),
    );
    assert_eq!((status, body["code"].as_str()), (404, Some("unknown_image")));
    let (status, body) = get("file:///etc/passwd", Some(&token));
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_url")));
    let long = format!("https://example.com/{}", "a".repeat(3000));
    let (status, body) = get(&long, Some(&token));
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_url")));
    let (status, _) = get(&urls[0], Some(&token));
    assert_eq!(status, 200);
}

#[test]
fn pictures_hosted_by_the_web_store_are_fetched_checked_and_bounded() {
    let png = PNG.to_vec();
    let origin = axum::Router::new()
        .route("/ok.png", get(|| async { ([(CONTENT_TYPE, "image/png")], PNG) }))
        .route(
            "/page",
            get(|| async { ([(CONTENT_TYPE, "text/html")], "<html></html>") }),
        )
        .route(
            "/huge.png",
            get(|| async {
                (
                    [(CONTENT_TYPE, "image/png")],
                    vec![0_u8; vitrine::protocol::MAX_IMAGE_BYTES + 1],
                )
            }),
        );
    // The web store's picture host stands on the hub's own machine here.
    let world = World::with_config(allowing(&["127.0.0.0/8"]));
    let listener = world.rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let host = format!("http://{}", listener.local_addr().unwrap());
    world.rt.spawn(async move { axum::serve(listener, origin).await });

    // The web store's feed names its own picture host for three products.
    let urls = demo_urls();
    let (ok, page, huge) = (
        format!("{host}/ok.png"),
        format!("{host}/page"),
        format!("{host}/huge.png"),
    );
    let feed = vitrine::demo::products_fr()
        .replace(&urls[0], &ok)
        .replace(&urls[1], &page)
        .replace(&urls[2], &huge);
    assert!(feed.contains(&ok) && feed.contains(&page) && feed.contains(&huge));
    world.upload("products", feed.into_bytes(), Some("fr"));

    let kiosk = world.kiosk("tablet");
    let client = KioskClient::new(&world.hub.url(), &token(&kiosk.db)).unwrap();
    let cache = PictureCache::open(&world.dir.path().join("tablet/pictures"), 64 << 20, client).unwrap();
    assert_eq!(cache.get(&ok), Some(png), "fetched from the web store's host");
    assert_eq!(cache.get(&page), None, "an HTML page is not a picture");
    assert_eq!(cache.get(&huge), None, "larger than the limit");
    assert_eq!(
        cache.bytes(),
        cache.get(&ok).unwrap().len() as u64,
        "only the good one is kept"
    );
}

/// A hub configuration allowing pictures from `hosts` beside the public internet.
fn allowing(hosts: &[&str]) -> vitrine::hub::Config {
    vitrine::hub::Config {
        picture_hosts_allowed: hosts.iter().map(|host| host.parse::<AllowedHost>().unwrap()).collect(),
        ..vitrine::hub::Config::default()
    }
}

/// A picture host on 127.0.0.1, as a web store's server on the shop's network would be:
/// `/ok.png`, and `/hop`, a redirect to `hop` when given. Its port.
fn origin(world: &World, hop: Option<String>) -> u16 {
    let mut routes = axum::Router::new().route("/ok.png", get(|| async { ([(CONTENT_TYPE, "image/png")], PNG) }));
    if let Some(target) = hop {
        routes = routes.route(
            "/hop",
            get(move || async move { axum::response::Redirect::temporary(&target) }),
        );
    }
    let listener = world.rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let port = listener.local_addr().unwrap().port();
    world.rt.spawn(async move { axum::serve(listener, routes).await });
    port
}

/// Puts `pictures` in the hub's catalog in place of the demo's first ones, as the web
/// store's feed would name them.
fn name_pictures(world: &World, pictures: &[&str]) {
    let mut feed = vitrine::demo::products_fr();
    for (demo, picture) in demo_urls().iter().zip(pictures) {
        feed = feed.replace(demo.as_str(), picture);
        assert!(feed.contains(*picture), "{picture}");
    }
    world.upload("products", feed.into_bytes(), Some("fr"));
}

/// What the hub answers a kiosk asking for the picture at `url`: status and body.
fn ask(world: &World, token: &str, url: &str) -> (u16, Vec<u8>) {
    let mut address = reqwest::Url::parse(&format!("{}/v1/kiosk/images", world.hub.url())).unwrap();
    address.query_pairs_mut().append_pair("url", url);
    world.rt.block_on(async {
        let response = world.http.get(address).bearer_auth(token).send().await.unwrap();
        (response.status().as_u16(), response.bytes().await.unwrap().to_vec())
    })
}

/// Checks `answer` is the refusal a kiosk gets when a picture cannot be had, and returns
/// it with its error id taken out.
fn unavailable(url: &str, answer: (u16, Vec<u8>)) -> String {
    let (status, body) = answer;
    let text = String::from_utf8(body).unwrap();
    assert_eq!(status, 502, "{url}: {text}");
    let problem: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(problem["code"], "image_unavailable", "{url}: {text}");
    let id = problem["error_id"].as_str().unwrap();
    text.replace(id, "<id>")
}

#[test]
fn a_picture_on_the_hubs_own_machine_is_refused_unless_allowed() {
    let world = World::new();
    let port = origin(&world, None);
    let urls = [
        format!("http://127.0.0.1:{port}/ok.png"),
        format!("http://[::ffff:127.0.0.1]:{port}/ok.png"),
        // 127.0.0.1 written as one number, which URLs read as the same address.
        format!("http://2130706433:{port}/ok.png"),
    ];
    let names: Vec<&str> = urls.iter().map(String::as_str).collect();
    name_pictures(&world, &names);
    let token = world.kiosk("tablet").token();
    for url in &urls {
        unavailable(url, ask(&world, &token, url));
    }

    let allowed = World::with_config(allowing(&["127.0.0.0/8"]));
    let port = origin(&allowed, None);
    let url = format!("http://127.0.0.1:{port}/ok.png");
    name_pictures(&allowed, &[url.as_str()]);
    let token = allowed.kiosk("tablet").token();
    assert_eq!(ask(&allowed, &token, &url), (200, PNG.to_vec()), "served once allowed");
}

#[test]
fn a_host_name_that_resolves_to_the_hubs_own_machine_is_refused() {
    let world = World::new();
    let port = origin(&world, None);
    // Resolved from /etc/hosts, as a public-looking name pointed at 127.0.0.1 would be.
    let url = format!("http://localhost:{port}/ok.png");
    name_pictures(&world, &[url.as_str()]);
    let token = world.kiosk("tablet").token();
    unavailable(&url, ask(&world, &token, &url));
}

#[test]
fn each_redirect_is_checked_like_the_picture_url() {
    // The web store's picture server is `localhost`, allowed by name; 127.0.0.1 is not.
    let world = World::with_config(allowing(&["localhost"]));
    let target = origin(&world, None);
    let to_address = origin(&world, Some(format!("http://127.0.0.1:{target}/ok.png")));
    let to_name = origin(&world, Some(format!("http://localhost:{target}/ok.png")));
    let (direct, hop_to_name, hop_to_address) = (
        format!("http://localhost:{target}/ok.png"),
        format!("http://localhost:{to_name}/hop"),
        format!("http://localhost:{to_address}/hop"),
    );
    name_pictures(
        &world,
        &[direct.as_str(), hop_to_name.as_str(), hop_to_address.as_str()],
    );
    let token = world.kiosk("tablet").token();
    assert_eq!(ask(&world, &token, &direct), (200, PNG.to_vec()), "allowed by name");
    assert_eq!(
        ask(&world, &token, &hop_to_name),
        (200, PNG.to_vec()),
        "a redirect to an allowed host is followed"
    );
    unavailable(&hop_to_address, ask(&world, &token, &hop_to_address));
}

#[test]
fn a_kiosk_cannot_tell_why_a_picture_could_not_be_had() {
    let world = World::with_config(allowing(&["127.0.0.1/32"]));
    let port = origin(&world, None);
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let urls = [
        // Allowed, but nothing listens there: connection refused.
        format!("http://127.0.0.1:{closed}/ok.png"),
        // Loopback beside the allowed address, and a private one: never connected to.
        format!("http://127.0.0.2:{port}/ok.png"),
        format!("http://10.0.0.1:{port}/ok.png"),
        // Allowed, and the server answers 404.
        format!("http://127.0.0.1:{port}/missing.png"),
    ];
    let names: Vec<&str> = urls.iter().map(String::as_str).collect();
    name_pictures(&world, &names);
    let token = world.kiosk("tablet").token();
    let answers: Vec<String> = urls
        .iter()
        .map(|url| unavailable(url, ask(&world, &token, url)))
        .collect();
    for (url, answer) in urls.iter().zip(&answers) {
        assert_eq!(answer, &answers[0], "{url} is told apart from {}", urls[0]);
    }
}

#[test]
fn picture_hosts_are_checked_when_the_config_loads() {
    let dir = tempfile::tempdir().unwrap();
    let load = |text: &str| {
        let file = dir.path().join("hub.toml");
        std::fs::write(&file, text).unwrap();
        vitrine::hub::Config::load(&file).map_err(|e| format!("{e:#}"))
    };
    let config = load(r#"picture_hosts_allowed = ["192.168.1.0/24", "Pictures.LAN"]"#).unwrap();
    assert_eq!(
        config.picture_hosts_allowed,
        vec![
            "192.168.1.0/24".parse::<AllowedHost>().unwrap(),
            "pictures.lan".parse::<AllowedHost>().unwrap()
        ]
    );
    let refused = |text: &str, why: &str| {
        let error = load(&format!("picture_hosts_allowed = [\"{text}\"]")).unwrap_err();
        assert!(error.contains(why), "{text}: {error}");
    };
    refused("192.168.1.5/24", "write 192.168.1.0/24");
    refused("https://pictures.lan/", "is a URL");
    refused("192.168.1.0/40", "not a network");
    refused("pictures lan", "neither a network");
}
