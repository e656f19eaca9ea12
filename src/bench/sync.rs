//! `vitrine bench sync`: the hub and the sync engine under load, over real HTTP on
//! loopback, with the hub's SQLite file on disk.
//!
//! - `ingest_ops_per_s`, `push_p50_ms`, `push_p99_ms`: 100 kiosks push batches at once;
//! - `drain_10k_s`: one kiosk sends 10,000 queued ops;
//! - `pull_changes_per_s`: the web store pages through every change;
//! - `catalog_pull_s`: an empty kiosk pulls the generated catalog.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use jiff::Timestamp;

use super::catalog::generate;
use super::percentiles;
use crate::catalog::{Catalog, FeedOptions, InventoryFeed, ProductFeed};
use crate::hub::{self, auth::Scope, store};
use crate::protocol::{Action, Op, Owner, PushRequest, PushResponse, WishlistPage};
use crate::sync::driver::{Step, Syncer};
use crate::sync::{engine::Policy, outbox};

pub struct Options {
    pub kiosks: usize,
    pub batches: usize,
    pub batch_ops: usize,
    pub groups: usize,
}

/// The ingest rate the issue asks for, at which push latency is measured.
const TARGET_OPS_PER_S: f64 = 5_000.0;

struct Load<'a> {
    http: &'a reqwest::Client,
    url: &'a str,
    tokens: &'a [String],
    skus: &'a Arc<Vec<String>>,
    options: &'a Options,
}

impl Load<'_> {
    /// Every kiosk pushes `batches` batches on its own stream, back to back or one per
    /// `pace`; returns each push's latency in milliseconds.
    async fn run(&self, name: &str, pace: Option<std::time::Duration>) -> anyhow::Result<Vec<f64>> {
        let tasks: Vec<_> = self
            .tokens
            .iter()
            .enumerate()
            .map(|(k, token)| {
                let (http, url, skus, token) =
                    (self.http.clone(), self.url.to_owned(), self.skus.clone(), token.clone());
                let (batches, batch_ops, kiosks) = (self.options.batches, self.options.batch_ops, self.options.kiosks);
                let stream = format!("{name}-{k}");
                tokio::spawn(async move {
                    let mut times = Vec::with_capacity(batches);
                    let base = crate::hlc::from_wall(Timestamp::now());
                    let mut tick = pace.map(|p| {
                        let start = tokio::time::Instant::now() + p.mul_f64(k as f64 / kiosks as f64);
                        tokio::time::interval_at(start, p)
                    });
                    for b in 0..batches {
                        if let Some(tick) = tick.as_mut() {
                            tick.tick().await;
                        }
                        let ops: Vec<Op> = (0..batch_ops)
                            .map(|i| {
                                let n = b * batch_ops + i;
                                Op {
                                    seq: n as u64 + 1,
                                    hlc: base + n as u64,
                                    // Anonymous visits' lines: a kiosk writes a customer's
                                    // only after a checked sign-in.
                                    owner: Owner::Visit(format!("v{}", (k * 7919 + n * 31) % 5_000)),
                                    sku: skus[(k * 104_729 + n * 7) % skus.len()].clone(),
                                    action: if n % 4 == 3 { Action::Remove } else { Action::Add },
                                    session: Some(format!("visit-{k}")),
                                    token: None,
                                }
                            })
                            .collect();
                        let request = PushRequest {
                            stream: stream.clone(),
                            ops,
                        };
                        let sent = Instant::now();
                        let response = http
                            .post(format!("{url}/v1/kiosk/ops"))
                            .bearer_auth(&token)
                            .json(&request)
                            .send()
                            .await?
                            .error_for_status()?
                            .json::<PushResponse>()
                            .await?;
                        anyhow::ensure!(response.acked_seq == ((b + 1) * batch_ops) as u64, "push not acked");
                        times.push(sent.elapsed().as_secs_f64() * 1e3);
                    }
                    anyhow::Ok(times)
                })
            })
            .collect();
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await??);
        }
        Ok(all)
    }
}

