//! `vitrine bench sync`: the hub and the sync engine under load, over real HTTP on
//! loopback, with the hub's state on disk: its SQLite file, or with `--database` side by
//! side on SQLite, on PostgreSQL with one hub and on PostgreSQL with two.
//!
//! - `ingest_ops_per_s`, `push_p50_ms`, `push_p99_ms`: 100 kiosks push batches at once
//!   (with two hubs, every other kiosk through each);
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
use crate::catalog::import::{Keep, import};
use crate::catalog::{Catalog, FeedOptions, InventoryFeed, ProductFeed};
use crate::hub::{self, Place, auth::Scope, store};
use crate::protocol::{Action, Op, Owner, PushRequest, PushResponse, WishlistPage};
use crate::sync::driver::{Step, Syncer};
use crate::sync::{engine::Policy, outbox};

pub struct Options {
    pub kiosks: usize,
    pub batches: usize,
    pub batch_ops: usize,
    pub groups: usize,
    /// A PostgreSQL server to measure beside SQLite (`postgres://…`, where the bench
    /// creates and drops databases of its own), or `local` for a cluster it starts.
    pub database: Option<String>,
}

/// The ingest rate the issue asks for, at which push latency is measured.
const TARGET_OPS_PER_S: f64 = 5_000.0;

struct Load<'a> {
    http: &'a reqwest::Client,
    /// The hubs; kiosk `k` pushes to `urls[k % urls.len()]`.
    urls: &'a [String],
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
                let (http, url, skus, token) = (
                    self.http.clone(),
                    self.urls[k % self.urls.len()].clone(),
                    self.skus.clone(),
                    token.clone(),
                );
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
    // The first hub's data directory, where `measure` starts it.
    let sqlite = |dir: &Path| Place::File(hub::db_path(&dir.join("hub0")));
    let Some(database) = &options.database else {
        lines.extend(measure(dir, &sqlite(dir), 1, options)?.lines(""));
        return Ok(lines);
    };
    let local;
    let server = if database == "local" {
        local = crate::db::cluster::Cluster::start(true).map_err(anyhow::Error::msg)?;
        crate::db::pg::config(&local.url("postgres")).map_err(anyhow::Error::msg)?
    } else {
        store::postgres_config(database).map_err(anyhow::Error::msg)?
    };
    lines.push(format!("postgres={}", crate::db::pg::describe(&server)));
    let on_sqlite = measure(&dir.join("sqlite"), &sqlite(&dir.join("sqlite")), 1, options)?;
    let mut on_postgres = Vec::new();
    for hubs in [1, 2] {
        let database = Scratch::create(&server, hubs)?;
        let place = Place::Postgres(Box::new(database.config.clone()));
        on_postgres.push(measure(&dir.join(format!("pg{hubs}")), &place, hubs, options)?);
    }
    lines.extend(on_sqlite.lines("sqlite_"));
    lines.extend(on_postgres[0].lines("pg_"));
    lines.extend(on_postgres[1].lines("pg2_"));
    let ingest = |f: &Figures| f.get("ingest_ops_per_s");
    lines.push(format!(
        "pg_ingest_vs_sqlite={:.2}",
        ingest(&on_postgres[0]) / ingest(&on_sqlite)
    ));
    lines.push(format!(
        "pg2_ingest_vs_pg={:.2}",
        ingest(&on_postgres[1]) / ingest(&on_postgres[0])
    ));
    // What an op costs the machine (its cores busy for the whole saturated run), from
    // which a chain's needs are estimated (README, "bench sync").
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    for (prefix, figures) in [
        ("sqlite_", &on_sqlite),
        ("pg_", &on_postgres[0]),
        ("pg2_", &on_postgres[1]),
    ] {
        lines.push(format!("{prefix}core_ms_per_op={:.3}", cores * 1e3 / ingest(figures)));
    }
    Ok(lines)
}

/// A database of the bench's own on the PostgreSQL server, dropped when done.
struct Scratch {
    server: postgres::Config,
    name: String,
    config: postgres::Config,
}

impl Scratch {
    fn create(server: &postgres::Config, n: usize) -> anyhow::Result<Scratch> {
        let name = format!("vitrine_bench_{}_{n}", std::process::id());
        let mut client = server
            .connect(postgres::NoTls)
            .context("cannot reach the PostgreSQL server")?;
        client
            .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\""))
            .and_then(|()| client.batch_execute(&format!("CREATE DATABASE \"{name}\"")))
            .with_context(|| format!("cannot create the database {name} (the bench needs CREATEDB)"))?;
        let mut config = server.clone();
        config.dbname(&name);
        Ok(Scratch {
            server: server.clone(),
            name,
            config,
        })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Ok(mut client) = self.server.connect(postgres::NoTls) {
            let _ = client.batch_execute(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name));
        }
    }
}

