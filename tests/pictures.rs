//! Catalog pictures: the hub passes on what its catalog names, kiosks keep what they get
//! on disk under a cap. Real hub, real HTTP, real files; a small origin server plays the
//! web store's picture host.

use std::path::Path;

use reqwest::Method;
use vitrine::client::KioskClient;
use vitrine::demo::IMAGE_BASE;
use vitrine::pictures::PictureCache;
use vitrine::sync::outbox;

use crate::proxy::{Fault, Proxy};
use crate::world::World;

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
    let proxy = Proxy::start(world.hub.addr);
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
    let down = Proxy::start(world.hub.addr);
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
    use axum::http::header::CONTENT_TYPE;
    use axum::routing::get;

    // A 4×5 terracotta PNG (the hub checks the type and the size, never the pixels).
    let png: Vec<u8> = vec![
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00,
        0x00, 0x04, 0x00, 0x00, 0x00, 0x05, 0x08, 0x02, 0x00, 0x00, 0x00, 0xed, 0xcf, 0xda, 0x8c, 0x00, 0x00, 0x00,
        0x10, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xd8, 0x1f, 0x6d, 0x05, 0x47, 0x0c, 0x64, 0x70, 0x00, 0x6a,
        0x1a, 0x1a, 0x91, 0x02, 0x66, 0xbf, 0x55, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60,
        0x82,
    ];
    let served = png.clone();
    let origin = axum::Router::new()
        .route(
            "/ok.png",
            get(move || async move { ([(CONTENT_TYPE, "image/png")], served) }),
        )
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
    let world = World::new();
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
