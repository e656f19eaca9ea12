//! `vitrine bench sync`: the hub and the sync engine under load, over real HTTP on
//! loopback, with the hub's state on disk: its SQLite file, or with `--database` side by
//! side on SQLite, on PostgreSQL with one hub and on PostgreSQL with two.
//!
//! - `ingest_ops_per_s`, `push_saturated_p50_ms`, `push_saturated_p99_ms`: 100 kiosks
//!   push batches at once (with two hubs, every other kiosk through each), the median of
//!   [`ROUNDS`] rounds taken in turn with the other setups;
//! - `push_p50_ms`, `push_p99_ms`: the same kiosks at 5,000 ops/s in all;
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

/// Saturated ingest runs per setup, taken in turn (SQLite, PostgreSQL, two hubs on
/// PostgreSQL, and again), so that a noisy moment of the machine falls on all of them:
/// rates are the rounds' medians, ratios the medians of each round's ratio.
const ROUNDS: usize = 5;

/// Runs every measurement and returns the `name=value` lines.
pub fn run(dir: &Path, options: &Options) -> anyhow::Result<Vec<String>> {
    let mut lines = vec![
        format!("kiosks={}", options.kiosks),
        format!("batch_ops={}", options.batch_ops),
        format!("rounds={ROUNDS}"),
    ];
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    // The first hub's data directory, where `Rig::start` starts it.
    let sqlite = |dir: &Path| Place::File(hub::db_path(&dir.join("hub0")));
    let Some(database) = &options.database else {
        let rig = Rig::start(dir, &sqlite(dir), 1, options)?;
        let mut figures = rig.figures.clone();
        saturate(&rt, &[&rig], options, &mut [&mut figures])?;
        rig.measure_the_rest(&rt, dir, options, &mut figures)?;
        lines.extend(figures.lines(""));
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
    let scratch = [Scratch::create(&server, 1)?, Scratch::create(&server, 2)?];
    let places = [
        sqlite(&dir.join("sqlite")),
        Place::Postgres(Box::new(scratch[0].config.clone())),
        Place::Postgres(Box::new(scratch[1].config.clone())),
    ];
    let prefixes = ["sqlite_", "pg_", "pg2_"];
    let dirs = ["sqlite", "pg1", "pg2"].map(|name| dir.join(name));
    let rigs = [
        Rig::start(&dirs[0], &places[0], 1, options)?,
        Rig::start(&dirs[1], &places[1], 1, options)?,
        Rig::start(&dirs[2], &places[2], 2, options)?,
    ];
    let mut figures: Vec<Figures> = rigs.iter().map(|rig| rig.figures.clone()).collect();
    let rates = {
        let [a, b, c] = &mut figures[..] else {
            unreachable!("three setups")
        };
        saturate(&rt, &[&rigs[0], &rigs[1], &rigs[2]], options, &mut [a, b, c])?
    };
    for ((rig, dir), figures) in rigs.iter().zip(&dirs).zip(&mut figures) {
        rig.measure_the_rest(&rt, dir, options, figures)?;
    }
    for (prefix, figures) in prefixes.iter().zip(&figures) {
        lines.extend(figures.lines(prefix));
    }
    // Each round's ratio: their median, and their spread (how far the machine's noise
    // moves one round).
    for (name, over, under) in [("pg_ingest_vs_sqlite", 1, 0), ("pg2_ingest_vs_pg", 2, 1)] {
        let each: Vec<f64> = (0..ROUNDS).map(|r| rates[over][r] / rates[under][r]).collect();
        let (low, high) = each
            .iter()
            .fold((f64::MAX, f64::MIN), |(l, h), v| (l.min(*v), h.max(*v)));
        lines.push(format!("{name}={:.2}", percentiles(each).0));
        lines.push(format!("{name}_min={low:.2}"));
        lines.push(format!("{name}_max={high:.2}"));
    }
    // What an op costs the machine (its cores busy for the whole saturated run), from
    // which a chain's needs are estimated (README, "bench sync").
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    for (prefix, figures) in prefixes.iter().zip(&figures) {
        let ingest = figures.get("ingest_ops_per_s");
        lines.push(format!("{prefix}core_ms_per_op={:.3}", cores * 1e3 / ingest));
    }
    // The hubs first: a scratch database is dropped with its connections forced out,
    // which a running hub would see as the database going away.
    drop(rigs);
    drop(scratch);
    Ok(lines)
}

/// The saturated ingest, [`ROUNDS`] times on each rig in turn: each rig's median rate and
/// its pushes' latencies go to its figures; returns each rig's rate per round.
fn saturate(
    rt: &tokio::runtime::Runtime,
    rigs: &[&Rig],
    options: &Options,
    figures: &mut [&mut Figures],
) -> anyhow::Result<Vec<Vec<f64>>> {
    let mut rates = vec![Vec::new(); rigs.len()];
    let mut latencies = vec![Vec::new(); rigs.len()];
    let total = options.kiosks * options.batches * options.batch_ops;
    for round in 0..ROUNDS {
        for (n, rig) in rigs.iter().enumerate() {
            let started = Instant::now();
            latencies[n].extend(rt.block_on(rig.load(options).run(&format!("saturated{round}"), None))?);
            rates[n].push(total as f64 / started.elapsed().as_secs_f64());
        }
    }
    for ((figures, rates), latencies) in figures.iter_mut().zip(&rates).zip(latencies) {
        let (p50, p99) = percentiles(latencies);
        figures.push("ingest_ops", total);
        figures.push("ingest_ops_per_s", format!("{:.0}", percentiles(rates.clone()).0));
        figures.push("push_saturated_p50_ms", format!("{p50:.1}"));
        figures.push("push_saturated_p99_ms", format!("{p99:.1}"));
    }
    Ok(rates)
}

/// A database of the bench's own on the PostgreSQL server, dropped when done.
struct Scratch {
    server: crate::db::pg::Target,
    name: String,
    config: crate::db::pg::Target,
}

impl Scratch {
    fn create(server: &crate::db::pg::Target, n: usize) -> anyhow::Result<Scratch> {
        let name = format!("vitrine_bench_{}_{n}", std::process::id());
        let mut client = server.connect_raw().context("cannot reach the PostgreSQL server")?;
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
        if let Ok(mut client) = self.server.connect_raw() {
            let _ = client.batch_execute(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name));
        }
    }
}

