//! The console in a real browser: Debian's chromium, headless, driven through its own
//! chromedriver (`.ci/setup` installs both; nothing is downloaded). One browser and one
//! hub for every flow, in order: sign in; enroll a kiosk with a code made in the console
//! and see it in the fleet; add a sales assistant; change a shop's idle timeout and see
//! the kiosk's database receive it; a manager kept out of another shop. Screenshots of the
//! main pages go to `target/console-screenshots/`, to look at.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use jiff::Timestamp;
use vitrine::hub::accounts::{Hashed, Role};
use vitrine::hub::admin;
use vitrine::hub::audit::Actor;

use crate::world::{World, hub_conn};

const PASSWORD: &str = "correct horse battery staple";

/// A jeweller's logo: a teal band with a pale dot.
pub(crate) const LOGO_SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 100"><rect width="200" height="100" fill="#1f4e5f"/><circle cx="50" cy="50" r="30" fill="#fbfaf7"/></svg>"##;

/// chromedriver on a free port, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start_driver() -> Driver {
    let binary = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("chromedriver is missing: run .ci/setup (Debian's chromium-driver package)");
    let port = free_port();
    let child = Command::new(binary)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not listen within 20 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    }
}

async fn browser(driver: &Driver, profile: &std::path::Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1440,1000", "--lang=en-GB", "--force-device-scale-factor=1",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    ClientBuilder::rustls()
        .unwrap()
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a chromium session through chromedriver")
}

