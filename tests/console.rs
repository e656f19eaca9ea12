//! The console through HTTP as a browser uses it (cookies, forms, redirects), on a real
//! hub: signing in and the lockout, every role against shop-scoped pages and actions,
//! CSRF, sessions kept in the database, the fleet from real heartbeats, alerts, enrollment,
//! staff, keys, the audit log.

use jiff::Timestamp;
use reqwest::StatusCode;
use vitrine::hub::accounts::{Hashed, Role};
use vitrine::hub::audit::Actor;
use vitrine::hub::{self, admin};
use vitrine::protocol::fleet::{CameraHealth, CameraState, Heartbeat};

use crate::world::{World, hub_conn};

pub(crate) const PASSWORD: &str = "correct horse battery staple";

/// A browser: a cookie jar, no automatic redirects, and the form token of the last page.
pub(crate) struct Browser {
    pub base: String,
    pub http: reqwest::Client,
    pub rt: tokio::runtime::Runtime,
    pub token: String,
}

pub(crate) struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
}

fn token_in(body: &str) -> Option<String> {
    let at = body.find("name=\"authenticity_token\" value=\"")? + "name=\"authenticity_token\" value=\"".len();
    Some(body[at..].split('"').next()?.to_owned())
}

impl Browser {
    pub(crate) fn new(base: &str) -> Browser {
        Browser {
            base: base.to_owned(),
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            token: String::new(),
        }
    }

    pub(crate) fn read(&mut self, response: reqwest::Response) -> Page {
        let status = response.status();
        let location = response
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned());
        let body = self.rt.block_on(response.text()).unwrap();
        if let Some(token) = token_in(&body) {
            self.token = token;
        }
        Page { status, location, body }
    }

    pub(crate) fn get(&mut self, path: &str) -> Page {
        let response = self
            .rt
            .block_on(self.http.get(format!("{}{path}", self.base)).send())
            .unwrap();
        self.read(response)
    }

    /// Posts a form with the page's token added.
    pub(crate) fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut form: Vec<(&str, &str)> = vec![("authenticity_token", &self.token)];
        form.extend_from_slice(fields);
        let body = serde_urlencoded(&form);
        self.post_raw(path, body)
    }

    pub(crate) fn post_raw(&mut self, path: &str, body: String) -> Page {
        let response = self
            .rt
            .block_on(
                self.http
                    .post(format!("{}{path}", self.base))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body)
                    .send(),
            )
            .unwrap();
        self.read(response)
    }

    /// Posts the feed upload form (multipart), with the form token when given.
    pub(crate) fn upload(&mut self, token: Option<&str>, kind: &str, file: &str) -> Page {
        self.upload_in(token, kind, "", file)
    }

    /// An upload that names the currency of prices written without one.
    pub(crate) fn upload_in(&mut self, token: Option<&str>, kind: &str, currency: &str, file: &str) -> Page {
        let mut form = reqwest::multipart::Form::new();
        if let Some(token) = token {
            form = form.text("authenticity_token", token.to_owned());
        }
        let form = form
            .text("kind", kind.to_owned())
            .text("lang", "fr")
            .text("currency", currency.to_owned())
            .part(
                "file",
                reqwest::multipart::Part::text(file.to_owned()).file_name("feed.tsv"),
            );
        let response = self
            .rt
            .block_on(
                self.http
                    .post(format!("{}/console/feeds", self.base))
                    .multipart(form)
                    .send(),
            )
            .unwrap();
        self.read(response)
    }

    pub(crate) fn sign_in(&mut self, email: &str, password: &str) -> Page {
        self.get("/console/sign-in");
        self.post("/console/sign-in", &[("email", email), ("password", password)])
    }

    pub(crate) fn signed_in(base: &str, email: &str) -> Browser {
        let mut browser = Browser::new(base);
        let page = browser.sign_in(email, PASSWORD);
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        browser.get("/console/fleet");
        browser
    }
}

fn serde_urlencoded(pairs: &[(&str, &str)]) -> String {
    let mut url = reqwest::Url::parse("http://x/").unwrap();
    url.query_pairs_mut().extend_pairs(pairs.iter().copied());
    url.query().unwrap_or_default().to_owned()
}

