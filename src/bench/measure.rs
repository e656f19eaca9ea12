//! `vitrine bench measure`: measurement's numbers.
//!
//! - `events_ingest_per_s`: kiosks post batches of 500 events at once to a real hub
//!   over loopback HTTP;
//! - `report_*_90d_ms`: the reports over 90 days of a hub holding `--events` events
//!   (1,000,000 by default) and `--orders` orders (10,000), median and slowest of 5;
//! - `kiosk_record_p50_ms`, `kiosk_record_p99_ms`: one event written to a kiosk's file,
//!   as its catalog thread does it (the UI thread only hands it over);
//! - `webhook_lag_p50_ms`, `webhook_lag_p99_ms`: from a change's commit (the message's
//!   `timestamp`) to its delivery at a healthy endpoint on loopback, 200 consents posted
//!   20 ms apart.

use std::path::Path;
use std::time::Instant;

use jiff::{SignedDuration, Timestamp};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::params;

use super::percentiles;
use crate::hub::measure::{self, Settings, report};
use crate::hub::{self, store};
use crate::protocol::measure::{EventDetail, KioskEvent, KioskEvents, SignInMethod, ViewSource, VisitEnd};

pub struct Options {
    pub kiosks: usize,
    pub batches: usize,
    pub events: usize,
    pub orders: usize,
}

/// A visit's events as a shopper makes them: start, views, a search, saves, maybe a
/// sign-in and a list shown, end. About a dozen.
pub(super) fn visit_events(rng: &mut StdRng, visit: &str, start: Timestamp, signed_in: bool) -> Vec<KioskEvent> {
    let mut details = vec![EventDetail::VisitStarted];
    for _ in 0..(3 + rng.random_range(0..6)) {
        details.push(EventDetail::ProductViewed {
            sku: format!("SKU{:05}", rng.random_range(0..20_000)),
            source: [ViewSource::Search, ViewSource::Browse, ViewSource::Featured][rng.random_range(0..3)],
        });
    }
    details.push(EventDetail::Searched {
        query: ["robe", "jean slim", "baskets", "pull laine"][rng.random_range(0..4)].to_owned(),
        results: rng.random_range(0..40) as u32,
    });
    for _ in 0..rng.random_range(0..3) {
        details.push(EventDetail::WishlistAdded {
            sku: format!("SKU{:05}", rng.random_range(0..20_000)),
        });
    }
    if signed_in {
        details.push(EventDetail::SignedIn {
            method: SignInMethod::AppCode,
        });
        details.push(EventDetail::ListCodeShown { items: 2 });
    }
    let seconds = 30 + rng.random_range(0..400) as u32;
    details.push(EventDetail::VisitEnded {
        seconds,
        reason: VisitEnd::Done,
    });
    let step = i64::from(seconds) * 1000 / details.len() as i64;
    details
        .into_iter()
        .enumerate()
        .map(|(i, detail)| KioskEvent {
            id: format!("{visit}-{i}"),
            at: start + SignedDuration::from_millis(step * i as i64),
            visit: Some(visit.to_owned()),
            detail,
        })
        .collect()
}

/// Runs every measurement and returns the `name=value` lines.
pub fn run(dir: &Path, options: &Options) -> anyhow::Result<Vec<String>> {
    let mut lines = Vec::new();
    lines.extend(ingest(&dir.join("ingest"), options)?);
    lines.extend(reports(&dir.join("reports"), options)?);
    lines.extend(kiosk_record(&dir.join("kiosk"))?);
    lines.extend(webhook_lag(&dir.join("webhooks"))?);
    Ok(lines)
}

/// Kiosks post their events at once, over HTTP.
fn ingest(dir: &Path, options: &Options) -> anyhow::Result<Vec<String>> {
    let running = hub::spawn(dir)?;
    let conn = hub::open_db(dir)?;
    let tokens: Vec<String> = (0..options.kiosks)
        .map(|i| {
            let code = store::create_enroll_code(&conn, &format!("S{:02}", i % 5), Timestamp::now())?;
            let c = hub::open_db(dir)?;
            let enrolled = store::enroll(&c, &code, None, None, Timestamp::now())?.map_err(anyhow::Error::msg)?;
            Ok(enrolled.token)
        })
        .collect::<anyhow::Result<_>>()?;
    let batches: Vec<Vec<KioskEvents>> = (0..options.kiosks)
        .map(|k| {
            let mut rng = StdRng::seed_from_u64(k as u64);
            let mut events = Vec::new();
            let mut v = 0;
            while events.len() < options.batches * crate::protocol::measure::MAX_EVENTS {
                let start = Timestamp::now() - SignedDuration::from_hours(rng.random_range(0..24 * 30) as i64);
                events.extend(visit_events(&mut rng, &format!("k{k}-v{v}"), start, v % 3 == 0));
                v += 1;
            }
            events
                .chunks(crate::protocol::measure::MAX_EVENTS)
                .take(options.batches)
                .map(|c| KioskEvents {
                    events: c.to_vec(),
                    dropped: 0,
                })
                .collect()
        })
        .collect();
    let total: usize = batches.iter().flatten().map(|b| b.events.len()).sum();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let http = reqwest::Client::new();
    let url = running.url();
    let started = Instant::now();
    rt.block_on(async {
        let tasks: Vec<_> = tokens
            .into_iter()
            .zip(batches)
            .map(|(token, batches)| {
                let (http, url) = (http.clone(), url.clone());
                tokio::spawn(async move {
                    for batch in batches {
                        http.post(format!("{url}/v1/kiosk/events"))
                            .bearer_auth(&token)
                            .json(&batch)
                            .send()
                            .await?
                            .error_for_status()?;
                    }
                    anyhow::Ok(())
                })
            })
            .collect();
        for task in tasks {
            task.await??;
        }
        anyhow::Ok(())
    })?;
    let elapsed = started.elapsed().as_secs_f64();
    Ok(vec![
        format!("events_ingested={total}"),
        format!("events_ingest_per_s={:.0}", total as f64 / elapsed),
    ])
}