/// One run's figures, by name, in the order measured.
struct Figures(Vec<(&'static str, String)>);

impl Figures {
    fn push(&mut self, name: &'static str, value: impl std::fmt::Display) {
        self.0.push((name, value.to_string()));
    }

    fn get(&self, name: &str) -> f64 {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(f64::NAN)
    }

    fn lines(&self, prefix: &str) -> Vec<String> {
        self.0
            .iter()
            .map(|(name, value)| format!("{prefix}{name}={value}"))
            .collect()
    }
}

/// Every measurement on `hubs` hubs keeping their state at `place`.
fn measure(dir: &Path, place: &Place, hubs: usize, options: &Options) -> anyhow::Result<Figures> {
    let mut figures = Figures(Vec::new());
    std::fs::create_dir_all(dir)?;
    let running = (0..hubs)
        .map(|n| hub::spawn_at(&dir.join(format!("hub{n}")), place, hub::Config::default()))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let conn = place.connect()?;
    let key = store::create_key(&conn, "bench", &Scope::ALL, Timestamp::now())?;

    // The catalog, imported straight into the hub's database (as an upload would).
    let generated = generate(options.groups, 5);
    let started = Instant::now();
    import(
        &conn,
        Keep {
            log_changes: true,
            index: false,
        },
        Some(&ProductFeed::parse(generated.tsv.as_bytes(), &FeedOptions::lang("fr"))?),
        Some(&InventoryFeed::parse(
            generated.inventory.as_bytes(),
            &FeedOptions::default(),
        )?),
        Timestamp::now(),
    )?;
    figures.push("hub_import_s", format!("{:.1}", started.elapsed().as_secs_f64()));
    let skus = Arc::new(generated.skus);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let tokens: Vec<String> = (0..options.kiosks)
        .map(|i| {
            let store_code = super::catalog::STORES[i % super::catalog::STORES.len()];
            let code = store::create_enroll_code(&conn, store_code, Timestamp::now())?;
            let enrolled = store::enroll(&conn, &code, None, None, Timestamp::now())?.map_err(anyhow::Error::msg)?;
            Ok(enrolled.token)
        })
        .collect::<anyhow::Result<_>>()?;

    // Ingest, saturated: every kiosk pushes its batches back to back, all at once.
    let urls: Vec<String> = running.iter().map(hub::Running::url).collect();
    let url = urls[0].clone();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(options.kiosks)
        .build()?;
    let load = Load {
        http: &http,
        urls: &urls,
        tokens: &tokens,
        skus: &skus,
        options,
    };
    let started = Instant::now();
    let latencies = rt.block_on(load.run("saturated", None))?;
    let elapsed = started.elapsed().as_secs_f64();
    let total = options.kiosks * options.batches * options.batch_ops;
    let (p50, p99) = percentiles(latencies);
    figures.push("ingest_ops", total);
    figures.push("ingest_ops_per_s", format!("{:.0}", total as f64 / elapsed));
    figures.push("push_saturated_p50_ms", format!("{p50:.1}"));
    figures.push("push_saturated_p99_ms", format!("{p99:.1}"));

    // Push latency at the target rate of 5,000 ops/s, spread over the kiosks as a shop's
    // traffic is (each kiosk on its own clock), not at saturation.
    let interval = std::time::Duration::from_secs_f64((options.kiosks * options.batch_ops) as f64 / TARGET_OPS_PER_S);
    let latencies = rt.block_on(load.run("paced", Some(interval)))?;
    let (p50, p99) = percentiles(latencies);
    figures.push("paced_ops_per_s", format!("{TARGET_OPS_PER_S:.0}"));
    figures.push("push_p50_ms", format!("{p50:.1}"));
    figures.push("push_p99_ms", format!("{p99:.1}"));

    // The web store pulls every change, 5,000 a page (from each hub in turn).
    let started = Instant::now();
    let pulled = rt.block_on(async {
        let mut cursor = String::new();
        let mut count = 0;
        for page in 0.. {
            let page: WishlistPage = http
                .get(format!("{}/v1/webstore/wishlist/changes", urls[page % urls.len()]))
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
                break;
            }
        }
        anyhow::Ok(count)
    })?;
    figures.push("pull_changes", pulled);
    figures.push(
        "pull_changes_per_s",
        format!("{:.0}", pulled as f64 / started.elapsed().as_secs_f64()),
    );

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
    figures.push("drain_10k_s", format!("{:.2}", started.elapsed().as_secs_f64()));

    // The same kiosk pulls the whole catalog into its empty database.
    let started = Instant::now();
    let changes = rt.block_on(syncer.pull_catalog()).context("catalog pull")?;
    figures.push("catalog_changes", changes);
    figures.push("catalog_pull_s", format!("{:.1}", started.elapsed().as_secs_f64()));
    drop(running);
    Ok(figures)
}
