//! `vitrine bench console`: the console on a generated chain (`--shops` shops, `--kiosks`
//! kiosks, `--days` days of hourly heartbeat history and of visits), served by a real
//! hub over loopback and read as a signed-in browser would:
//!
//! - `fleet_page_p50_ms`, `fleet_page_p99_ms`: the fleet page, every kiosk of the chain;
//! - `kiosk_page_p50_ms`, `kiosk_page_p99_ms`: one kiosk's page with its 48 hours;
//! - `figures_page_p50_ms`, `figures_page_p99_ms`: the figures of the last 30 days, and
//!   `figures_90d_p50_ms`/`_p99_ms` over the 90 days;
//! - `heartbeat_ingest_per_s`: every kiosk posting heartbeats at once over HTTP.

use std::path::Path;
use std::time::Instant;

use jiff::{SignedDuration, Timestamp};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::params;

use super::percentiles;
use crate::hub::accounts::{Hashed, Role};
use crate::hub::audit::Actor;
use crate::hub::measure::Settings;
use crate::hub::{self, admin, store};
use crate::protocol::fleet::{CameraHealth, CameraState, Heartbeat};
use crate::protocol::measure::KioskEvents;

pub struct Options {
    pub shops: usize,
    pub kiosks: usize,
    pub days: usize,
    /// Kiosk events over the days, for the figures.
    pub events: usize,
    /// Page loads measured per page.
    pub rounds: usize,
}

const PASSWORD: &str = "a bench password, long enough";

fn shop(i: usize) -> String {
    format!("SHOP-{i:03}")
}

fn heartbeat(rng: &mut StdRng, at: Timestamp) -> Heartbeat {
    Heartbeat {
        app_version: if rng.random_range(0..10) == 0 {
            "0.9.0"
        } else {
            env!("CARGO_PKG_VERSION")
        }
        .to_owned(),
        sent_at: at,
        last_push: Some(at - SignedDuration::from_mins(rng.random_range(0..30))),
        last_pull: Some(at - SignedDuration::from_mins(rng.random_range(0..5))),
        last_error: None,
        outbox_pending: rng.random_range(0..5),
        outbox_rejected: 0,
        events_pending: rng.random_range(0..50),
        products: 12_000,
        inventory_as_of: Some(at - SignedDuration::from_hours(2)),
        camera: CameraHealth {
            state: CameraState::Running,
            name: Some("USB camera".to_owned()),
            fps: 15.0,
            waiting_seconds: 0,
            frames_given_up: rng.random_range(0..3),
            minutes_since_read: Some(rng.random_range(0..600)),
        },
        disk_free_bytes: Some(rng.random_range(1..40) << 30),
        data_bytes: None,
        settings_version: Some(0),
    }
}

/// The chain: kiosks enrolled, their latest heartbeat and hourly history, alerts on a
/// few, visits over the days, an admin account. Returns the kiosks' tokens.
fn fill(dir: &Path, options: &Options, now: Timestamp) -> anyhow::Result<Vec<String>> {
    let mut conn = hub::open_db(dir)?;
    let mut rng = StdRng::seed_from_u64(19);
    let mut tokens = Vec::with_capacity(options.kiosks);
    for k in 0..options.kiosks {
        let code = store::create_enroll_code(&conn, &shop(k % options.shops), now)?;
        let enrolled =
            store::enroll(&conn, &code, Some(&format!("Kiosk {k}")), None, now)?.map_err(anyhow::Error::msg)?;
        tokens.push(enrolled.token);
    }
    let tx = conn.transaction()?;
    let hours = (options.days * 24) as i64;
    let this_hour = now.as_second().div_euclid(3600);
    for device in 1..=options.kiosks as i64 {
        let beat = heartbeat(&mut rng, now);
        // One kiosk in twenty went quiet an hour ago.
        let received = if device % 20 == 0 {
            now - SignedDuration::from_hours(1)
        } else {
            now
        };
        tx.execute(
            "INSERT INTO kiosk_health (device_id, received_at, app_version, settings_version, clock_offset_ms, report)
             VALUES (?1, ?2, ?3, 0, 0, ?4)",
            params![
                device,
                received.as_second(),
                beat.app_version,
                serde_json::to_string(&beat)?
            ],
        )?;
        let mut insert = tx.prepare_cached(
            "INSERT INTO kiosk_health_hour (device_id, hour, received_at, outbox_pending, outbox_rejected, camera,
                 disk_free_mb, clock_offset_ms, heartbeats) VALUES (?1, ?2, ?3, ?4, 0, 'running', ?5, 0, 60)",
        )?;
        for h in 0..hours {
            let hour = this_hour - hours + h + 1;
            insert.execute(params![
                device,
                hour,
                hour * 3600 + 3599,
                rng.random_range(0..5),
                20_000
            ])?;
        }
        if device % 20 == 0 {
            tx.execute(
                "INSERT INTO kiosk_alert (device_id, store_code, kind, detail, opened_at) VALUES (?1, ?2, 'offline', 'no heartbeat for 60 min', ?3)",
                params![device, shop((device as usize - 1) % options.shops), now.as_second()],
            )?;
        }
    }
    tx.commit()?;
    let settings = Settings::default();
    let span = SignedDuration::from_hours(hours);
    let (mut stored, mut v) = (0, 0);
    while stored < options.events {
        let device = (v % options.kiosks) as i64 + 1;
        let store = shop((device as usize - 1) % options.shops);
        let mut batch = Vec::new();
        while batch.len() < crate::protocol::measure::MAX_EVENTS {
            let done = (stored + batch.len()) as f64 / options.events as f64;
            let start = now - span + SignedDuration::from_secs((span.as_secs() as f64 * done) as i64);
            batch.extend(super::measure::visit_events(
                &mut rng,
                &format!("v{v}"),
                start,
                v % 4 == 0,
            ));
            v += 1;
        }
        let received = batch.iter().map(|e| e.at).max().unwrap_or(now) + SignedDuration::from_secs(60);
        let events = KioskEvents {
            events: batch,
            dropped: 0,
        };
        stored += crate::hub::measure::events::record(&conn, &settings, device, &store, &events, received)?.stored;
    }
    let hashed = Hashed::new(PASSWORD)?;
    admin::add_account(
        &conn,
        &Actor::Cli,
        "bench@chain.example",
        Role::Admin,
        &[],
        &hashed,
        now,
    )?
    .map_err(anyhow::Error::msg)?;
    Ok(tokens)
}