async fn fill(client: &Client, css: &str, text: &str) {
    let field = client.find(Locator::Css(css)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// Clicks a form's button and waits for the next page: the old one's root gone stale,
/// then the new one's heading there.
async fn submit(client: &Client, css: &str) {
    let old = client.find(Locator::Css("html")).await.unwrap();
    client.find(Locator::Css(css)).await.unwrap().click().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while old.tag_name().await.is_ok() {
        assert!(Instant::now() < deadline, "no new page after clicking {css}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("h1"))
        .await
        .unwrap();
}

async fn page(client: &Client) -> String {
    client.source().await.unwrap()
}

async fn sign_in(client: &Client, base: &str, email: &str) {
    client.goto(&format!("{base}/console/sign-in")).await.unwrap();
    fill(client, "#email", email).await;
    fill(client, "#password", PASSWORD).await;
    submit(client, "form.card button[type=submit]").await;
    // The click returns once the form is sent; the password check takes a moment.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let url = client.current_url().await.unwrap();
        if url.path() == "/console/fleet" {
            return;
        }
        assert!(Instant::now() < deadline, "not signed in as {email}: at {url}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/console-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn shoot(client: &Client, name: &str) {
    let png = client.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    std::fs::write(screenshots().join(format!("{name}.png")), png).unwrap();
}

#[test]
fn store_ops_run_their_shops_from_the_console_in_a_real_browser() {
    let world = World::with_config(vitrine::hub::Config {
        shops: vec![
            vitrine::protocol::Shop {
                code: vitrine::demo::HOME_STORE.into(),
                name: "Paris Marais".into(),
                latitude: None,
                longitude: None,
            }
            .into(),
            vitrine::protocol::Shop {
                code: "LYON".into(),
                name: "Lyon Confluence".into(),
                latitude: None,
                longitude: None,
            }
            .into(),
        ],
        ..vitrine::hub::Config::default()
    });
    let shop = vitrine::demo::HOME_STORE;
    let conn = hub_conn(&world.hub_data());
    let hashed = Hashed::new(PASSWORD).unwrap();
    admin::add_account(
        &conn,
        &Actor::Cli,
        "ops@chain.fr",
        Role::Admin,
        &[],
        &hashed,
        Timestamp::now(),
    )
    .unwrap()
    .unwrap();
    admin::add_account(
        &conn,
        &Actor::Cli,
        "paris@chain.fr",
        Role::Manager,
        &[shop.to_owned()],
        &hashed,
        Timestamp::now(),
    )
    .unwrap()
    .unwrap();
    // A month of anonymous visits in the demo's shops, for the figures.
    let settings = vitrine::hub::measure::Settings::from_config(&vitrine::hub::Config::default()).unwrap();
    vitrine::demo::history::seed(&hub_conn(&world.hub_data()), &settings, Timestamp::now()).unwrap();
    let base = world.hub.url();
    let driver = start_driver();
    let profiles = tempfile::tempdir().unwrap();

    world.rt.block_on(async {
        let ops = browser(&driver, &profiles.path().join("ops")).await;
        sign_in(&ops, &base, "ops@chain.fr").await;

        // Enroll: a code made in the console, typed on a new kiosk.
        ops.goto(&format!("{base}/console/enroll")).await.unwrap();
        fill(&ops, "#store", shop).await;
        submit(&ops, "form.card button[type=submit]").await;
        let shown = page(&ops).await;
        assert!(shown.contains("<svg"), "the QR code");
        shoot(&ops, "enroll").await;
        let code = ops
            .find(Locator::Css("p.code code"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let kiosk_dir = profiles.path().join("kiosk");
        std::fs::create_dir_all(&kiosk_dir).unwrap();
        let db = kiosk_dir.join(vitrine::db::KIOSK_DB);
        vitrine::sync::driver::enroll(&db, &base, &code, Some("Entrance"))
            .await
            .unwrap();
        let kiosk = crate::world::Kiosk {
            db,
            hub_url: base.clone(),
            key: world.key.clone(),
        };
        kiosk.syncer(crate::world::quick_policy()).pull_catalog().await.unwrap();
        kiosk
            .syncer(crate::world::quick_policy())
            .send_heartbeat()
            .await
            .unwrap();
        ops.goto(&format!("{base}/console/fleet")).await.unwrap();
        let fleet = page(&ops).await;
        assert!(
            fleet.contains("Entrance") && fleet.contains("Online"),
            "the new kiosk in the fleet"
        );
        shoot(&ops, "fleet").await;
        ops.find(Locator::LinkText("Entrance"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        assert!(page(&ops).await.contains(env!("CARGO_PKG_VERSION")));
        shoot(&ops, "kiosk").await;

        // A sales assistant.
        ops.goto(&format!("{base}/console/shops/{shop}")).await.unwrap();
        fill(&ops, "#name", "Léa").await;
        fill(&ops, "#pin", "246810").await;
        submit(&ops, "form.card button[type=submit]").await;
        assert!(page(&ops).await.contains("Léa added."));

        // The shop's idle timeout, received by the kiosk's database at its next pull.
        ops.goto(&format!("{base}/console/shops/{shop}/settings"))
            .await
            .unwrap();
        fill(&ops, "#v-idle_seconds", "95").await;
        submit(&ops, "#v-idle_seconds ~ button[value=set]").await;
        assert!(page(&ops).await.contains("Saved."));
        shoot(&ops, "settings").await;
        kiosk.syncer(crate::world::quick_policy()).pull_catalog().await.unwrap();
        let kiosk_conn = vitrine::db::open(&kiosk.db, vitrine::db::Schema::Kiosk).unwrap();
        assert_eq!(
            vitrine::trust::settings(&kiosk_conn).unwrap().remote.idle_seconds,
            Some(95)
        );

        // The chain's brand, a Belgian jeweller's with its logo: the kiosk's next pull
        // brings it, and `vitrine snapshot` of that kiosk draws it.
        ops.goto(&format!("{base}/console/brand")).await.unwrap();
        fill(&ops, "#brand-name", "Bijouterie Delvaux").await;
        // A colour field takes no typing: set as its picker would.
        ops.execute(
            "document.getElementById('background').value = '#fbfaf7';
             document.getElementById('accent').value = '#1f4e5f';
             for (const own of document.querySelectorAll('input[name$=\"_own\"]')) own.checked = false;",
            vec![],
        )
        .await
        .unwrap();
        fill(&ops, "#welcome-fr", "Bijoux faits main à Bruxelles").await;
        let logo = profiles.path().join("delvaux.svg");
        std::fs::write(&logo, LOGO_SVG).unwrap();
        ops.find(Locator::Css("#logo"))
            .await
            .unwrap()
            .send_keys(logo.to_str().unwrap())
            .await
            .unwrap();
        submit(&ops, "form.card button[type=submit]").await;
        assert!(page(&ops).await.contains("Brand saved"), "{}", page(&ops).await);
        shoot(&ops, "brand").await;
        kiosk.syncer(crate::world::quick_policy()).pull_catalog().await.unwrap();
        let sent = vitrine::trust::settings(&kiosk_conn).unwrap().brand;
        assert_eq!(sent.name, "Bijouterie Delvaux");
        assert_eq!(sent.background.as_deref(), Some("#fbfaf7"));
        #[cfg(feature = "kiosk")]
        kiosk_draws_the_brand(&kiosk_dir, profiles.path());

        ops.goto(&format!("{base}/console/audit")).await.unwrap();
        let audit = page(&ops).await;
        assert!(audit.contains("settings.set") && audit.contains("staff.add") && audit.contains("enroll_code.create"));
        shoot(&ops, "audit").await;

        ops.goto(&format!("{base}/console/figures")).await.unwrap();
        let figures = page(&ops).await;
        assert!(
            figures.contains("<svg") && figures.contains("LILLE-VIEUX"),
            "charts of the chain's shops: {figures}"
        );
        shoot(&ops, "figures").await;

        // A shop's comma-separated export uploaded from the browser, prices without a
        // currency: a bad line rejected, a bad barcode dropped, each with its line.
        let feed = profiles.path().join("products.csv");
        std::fs::write(
            &feed,
            "ID,Title,Price,Availability,URL,GTIN\r\n\
             A-1,Robe Lina,129.00,in stock,https://shop.example/a-1,FALSE\r\n\
             A-2,Jupe Iris,,in stock,https://shop.example/a-2,\r\n",
        )
        .unwrap();
        ops.goto(&format!("{base}/console/feeds")).await.unwrap();
        fill(&ops, "#lang", "fr").await;
        fill(&ops, "#currency", "EUR").await;
        ops.find(Locator::Css("#file"))
            .await
            .unwrap()
            .send_keys(feed.to_str().unwrap())
            .await
            .unwrap();
        submit(&ops, "form.card button[type=submit]").await;
        let deadline = Instant::now() + Duration::from_secs(20);
        while !ops.current_url().await.unwrap().path().starts_with("/console/feeds/") {
            assert!(Instant::now() < deadline, "the import's page did not open");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let import = page(&ops).await;
        assert!(
            import.contains("A-2") && import.contains("<td class=\"num\">3</td>"),
            "{import}"
        );
        assert!(
            import.contains("Warnings") && import.contains("FALSE") && import.contains("EUR"),
            "the dropped barcode and the assumed currency are listed: {import}"
        );
        shoot(&ops, "import").await;
        ops.close().await.unwrap();

        // A manager of Paris is kept out of Lyon, in French.
        let manager = browser(&driver, &profiles.path().join("manager")).await;
        sign_in(&manager, &base, "paris@chain.fr").await;
        submit(&manager, "form.inline button[lang=fr]").await;
        assert!(page(&manager).await.contains("Parc"));
        manager.goto(&format!("{base}/console/shops/LYON")).await.unwrap();
        assert!(
            page(&manager)
                .await
                .contains("Votre compte ne peut ni voir ni modifier ceci.")
        );
        manager.goto(&format!("{base}/console/figures")).await.unwrap();
        let figures = page(&manager).await;
        assert!(
            figures.contains("<svg") && !figures.contains("LILLE-VIEUX"),
            "only their shop's figures"
        );
        manager
            .goto(&format!("{base}/console/figures?shop=LILLE-VIEUX"))
            .await
            .unwrap();
        assert!(
            page(&manager)
                .await
                .contains("Votre compte ne peut ni voir ni modifier ceci.")
        );
        manager.close().await.unwrap();
    });
}

/// `vitrine snapshot --kiosk` of the kiosk that pulled the jeweller's brand: its
/// background behind the attract screen's words, its logo at the top.
#[cfg(feature = "kiosk")]
fn kiosk_draws_the_brand(kiosk: &std::path::Path, scratch: &std::path::Path) {
    let out = scratch.join("attract.png");
    let status = Command::new(env!("CARGO_BIN_EXE_vitrine"))
        .args(["snapshot", "--screen", "attract", "--size", "1920x1080", "--kiosk"])
        .arg(kiosk)
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let shot = image::open(&out).unwrap().to_rgb8();
    // The panel beside the picture: from 55 % of the width.
    assert_eq!(
        shot.get_pixel(1910, 1070).0,
        [0xfb, 0xfa, 0xf7],
        "the brand's background"
    );
    let teal = (1056..1920)
        .flat_map(|x| (0..240).map(move |y| (x, y)))
        .filter(|&(x, y)| shot.get_pixel(x, y).0 == [0x1f, 0x4e, 0x5f])
        .count();
    assert!(teal > 4_000, "the logo's teal band: {teal} pixels");
    std::fs::copy(&out, screenshots().join("kiosk-brand.png")).unwrap();
}