/// A hub file with `events` events over 90 days and `orders` orders, then the reports.
fn reports(dir: &Path, options: &Options) -> anyhow::Result<Vec<String>> {
    let mut conn = hub::open_db(dir)?;
    let settings = Settings::default();
    let now = Timestamp::now();
    let ninety = SignedDuration::from_hours(24 * 90);
    let mut rng = StdRng::seed_from_u64(42);
    let started = Instant::now();
    let (mut stored, mut v, mut batches) = (0, 0, 0);
    let mut sign_ins = Vec::new();
    while stored < options.events {
        // One kiosk's batch: 60 kiosks in 20 shops.
        let device = batches % 60;
        let store = format!("S{:02}", device % 20);
        batches += 1;
        let mut batch = Vec::new();
        while batch.len() < 5_000 && stored + batch.len() < options.events {
            // Visits in the order they happen, over the 90 days.
            let start = now - ninety
                + SignedDuration::from_secs(
                    (ninety.as_secs() as f64 * (stored + batch.len()) as f64 / options.events as f64) as i64,
                );
            let signed_in = v % 4 == 0;
            let visit = format!("v{v}");
            if signed_in {
                sign_ins.push((
                    visit.clone(),
                    format!("c{}", rng.random_range(0..20_000)),
                    store.clone(),
                    device,
                    start,
                ));
            }
            batch.extend(visit_events(&mut rng, &visit, start, signed_in));
            v += 1;
            if batch.len() >= 5_000 {
                break;
            }
        }
        // Received as a kiosk sends them, soon after they happened: the hub refuses
        // events 60 days old on arrival.
        let received = batch.iter().map(|e| e.at).max().unwrap_or(now) + SignedDuration::from_secs(60);
        let events = KioskEvents {
            events: batch,
            dropped: 0,
        };
        stored += measure::events::record(&conn, &settings, device, &store, &events, received)?.stored;
    }
    let tx = conn.transaction()?;
    for (session, customer, store, device, at) in &sign_ins {
        tx.execute(
            "INSERT INTO visit (session, customer, store_code, device_id, signed_in_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![session, customer, store, device, at.as_millisecond()],
        )?;
    }
    for c in 0..20_000 {
        tx.execute(
            "INSERT INTO consent (customer, measurement, updated_at) VALUES (?1, ?2, ?3)",
            params![format!("c{c}"), c % 2 == 0, now.as_millisecond()],
        )?;
    }
    for o in 0..options.orders {
        let placed = now - SignedDuration::from_secs(rng.random_range(0..ninety.as_secs() as usize) as i64);
        tx.execute(
            "INSERT INTO web_order (order_id, customer, placed_at, currency, channel, body_hash, received_at)
             VALUES (?1, ?2, ?3, 'EUR', 'online', x'00', ?3)",
            params![
                format!("o{o}"),
                format!("c{}", rng.random_range(0..20_000)),
                placed.as_millisecond()
            ],
        )?;
        for line in 0..(1 + rng.random_range(0..3)) {
            tx.execute(
                "INSERT INTO web_order_line (order_id, line, sku, quantity, unit_minor) VALUES (?1, ?2, ?3, 1, 5990)",
                params![
                    format!("o{o}"),
                    line as i64,
                    format!("SKU{:05}", rng.random_range(0..20_000))
                ],
            )?;
        }
    }
    tx.commit()?;
    let mut lines = vec![
        format!("report_events={stored}"),
        format!("report_orders={}", options.orders),
        format!("report_fill_s={:.1}", started.elapsed().as_secs_f64()),
    ];
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let period = report::Period {
        from: today.checked_sub(jiff::Span::new().days(89))?,
        to: today,
    };
    let conn = crate::db::open(&hub::db_path(dir), crate::db::Schema::Hub)?;
    type Report = fn(&dyn crate::db::Sql, &Settings, report::Period) -> crate::db::Result<usize>;
    let reports: [(&str, Report); 4] = [
        ("shops", |c, s, p| Ok(report::shops(c, s, p, None)?.shops.len())),
        ("kiosks", |c, s, p| Ok(report::kiosks(c, s, p, None)?.kiosks.len())),
        ("days", |c, s, p| Ok(report::days(c, s, p, None)?.days.len())),
        ("products", |c, s, p| {
            Ok(report::products(c, s, p, None)?.products.len())
        }),
    ];
    for (name, f) in reports {
        let mut times = Vec::new();
        let mut rows = 0;
        for _ in 0..5 {
            let started = Instant::now();
            rows = f(&conn, &settings, period)?;
            times.push(started.elapsed().as_secs_f64() * 1e3);
        }
        let (median, _) = percentiles(times.clone());
        let slowest = times.iter().copied().fold(0.0, f64::max);
        lines.push(format!("report_{name}_rows={rows}"));
        lines.push(format!("report_{name}_90d_ms={median:.0}"));
        lines.push(format!("report_{name}_90d_max_ms={slowest:.0}"));
    }
    Ok(lines)
}