/// A hub with two shops' kiosks and an account of each role.
pub(crate) fn chain() -> World {
    let config = hub::Config {
        shops: vec![
            hub::config::ShopConfig::from(vitrine::protocol::Shop {
                code: "PARIS".into(),
                name: "Paris Marais".into(),
                latitude: None,
                longitude: None,
            }),
            hub::config::ShopConfig::from(vitrine::protocol::Shop {
                code: "LYON".into(),
                name: "Lyon Confluence".into(),
                latitude: None,
                longitude: None,
            }),
        ],
        ..hub::Config::default()
    };
    let mut config = config;
    config.webhooks.hosts_allowed = vec!["127.0.0.1".parse().unwrap()];
    let world = World::empty_with(config);
    let conn = hub_conn(&world.hub_data());
    let hashed = Hashed::new(PASSWORD).unwrap();
    let now = Timestamp::now();
    for (email, role, shops) in [
        ("admin@chain.fr", Role::Admin, vec![]),
        ("paris@chain.fr", Role::Manager, vec!["PARIS".to_owned()]),
        ("viewer@chain.fr", Role::Viewer, vec![]),
    ] {
        admin::add_account(&conn, &Actor::Cli, email, role, &shops, &hashed, now)
            .unwrap()
            .unwrap();
    }
    world
}

fn heartbeat(version: &str) -> Heartbeat {
    Heartbeat {
        app_version: version.into(),
        sent_at: Timestamp::now(),
        last_push: Some(Timestamp::now()),
        last_pull: Some(Timestamp::now()),
        last_error: None,
        outbox_pending: 3,
        outbox_rejected: 0,
        events_pending: 0,
        products: 120,
        inventory_as_of: None,
        camera: CameraHealth {
            state: CameraState::Running,
            name: Some("USB camera".into()),
            fps: 14.5,
            waiting_seconds: 0,
            frames_given_up: 0,
            minutes_since_read: None,
        },
        disk_free_bytes: Some(20 << 30),
        data_bytes: None,
        settings_version: None,
    }
}

pub(crate) fn device_token(kiosk: &crate::world::Kiosk) -> (i64, String) {
    let conn = vitrine::db::open(&kiosk.db, vitrine::db::Schema::Kiosk).unwrap();
    let device = vitrine::sync::outbox::device(&conn).unwrap().unwrap();
    (device.device_id, device.token)
}

fn beat(world: &World, token: &str, beat: &Heartbeat) -> u16 {
    world
        .json(
            reqwest::Method::POST,
            "/v1/kiosk/heartbeat",
            Some(token),
            &serde_json::to_value(beat).unwrap(),
        )
        .0
}

#[test]
fn a_wrong_password_is_refused_and_the_fifth_locks_the_account() {
    let world = chain();
    let mut browser = Browser::new(&world.hub.url());
    assert_eq!(
        browser.get("/console/fleet").location.as_deref(),
        Some("/console/sign-in?next=%2Fconsole%2Ffleet"),
        "signed out, a page sends to the sign-in"
    );
    let unknown = browser.sign_in("nobody@chain.fr", PASSWORD);
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    for _ in 0..5 {
        let page = browser.sign_in("viewer@chain.fr", "not the password at all");
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        assert!(page.body.contains("do not match"), "{}", page.body);
    }
    let still = browser.sign_in("viewer@chain.fr", PASSWORD);
    assert_eq!(
        still.status,
        StatusCode::UNAUTHORIZED,
        "the right password waits for the lock to end"
    );
    assert!(still.body.contains("locked until"));

    let page = browser.sign_in("admin@chain.fr", PASSWORD);
    assert_eq!(page.location.as_deref(), Some("/console/fleet"));
    let fleet = browser.get("/console/fleet");
    assert_eq!(fleet.status, StatusCode::OK);
    assert!(fleet.body.contains("admin@chain.fr"));
    let csp = browser
        .rt
        .block_on(browser.http.get(format!("{}/console/fleet", world.hub.url())).send())
        .unwrap();
    let policy = csp.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(
        policy.contains("default-src 'none'") && !policy.contains("unsafe"),
        "{policy}"
    );
    assert_eq!(
        browser.post("/console/sign-out", &[]).location.as_deref(),
        Some("/console/sign-in")
    );
    assert_eq!(
        browser.get("/console/fleet").status,
        StatusCode::SEE_OTHER,
        "signed out"
    );
}