/// One setup's figures, by name, in the order measured.
#[derive(Clone)]
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

/// Hubs keeping their state at one place, with the generated catalog imported and the
/// kiosks enrolled.
struct Rig {
    /// The hubs, kept running while the rig lives.
    _running: Vec<hub::Running>,
    conn: crate::db::Conn,
    key: String,
    tokens: Vec<String>,
    skus: Arc<Vec<String>>,
    urls: Vec<String>,
    http: reqwest::Client,
    /// What was measured while setting up (the import).
    figures: Figures,
}

impl Rig {
    /// Starts `hubs` hubs keeping their state at `place`.
    fn start(dir: &Path, place: &Place, hubs: usize, options: &Options) -> anyhow::Result<Rig> {
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
        let tokens: Vec<String> = (0..options.kiosks)
            .map(|i| {
                let store_code = super::catalog::STORES[i % super::catalog::STORES.len()];
                let code = store::create_enroll_code(&conn, store_code, Timestamp::now())?;
                let enrolled =
                    store::enroll(&conn, &code, None, None, Timestamp::now())?.map_err(anyhow::Error::msg)?;
                Ok(enrolled.token)
            })
            .collect::<anyhow::Result<_>>()?;
        let urls = running.iter().map(hub::Running::url).collect();
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(options.kiosks)
            .build()?;
        Ok(Rig {
            _running: running,
            conn,
            key,
            tokens,
            skus: Arc::new(generated.skus),
            urls,
            http,
            figures,
        })
    }

    fn load<'a>(&'a self, options: &'a Options) -> Load<'a> {
        Load {
            http: &self.http,
            urls: &self.urls,
            tokens: &self.tokens,
            skus: &self.skus,
            options,
        }
    }

    /// Everything but the saturated ingest, into `figures`.
    fn measure_the_rest(
        &self,
        rt: &tokio::runtime::Runtime,
        dir: &Path,
        options: &Options,
        figures: &mut Figures,
    ) -> anyhow::Result<()> {
        let (conn, key, skus, urls, http) = (&self.conn, &self.key, &self.skus, &self.urls, &self.http);
        let url = urls[0].clone();
        let load = self.load(options);
        // Push latency at the target rate of 5,000 ops/s, spread over the kiosks as a shop's
        // traffic is (each kiosk on its own clock), not at saturation.
        let interval =
            std::time::Duration::from_secs_f64((options.kiosks * options.batch_ops) as f64 / TARGET_OPS_PER_S);
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
                    .bearer_auth(key)
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
            &store::create_enroll_code(conn, super::catalog::STORES[0], Timestamp::now())?,
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
        Ok(())
    }
}