/// Runs every measurement and returns the `name=value` lines.
pub fn run(dir: &Path, options: &Options) -> anyhow::Result<Vec<String>> {
    let mut lines = vec![
        format!("kiosks={}", options.kiosks),
        format!("batch_ops={}", options.batch_ops),
    ];
    let hub_dir = dir.join("hub");
    let running = hub::spawn(&hub_dir)?;
    let conn = hub::open_db(&hub_dir)?;
    let key = store::create_key(&conn, "bench", &Scope::ALL, Timestamp::now())?;

    // The catalog, imported straight into the hub's file (as an upload would).
    let generated = generate(options.groups, 5);
    let started = Instant::now();
    let mut hub_catalog = Catalog::with_connection(hub::open_db(&hub_dir)?, true);
    hub_catalog.import(
        Some(&ProductFeed::parse(generated.tsv.as_bytes(), &FeedOptions::lang("fr"))?),
        Some(&InventoryFeed::parse(
            generated.inventory.as_bytes(),
            &FeedOptions::default(),
        )?),
        Timestamp::now(),
    )?;
    lines.push(format!("hub_import_s={:.1}", started.elapsed().as_secs_f64()));
    let skus = Arc::new(generated.skus);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let tokens: Vec<String> = (0..options.kiosks)
        .map(|i| {
            let code = store::create_enroll_code(
                &conn,
                super::catalog::STORES[i % super::catalog::STORES.len()],
                Timestamp::now(),
            )?;
            let c = hub::open_db(&hub_dir)?;
            let enrolled = store::enroll(&c, &code, None, None, Timestamp::now())?.map_err(anyhow::Error::msg)?;
            Ok(enrolled.token)
        })
        .collect::<anyhow::Result<_>>()?;

    // Ingest, saturated: every kiosk pushes its batches back to back, all at once.
    let url = running.url();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(options.kiosks)
        .build()?;
    let load = Load {
        http: &http,
        url: &url,
        tokens: &tokens,
        skus: &skus,
        options,
    };
    let started = Instant::now();
    let latencies = rt.block_on(load.run("saturated", None))?;
    let elapsed = started.elapsed().as_secs_f64();
    let total = options.kiosks * options.batches * options.batch_ops;
    let (p50, p99) = percentiles(latencies);
    lines.push(format!("ingest_ops={total}"));
    lines.push(format!("ingest_ops_per_s={:.0}", total as f64 / elapsed));
    lines.push(format!("push_saturated_p50_ms={p50:.1}"));
    lines.push(format!("push_saturated_p99_ms={p99:.1}"));

    // Push latency at the target rate of 5,000 ops/s, spread over the kiosks as a shop's
    // traffic is (each kiosk on its own clock), not at saturation.
    let interval = std::time::Duration::from_secs_f64((options.kiosks * options.batch_ops) as f64 / TARGET_OPS_PER_S);
    let latencies = rt.block_on(load.run("paced", Some(interval)))?;
    let (p50, p99) = percentiles(latencies);
    lines.push(format!("paced_ops_per_s={TARGET_OPS_PER_S:.0}"));
    lines.push(format!("push_p50_ms={p50:.1}"));
    lines.push(format!("push_p99_ms={p99:.1}"));

    // The web store pulls every change, 5,000 a page.
    let started = Instant::now();
    let pulled = rt.block_on(async {
        let mut cursor = String::new();
        let mut count = 0;
        loop {
            let page: WishlistPage = http
                .get(format!("{url}/v1/webstore/wishlist/changes"))
                .bearer_auth(&key)
                .query(&[("cursor", cursor.as_str()), ("limit", "5000")])
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            count += page.changes.len();
            cursor = page.next_cursor;
            if !page.has_more {
                return anyhow::Ok(count);
            }
        }
    })?;
    lines.push(format!("pull_changes={pulled}"));
    lines.push(format!(
        "pull_changes_per_s={:.0}",
        pulled as f64 / started.elapsed().as_secs_f64()
    ));

    // One kiosk with 10,000 ops queued (say, after a day offline).
    let kiosk_db = dir.join("kiosk.sqlite");
    rt.block_on(crate::sync::driver::enroll(
        &kiosk_db,
        &url,
        &store::create_enroll_code(&conn, super::catalog::STORES[0], Timestamp::now())?,
        None,
    ))?;
    {
        let mut kiosk = Catalog::open(&kiosk_db)?;
        let now = Timestamp::now();
        for n in 0..10_000 {
            let owner = Owner::Visit(format!("offline-{}", n % 500));
            outbox::edit(
                kiosk.connection(),
                now,
                &owner,
                &skus[n % skus.len()],
                Action::Add,
                None,
            )?;
        }
    }
    let syncer = Syncer::open(&kiosk_db, Policy::default())?;
    let started = Instant::now();
    let step = rt.block_on(syncer.drain())?;
    anyhow::ensure!(step == Step::Idle, "the drain stopped early: {step:?}");
    lines.push(format!("drain_10k_s={:.2}", started.elapsed().as_secs_f64()));

    // The same kiosk pulls the whole catalog into its empty database.
    let started = Instant::now();
    let changes = rt.block_on(syncer.pull_catalog()).context("catalog pull")?;
    lines.push(format!("catalog_changes={changes}"));
    lines.push(format!("catalog_pull_s={:.1}", started.elapsed().as_secs_f64()));
    drop(running);
    Ok(lines)
}