#[test]
fn a_form_without_its_token_or_with_another_browsers_is_refused() {
    let world = chain();
    let mut admin = Browser::signed_in(&world.hub.url(), "admin@chain.fr");
    let missing = admin.post_raw("/console/shops/PARIS/staff", "name=L%C3%A9a&pin=246810".into());
    assert_eq!(
        missing.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "no token field: the form is refused"
    );
    let wrong = admin.post_raw(
        "/console/shops/PARIS/staff",
        "authenticity_token=AAAA&name=L%C3%A9a&pin=246810".into(),
    );
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let mut other = Browser::signed_in(&world.hub.url(), "paris@chain.fr");
    other.token = admin.token.clone();
    let borrowed = other.post("/console/shops/PARIS/staff", &[("name", "Léa"), ("pin", "246810")]);
    assert_eq!(
        borrowed.status,
        StatusCode::FORBIDDEN,
        "a token is good only with its own cookie"
    );
    let conn = hub_conn(&world.hub_data());
    assert!(
        hub::staff::of_store(&conn, "PARIS").unwrap().is_empty(),
        "nothing was added"
    );
}

#[test]
fn a_manager_sees_and_changes_only_their_shops() {
    let world = chain();
    let paris = world.kiosk_at("paris-1", "PARIS", &world.hub.url());
    let lyon = world.kiosk_at("lyon-1", "LYON", &world.hub.url());
    let (lyon_id, _) = device_token(&lyon);
    let (paris_id, _) = device_token(&paris);
    let conn = hub_conn(&world.hub_data());
    let hash = hub::staff::hash_pin("135791").unwrap();
    let inès = admin::add_staff(&conn, &Actor::Cli, "LYON", "Inès", &hash, Timestamp::now())
        .unwrap()
        .unwrap();

    let mut manager = Browser::signed_in(&world.hub.url(), "paris@chain.fr");
    let fleet = manager.get("/console/fleet");
    assert!(fleet.body.contains(&format!("/console/kiosks/{paris_id}")));
    assert!(
        !fleet.body.contains(&format!("/console/kiosks/{lyon_id}")),
        "another shop's kiosk is not listed"
    );
    assert_eq!(
        manager.get(&format!("/console/kiosks/{paris_id}")).status,
        StatusCode::OK
    );
    for path in [
        format!("/console/kiosks/{lyon_id}"),
        "/console/shops/LYON".to_owned(),
        "/console/fleet?shop=LYON".to_owned(),
        "/console/audit?shop=LYON".to_owned(),
        "/console/keys".to_owned(),
        "/console/accounts".to_owned(),
    ] {
        assert_eq!(manager.get(&path).status, StatusCode::FORBIDDEN, "{path}");
    }
    manager.get("/console/shops/PARIS");
    for (path, fields) in [
        ("/console/shops/LYON/staff", vec![("name", "Marc"), ("pin", "246810")]),
        (&*format!("/console/shops/LYON/staff/{inès}/remove"), vec![]),
        (
            &*format!("/console/shops/LYON/staff/{inès}/pin"),
            vec![("pin", "999999")],
        ),
        ("/console/enroll", vec![("store", "LYON")]),
        ("/console/keys", vec![("name", "mine"), ("scope", "reports:read")]),
    ] {
        assert_eq!(manager.post(path, &fields).status, StatusCode::FORBIDDEN, "{path}");
    }
    // An assistant of another shop cannot be reached through one's own shop either.
    let through_paris = manager.post(&format!("/console/shops/PARIS/staff/{inès}/remove"), &[]);
    assert_eq!(through_paris.status, StatusCode::NOT_FOUND);
    assert_eq!(
        hub::staff::of_store(&conn, "LYON").unwrap().len(),
        1,
        "Inès is still there"
    );

    let added = manager.post("/console/shops/PARIS/staff", &[("name", "Léa"), ("pin", "246810")]);
    assert_eq!(added.location.as_deref(), Some("/console/shops/PARIS"));
    assert!(manager.get("/console/shops/PARIS").body.contains("Léa added."));
    let audit = manager.get("/console/audit");
    assert!(audit.body.contains("staff.add") && audit.body.contains("console:paris@chain.fr"));
    assert!(!audit.body.contains("Inès"), "another shop's lines are not shown");

    let mut viewer = Browser::signed_in(&world.hub.url(), "viewer@chain.fr");
    assert_eq!(
        viewer.get(&format!("/console/kiosks/{lyon_id}")).status,
        StatusCode::OK,
        "a viewer reads the chain"
    );
    viewer.get("/console/shops/PARIS");
    let refused = viewer.post("/console/shops/PARIS/staff", &[("name", "Marc"), ("pin", "246810")]);
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "a viewer changes nothing");
    assert_eq!(viewer.get("/console/enroll").status, StatusCode::FORBIDDEN);
}