/// Events written one by one into a kiosk's file, as the catalog thread does.
fn kiosk_record(dir: &Path) -> anyhow::Result<Vec<String>> {
    std::fs::create_dir_all(dir)?;
    let conn = crate::db::open(&dir.join(crate::db::KIOSK_DB), crate::db::Schema::Kiosk)?;
    let mut times = Vec::with_capacity(5_000);
    for i in 0..5_000 {
        let event = crate::sync::events::new_event(
            Timestamp::now(),
            Some("bench-visit"),
            EventDetail::ProductViewed {
                sku: format!("SKU{i:05}"),
                source: ViewSource::Browse,
            },
        );
        let started = Instant::now();
        crate::sync::events::record(&conn, &event)?;
        times.push(started.elapsed().as_secs_f64() * 1e3);
    }
    let (p50, p99) = percentiles(times);
    Ok(vec![
        format!("kiosk_record_p50_ms={p50:.3}"),
        format!("kiosk_record_p99_ms={p99:.3}"),
    ])
}

/// Consents posted one by one; the lag from each message's commit to its arrival.
fn webhook_lag(dir: &Path) -> anyhow::Result<Vec<String>> {
    use std::sync::{Arc, Mutex};
    const MESSAGES: usize = 200;
    let mut config = hub::Config::default();
    config.webhooks.hosts_allowed = vec!["127.0.0.1".parse().map_err(anyhow::Error::msg)?];
    let running = hub::spawn_with(dir, config)?;
    let key = store::create_key(
        &hub::open_db(dir)?,
        "bench",
        &crate::hub::auth::Scope::ALL,
        Timestamp::now(),
    )?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let lags: Arc<Mutex<Vec<f64>>> = Arc::default();
    let seen = lags.clone();
    let receiver = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move |body: String| {
            let seen = seen.clone();
            async move {
                let arrived = Timestamp::now();
                if let Ok(body) = serde_json::from_str::<crate::protocol::webhooks::WebhookBody>(&body) {
                    let lag = arrived.duration_since(body.timestamp).as_secs_f64() * 1e3;
                    seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(lag);
                }
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let url = running.url();
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let endpoint = format!("http://{}/hooks", listener.local_addr()?);
        tokio::spawn(async move { axum::serve(listener, receiver).await });
        let http = reqwest::Client::new();
        http.post(format!("{url}/v1/webstore/webhooks"))
            .bearer_auth(&key)
            .json(&serde_json::json!({ "url": endpoint, "events": ["consent.changed"] }))
            .send()
            .await?
            .error_for_status()?;
        for i in 0..MESSAGES {
            http.put(format!("{url}/v1/webstore/customers/c{i}/consent"))
                .bearer_auth(&key)
                .json(&serde_json::json!({ "measurement": true }))
                .send()
                .await?
                .error_for_status()?;
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let deadline = Instant::now() + std::time::Duration::from_secs(30);
        while lags.lock().unwrap_or_else(std::sync::PoisonError::into_inner).len() < MESSAGES
            && Instant::now() < deadline
        {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        anyhow::Ok(())
    })?;
    let lags = lags.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    let delivered = lags.len();
    let (p50, p99) = percentiles(lags);
    Ok(vec![
        format!("webhook_messages={MESSAGES}"),
        format!("webhook_delivered={delivered}"),
        format!("webhook_lag_p50_ms={p50:.1}"),
        format!("webhook_lag_p99_ms={p99:.1}"),
    ])
}