/// A signed-in browser's cookies, by hand (the library's HTTP client keeps none).
struct Cookies(Vec<(String, String)>);

impl Cookies {
    fn take(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all(reqwest::header::SET_COOKIE) {
            let Some((name, value)) = value
                .to_str()
                .ok()
                .and_then(|v| v.split(';').next())
                .and_then(|p| p.split_once('='))
            else {
                continue;
            };
            self.0.retain(|(n, _)| n != name);
            self.0.push((name.to_owned(), value.to_owned()));
        }
    }

    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

async fn sign_in(http: &reqwest::Client, url: &str) -> anyhow::Result<Cookies> {
    let mut cookies = Cookies(Vec::new());
    let page = http.get(format!("{url}/console/sign-in")).send().await?;
    cookies.take(&page);
    let body = page.text().await?;
    let marker = "name=\"authenticity_token\" value=\"";
    let at = body
        .find(marker)
        .ok_or_else(|| anyhow::anyhow!("no form token on the sign-in page"))?
        + marker.len();
    let token = body[at..].split('"').next().unwrap_or_default().to_owned();
    let answer = http
        .post(format!("{url}/console/sign-in"))
        .header(reqwest::header::COOKIE, cookies.header())
        .form(&[
            ("authenticity_token", token.as_str()),
            ("email", "bench@chain.example"),
            ("password", PASSWORD),
        ])
        .send()
        .await?;
    anyhow::ensure!(
        answer.status() == reqwest::StatusCode::SEE_OTHER,
        "sign-in refused: {}",
        answer.status()
    );
    cookies.take(&answer);
    Ok(cookies)
}

/// `rounds` loads of `path`: the median and p99 in milliseconds.
async fn page_times(
    http: &reqwest::Client,
    url: &str,
    cookies: &Cookies,
    path: &str,
    rounds: usize,
) -> anyhow::Result<(f64, f64)> {
    let mut samples = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let started = Instant::now();
        let response = http
            .get(format!("{url}{path}"))
            .header(reqwest::header::COOKIE, cookies.header())
            .send()
            .await?;
        anyhow::ensure!(response.status().is_success(), "{path}: {}", response.status());
        response.bytes().await?;
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(percentiles(samples))
}

pub fn run(dir: &Path, options: &Options) -> anyhow::Result<Vec<String>> {
    let now = Timestamp::now();
    let started = Instant::now();
    let tokens = fill(dir, options, now)?;
    let mut lines = vec![
        format!("console_shops={}", options.shops),
        format!("console_kiosks={}", options.kiosks),
        format!("console_fill_s={:.1}", started.elapsed().as_secs_f64()),
    ];
    let config = hub::Config {
        shops: (0..options.shops)
            .map(|i| {
                crate::protocol::Shop {
                    code: shop(i),
                    name: format!("Shop {i}"),
                    latitude: None,
                    longitude: None,
                }
                .into()
            })
            .collect(),
        ..hub::Config::default()
    };
    let running = hub::spawn_with(dir, config)?;
    let url = running.url();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    rt.block_on(async {
        let cookies = sign_in(&http, &url).await?;
        let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
        let ninety = today.checked_sub(jiff::Span::new().days(89))?;
        let pages = [
            ("fleet_page", "/console/fleet".to_owned(), options.rounds),
            ("kiosk_page", "/console/kiosks/1".to_owned(), options.rounds),
            (
                "figures_page",
                "/console/figures".to_owned(),
                options.rounds.div_ceil(4),
            ),
            (
                "figures_90d",
                format!("/console/figures?from={ninety}&to={today}"),
                options.rounds.div_ceil(4),
            ),
        ];
        for (name, path, rounds) in pages {
            let (p50, p99) = page_times(&http, &url, &cookies, &path, rounds).await?;
            lines.push(format!("{name}_p50_ms={p50:.1}"));
            lines.push(format!("{name}_p99_ms={p99:.1}"));
        }
        // Every kiosk posts ten heartbeats, all at once.
        let rounds = 10;
        let started = Instant::now();
        let tasks: Vec<_> = tokens
            .into_iter()
            .enumerate()
            .map(|(k, token)| {
                let (http, url) = (http.clone(), url.clone());
                tokio::spawn(async move {
                    let mut rng = StdRng::seed_from_u64(k as u64);
                    for _ in 0..rounds {
                        http.post(format!("{url}/v1/kiosk/heartbeat"))
                            .bearer_auth(&token)
                            .json(&heartbeat(&mut rng, Timestamp::now()))
                            .send()
                            .await?
                            .error_for_status()?;
                    }
                    anyhow::Ok(())
                })
            })
            .collect();
        let count = tasks.len() * rounds;
        for task in tasks {
            task.await??;
        }
        lines.push(format!("heartbeats={count}"));
        lines.push(format!(
            "heartbeat_ingest_per_s={:.0}",
            count as f64 / started.elapsed().as_secs_f64()
        ));
        anyhow::Ok(())
    })?;
    Ok(lines)
}