#[test]
fn staff_changes_from_the_console_reach_the_shops_kiosks() {
    let world = chain();
    let kiosk = world.kiosk_at("paris-1", "PARIS", &world.hub.url());
    let (_, token) = device_token(&kiosk);
    let staff = |world: &World| {
        let (status, body) = world.json(
            reqwest::Method::GET,
            "/v1/kiosk/staff",
            Some(&token),
            &serde_json::Value::Null,
        );
        assert_eq!(status, 200);
        body["staff"].as_array().unwrap().clone()
    };
    let mut manager = Browser::signed_in(&world.hub.url(), "paris@chain.fr");
    manager.get("/console/shops/PARIS");
    manager.post("/console/shops/PARIS/staff", &[("name", "Léa"), ("pin", "246810")]);
    let before = staff(&world);
    assert_eq!(before.len(), 1);
    assert_eq!(before[0]["name"], "Léa");
    let shop = manager.get("/console/shops/PARIS");
    assert!(!shop.body.contains("246810"), "a PIN is never shown back");
    let id = before[0]["id"].as_i64().unwrap();
    let short = manager.post(&format!("/console/shops/PARIS/staff/{id}/pin"), &[("pin", "12")]);
    assert_eq!(short.status, StatusCode::SEE_OTHER);
    assert!(manager.get("/console/shops/PARIS").body.contains("6 to 12 digits"));
    manager.post(&format!("/console/shops/PARIS/staff/{id}/pin"), &[("pin", "97531864")]);
    let after = staff(&world);
    assert_ne!(
        after[0]["pin_hash"], before[0]["pin_hash"],
        "the new PIN reaches the kiosk"
    );
    manager.post(&format!("/console/shops/PARIS/staff/{id}/remove"), &[]);
    assert!(staff(&world).is_empty());
    let conn = hub_conn(&world.hub_data());
    let lines = hub::audit::list(
        &conn,
        &hub::audit::Filter {
            limit: 10,
            ..Default::default()
        },
    )
    .unwrap();
    let actions: Vec<&str> = lines.iter().map(|l| l.action.as_str()).collect();
    assert!(
        actions.starts_with(&["staff.remove", "staff.reset_pin", "staff.add"]),
        "{actions:?}"
    );
}

#[test]
fn the_fleet_shows_each_kiosks_heartbeat_and_its_alerts_open_and_clear() {
    let world = chain();
    let paris = world.kiosk_at("paris-1", "PARIS", &world.hub.url());
    let lyon = world.kiosk_at("lyon-1", "LYON", &world.hub.url());
    let (paris_id, paris_token) = device_token(&paris);
    let (lyon_id, lyon_token) = device_token(&lyon);
    let endpoint = serde_json::json!({"url": "http://127.0.0.1:9/alerts", "events": ["kiosk.alert"]});
    let (status, body) = world.json(
        reqwest::Method::POST,
        "/v1/webstore/webhooks",
        Some(&world.key),
        &endpoint,
    );
    assert_eq!(status, 201, "{body}");
    // The kiosk's own sync thread sends what its files say.
    world
        .rt
        .block_on(paris.syncer(crate::world::quick_policy()).send_heartbeat())
        .unwrap();
    assert_eq!(beat(&world, &lyon_token, &heartbeat("0.0.1")), 200);

    let mut admin = Browser::signed_in(&world.hub.url(), "admin@chain.fr");
    let fleet = admin.get("/console/fleet");
    assert!(fleet.body.contains(env!("CARGO_PKG_VERSION")), "{}", fleet.body);
    assert!(
        fleet.body.contains("Online") && fleet.body.contains("Outdated"),
        "0.0.1 is behind"
    );
    let outdated = admin.get("/console/fleet?state=outdated");
    assert!(outdated.body.contains(&format!("/console/kiosks/{lyon_id}")));
    assert!(
        !outdated.body.contains(&format!("/console/kiosks/{paris_id}")),
        "Paris runs the newest"
    );

    let mut full = heartbeat(env!("CARGO_PKG_VERSION"));
    full.disk_free_bytes = Some(100 << 20);
    full.camera.state = CameraState::Waiting;
    full.camera.waiting_seconds = 900;
    assert_eq!(beat(&world, &paris_token, &full), 200);
    let page = admin.get(&format!("/console/kiosks/{paris_id}"));
    assert!(
        page.body.contains("Disk low") && page.body.contains("Camera waiting"),
        "{}",
        page.body
    );
    assert!(
        admin
            .get("/console/fleet?state=alerts")
            .body
            .contains(&format!("/console/kiosks/{paris_id}"))
    );
    assert_eq!(beat(&world, &paris_token, &heartbeat(env!("CARGO_PKG_VERSION"))), 200);
    let conn = hub_conn(&world.hub_data());
    let open: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM kiosk_alert WHERE cleared_at IS NULL",
            vitrine::db::params![],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(open, 0, "both alerts cleared themselves");
    let announced: Vec<String> = conn
        .query_map(
            "SELECT payload FROM webhook_message WHERE type = 'kiosk.alert' ORDER BY id",
            vitrine::db::params![],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(announced.len(), 4, "two opened, two cleared: {announced:?}");
    assert!(announced[3].contains("\"cleared\""));

    let mut future = heartbeat(env!("CARGO_PKG_VERSION"));
    future.sent_at = "2199-01-01T00:00:00Z".parse().unwrap();
    assert_eq!(
        beat(&world, &lyon_token, &future),
        200,
        "a clock far ahead is a fact, not a failure"
    );
    assert!(
        admin
            .get(&format!("/console/kiosks/{lyon_id}"))
            .body
            .contains("Clock off")
    );

    let mut oversized = heartbeat("1.0.0");
    oversized.last_error = Some("x".repeat(201));
    assert_eq!(beat(&world, &paris_token, &oversized), 422);
}

#[test]
fn an_enrollment_code_from_the_console_enrolls_a_kiosk_that_then_shows_in_the_fleet() {
    let world = chain();
    let mut manager = Browser::signed_in(&world.hub.url(), "paris@chain.fr");
    manager.get("/console/enroll");
    let page = manager.post("/console/enroll", &[("store", "PARIS")]);
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<svg"), "the QR code is drawn in the page");
    let link_start = page.body.find("<p class=\"code\"><code>").unwrap() + "<p class=\"code\"><code>".len();
    let code = page.body[link_start..].split('<').next().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kiosk.sqlite");
    let elsewhere = world.rt.block_on(vitrine::sync::driver::enroll_in(
        &db,
        &world.hub.url(),
        &code,
        Some("entrance"),
        Some("LYON"),
    ));
    let refused = format!("{:#}", elsewhere.unwrap_err());
    assert!(
        refused.contains("other_shop"),
        "a kiosk set up for Lyon refuses Paris's code: {refused}"
    );
    assert!(!db.exists(), "nothing saved on the kiosk");
    world
        .rt
        .block_on(vitrine::sync::driver::enroll_in(
            &db,
            &world.hub.url(),
            &code,
            Some("entrance"),
            Some("PARIS"),
        ))
        .expect("the code is still unused");
    let fleet = manager.get("/console/fleet");
    assert!(
        fleet.body.contains("entrance") && fleet.body.contains("Never seen"),
        "{}",
        fleet.body
    );
    let audit = manager.get("/console/audit?action=enroll_code.");
    assert!(audit.body.contains("enroll_code.create"));
}

#[test]
fn an_admin_creates_a_key_that_works_once_shown_and_revokes_it() {
    let world = chain();
    let mut admin = Browser::signed_in(&world.hub.url(), "admin@chain.fr");
    admin.get("/console/keys");
    let none = admin.post("/console/keys", &[("name", "no scope")]);
    assert_eq!(none.status, StatusCode::SEE_OTHER);
    let page = admin.post("/console/keys", &[("name", "analytics"), ("scope", "reports:read")]);
    let at = page.body.find("vws_").expect("the key is shown once");
    let key: String = page.body[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    let shops = |world: &World| {
        world
            .json(
                reqwest::Method::GET,
                "/v1/webstore/reports/shops?from=2026-01-01&to=2026-01-31",
                Some(&key),
                &serde_json::Value::Null,
            )
            .0
    };
    assert_eq!(shops(&world), 200);
    let listed = admin.get("/console/keys");
    assert!(
        listed.body.contains("analytics") && !listed.body.contains(&key),
        "never shown again"
    );
    let conn = hub_conn(&world.hub_data());
    let id: i64 = conn
        .query_row(
            "SELECT id FROM api_key WHERE name = 'analytics'",
            vitrine::db::params![],
            |r| r.get(0),
        )
        .unwrap();
    admin.post(&format!("/console/keys/{id}/revoke"), &[]);
    assert_eq!(shops(&world), 401);
    let lines = hub::audit::list(
        &conn,
        &hub::audit::Filter {
            limit: 10,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(lines[0].action, "key.revoke");
    assert_eq!(lines[1].action, "key.create");
    assert_eq!(lines[1].detail, "reports:read");
}

#[test]
fn a_session_outlives_its_hub_and_works_on_the_next_one_on_the_same_database() {
    let world = chain();
    let data = world.hub_data();
    let mut admin = Browser::signed_in(&world.hub.url(), "admin@chain.fr");
    let World { hub, dir, .. } = world;
    drop(hub);
    let next = crate::world::spawn_hub(&data, vitrine::hub::Config::default());
    admin.base = next.url();
    let page = admin.get("/console/fleet");
    assert_eq!(
        page.status,
        StatusCode::OK,
        "the session is in the database, not in the first hub"
    );
    // A password change ends it.
    let conn = hub_conn(&data);
    admin::set_password(
        &conn,
        &Actor::Cli,
        "admin@chain.fr",
        &Hashed::new("another long password").unwrap(),
        Timestamp::now(),
    )
    .unwrap()
    .unwrap();
    assert_eq!(admin.get("/console/fleet").status, StatusCode::SEE_OTHER);
    drop(dir);
}

#[test]
fn the_console_speaks_french_when_asked() {
    let world = chain();
    let mut admin = Browser::signed_in(&world.hub.url(), "admin@chain.fr");
    let page = admin.post("/console/language", &[("lang", "fr"), ("back", "/console/fleet")]);
    assert_eq!(page.location.as_deref(), Some("/console/fleet"));
    let fleet = admin.get("/console/fleet");
    assert!(
        fleet.body.contains("<html lang=\"fr\">") && fleet.body.contains("Parc"),
        "{}",
        fleet.body
    );
    let outside = admin.post(
        "/console/language",
        &[("lang", "en"), ("back", "https://evil.example/")],
    );
    assert_eq!(
        outside.location.as_deref(),
        Some("/console"),
        "never a redirect elsewhere"
    );
}

#[test]
fn an_account_added_from_the_command_line_signs_in_and_the_cli_is_audited() {
    let world = chain();
    let data = world.hub_data();
    let data = data.to_str().unwrap();
    let add = |args: &[&str], password: &str| {
        let mut all = vec!["hub", "ops", "add", "--data", data];
        all.extend_from_slice(args);
        crate::cli::vitrine_with_input(&all, &format!("{password}\n"))
    };
    let (ok, _, err) = add(&["--email", "lyon@chain.fr", "--role", "manager"], PASSWORD);
    assert!(!ok && err.contains("at least one shop"), "{err}");
    let (ok, _, err) = add(
        &["--email", "lyon@chain.fr", "--role", "manager", "--store", "LYON"],
        "short",
    );
    assert!(!ok && err.contains("12 to 128"), "{err}");
    let (ok, out, err) = add(
        &["--email", "lyon@chain.fr", "--role", "manager", "--store", "LYON"],
        PASSWORD,
    );
    assert!(ok, "{err}");
    assert!(out.contains("lyon@chain.fr"));
    let mut lyon = Browser::signed_in(&world.hub.url(), "lyon@chain.fr");
    assert_eq!(lyon.get("/console/shops/LYON").status, StatusCode::OK);
    assert_eq!(lyon.get("/console/shops/PARIS").status, StatusCode::FORBIDDEN);
    let (ok, out, _) = crate::cli::vitrine_with_input(&["hub", "ops", "list", "--data", data], "");
    assert!(ok && out.contains("lyon@chain.fr\tmanager\tLYON"), "{out}");
    let mut admin = Browser::signed_in(&world.hub.url(), "admin@chain.fr");
    let audit = admin.get("/console/audit?actor=cli");
    assert!(
        audit.body.contains("account.add") && audit.body.contains("lyon@chain.fr"),
        "{}",
        audit.body
    );
}
