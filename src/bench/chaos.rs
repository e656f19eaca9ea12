//! `vitrine bench chaos`: a seeded, Jepsen-style run. A real hub, several kiosk
//! databases each behind a fault proxy, the web store's own stream and a web store that
//! follows the snapshot then the changes feed. Random visits, sign-ins, adds and
//! removes, erasures; random faults on the way (resets, responses cut after the hub committed,
//! delays, silence); kiosks and the hub restarted. Then every fault is lifted, every
//! visit ends, every kiosk drains, and the invariants are checked:
//!
//! - `lost`: a line whose state at the hub is not what the last edit made to it (by its
//!   clock) said;
//! - `doubled`: a line the web store was handed again with a version it already had;
//! - `diverged`: a line the hub holds that no edit made, or where the web store's copy
//!   differs from the hub's;
//! - `leftover`: rows on a kiosk that still name a shopper after every visit ended.
//!
//! The same seed gives the same choices (the network's timing still varies).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use jiff::{SignedDuration, Timestamp};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::params;

use super::proxy::{Fault, Proxy};
use crate::catalog::{Catalog, FeedOptions, ProductFeed};
use crate::client::webstore::{WebStoreClient, WishlistFeed};
use crate::hub::{self, auth::Scope, store};
use crate::protocol::params::PageQuery;
use crate::protocol::{Action, MintResponse, Op, Owner, PushRequest, new_id};
use crate::sync::driver::{Step, Syncer};
use crate::sync::engine::Policy;
use crate::sync::outbox;

/// How long and how wide a run is.
#[derive(Debug, Clone)]
pub struct Options {
    pub seed: u64,
    /// Stop after this many steps…
    pub steps: Option<usize>,
    /// …or after this long.
    pub duration: Option<Duration>,
    pub kiosks: usize,
}

/// What a run did and what it found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub steps: usize,
    /// Edits made (kiosks' and the web store's).
    pub ops: usize,
    pub faults: usize,
    pub kiosk_restarts: usize,
    pub hub_restarts: usize,
    pub erasures: usize,
    pub lost: usize,
    pub doubled: usize,
    pub diverged: usize,
    pub leftover: usize,
    /// Lines whose last edits share a clock and disagree: not judged.
    pub ties: usize,
}

impl Report {
    pub fn lines(&self) -> Vec<String> {
        vec![
            format!("steps={}", self.steps),
            format!("ops={}", self.ops),
            format!("faults={}", self.faults),
            format!("kiosk_restarts={}", self.kiosk_restarts),
            format!("erasures={}", self.erasures),
            format!("hub_restarts={}", self.hub_restarts),
            format!(
                "lost={} doubled={} diverged={} leftover={}",
                self.lost, self.doubled, self.diverged, self.leftover
            ),
            format!("ties={}", self.ties),
        ]
    }

    /// Whether every invariant held.
    pub fn clean(&self) -> bool {
        self.lost == 0 && self.doubled == 0 && self.diverged == 0 && self.leftover == 0
    }
}

/// A line as the hub files it: `("customer", reference)` or `("visit", id)`, and a SKU.
type Key = (String, String, String);

const CUSTOMERS: usize = 20;
const SKUS: usize = 12;

/// A kiosk of the run: its database, the proxy in front of its hub, its sender.
struct Tablet {
    db: PathBuf,
    proxy: Proxy,
    /// What the proxy does now.
    fault: Fault,
    local: Catalog,
    syncer: Syncer,
    visit: Option<(String, Option<String>)>,
}

struct Run {
    rng: StdRng,
    data: PathBuf,
    /// `None` only while it restarts.
    hub: Option<hub::Running>,
    key: String,
    rt: tokio::runtime::Runtime,
    tablets: Vec<Tablet>,
    skus: Vec<String>,
    /// Alias to customer, as the web store minted them.
    aliases: HashMap<String, String>,
    /// Customers the web store erased: nothing of theirs may remain anywhere.
    erased: HashSet<String>,
    /// Each customer slot's current customer (`c{slot}.{generation}`).
    generations: [u32; CUSTOMERS],
    /// Every edit made, with its clock.
    edits: Vec<(Key, bool, u64)>,
    web_seq: u64,
    web_hlc: u64,
    follower: Follower,
    report: Report,
}

fn policy() -> Policy {
    Policy {
        base: SignedDuration::from_millis(5),
        cap: SignedDuration::from_millis(40),
        retry_after_cap: SignedDuration::from_millis(40),
        batch: 20,
        timeout: SignedDuration::from_millis(500),
    }
}

/// Runs the chaos in `dir` and checks the invariants.
pub fn run(dir: &Path, options: &Options) -> anyhow::Result<Report> {
    let mut run = Run::start(dir, options)?;
    let started = Instant::now();
    loop {
        let done_steps = options.steps.is_some_and(|n| run.report.steps >= n);
        let done_time = options.duration.is_some_and(|d| started.elapsed() >= d);
        if done_steps || done_time || (options.steps.is_none() && options.duration.is_none()) {
            break;
        }
        run.step()?;
        run.report.steps += 1;
    }
    run.settle()?;
    run.check()
}

impl Run {
    fn start(dir: &Path, options: &Options) -> anyhow::Result<Run> {
        let data = dir.join("hub");
        let conn = hub::open_db(&data)?;
        let generated = super::catalog::generate(SKUS / 4, 4);
        Catalog::with_connection(hub::open_db(&data)?, true).import(
            Some(&ProductFeed::parse(generated.tsv.as_bytes(), &FeedOptions::lang("fr"))?),
            None,
            Timestamp::now(),
        )?;
        let key = store::create_key(&conn, "chaos", &Scope::ALL, Timestamp::now())?;
        let hub = hub::spawn(&data)?;
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let mut tablets = Vec::new();
        for k in 0..options.kiosks.max(1) {
            let db = dir.join(format!("kiosk-{k}")).join(crate::db::KIOSK_DB);
            std::fs::create_dir_all(db.parent().context("a kiosk directory")?)?;
            let proxy = Proxy::start(hub.addr)?;
            proxy.set_delay(Duration::from_millis(300));
            let code = store::create_enroll_code(&conn, super::catalog::STORES[0], Timestamp::now())?;
            rt.block_on(crate::sync::driver::enroll(&db, &proxy.url(), &code, None))?;
            let syncer = Syncer::open(&db, policy())?;
            rt.block_on(syncer.pull_catalog())?;
            tablets.push(Tablet {
                local: Catalog::open(&db)?,
                db,
                proxy,
                fault: Fault::None,
                syncer,
                visit: None,
            });
        }
        Ok(Run {
            rng: StdRng::seed_from_u64(options.seed),
            data,
            hub: Some(hub),
            key,
            rt,
            tablets,
            skus: generated.skus.into_iter().take(SKUS).collect(),
            aliases: HashMap::new(),
            erased: HashSet::new(),
            generations: [0; CUSTOMERS],
            edits: Vec::new(),
            web_seq: 0,
            web_hlc: 0,
            follower: Follower::default(),
            report: Report::default(),
        })
    }

    fn hub_url(&self) -> anyhow::Result<String> {
        Ok(self.hub.as_ref().context("the hub is restarting")?.url())
    }

    fn web(&self) -> anyhow::Result<WebStoreClient> {
        WebStoreClient::new(&self.hub_url()?, &self.key)
    }

    /// One random step.
    fn step(&mut self) -> anyhow::Result<()> {
        let k = self.rng.random_range(0..self.tablets.len());
        match self.rng.random_range(0..100) {
            0..35 => self.kiosk_edit(k)?,
            35..42 => self.end_visit(k)?,
            42..45 => self.web_edit()?,
            45..47 => self.erase()?,
            47..72 => {
                let _ = self.rt.block_on(self.tablets[k].syncer.push_step())?;
            }
            72..80 => {
                let fault = match self.rng.random_range(0..10) {
                    0..4 => Fault::None,
                    4..6 => Fault::Reset,
                    6..8 => Fault::Truncate,
                    8 => Fault::Delay,
                    _ => Fault::Blackhole,
                };
                self.tablets[k].proxy.set(fault);
                self.tablets[k].fault = fault;
                self.report.faults += usize::from(fault != Fault::None);
            }
            80..84 => {
                // Half the time a clean restart, half a crash in the middle of a visit:
                // at the next start the kiosk clears what the visit left.
                let crashed = self.rng.random_bool(0.5);
                let tablet = &mut self.tablets[k];
                if crashed {
                    tablet.visit = None;
                    outbox::end_leftover_visits(tablet.local.connection())?;
                }
                tablet.syncer = Syncer::open(&tablet.db, policy())?;
                self.report.kiosk_restarts += 1;
            }
            84..86 => self.restart_hub()?,
            86..94 => {
                self.follow_one_page()?;
            }
            // A pull through a broken network fails and the next one catches up; into
            // silence it waits out the client's minute, which a run cannot afford.
            _ if self.tablets[k].fault == Fault::Blackhole => {}
            _ => {
                let _ = self.rt.block_on(self.tablets[k].syncer.pull_catalog());
            }
        }
        Ok(())
    }

    /// Stops the hub (it finishes what is in flight), then starts it again on the same
    /// data, on another port the proxies now lead to.
    fn restart_hub(&mut self) -> anyhow::Result<()> {
        drop(self.hub.take());
        let hub = hub::spawn(&self.data)?;
        for tablet in &self.tablets {
            tablet.proxy.set_upstream(hub.addr);
        }
        self.hub = Some(hub);
        self.report.hub_restarts += 1;
        Ok(())
    }

    fn mint(&self, customer: &str) -> anyhow::Result<MintResponse> {
        let url = format!("{}/v1/webstore/tokens", self.hub_url()?);
        self.rt.block_on(async {
            let response = reqwest::Client::new()
                .post(url)
                .bearer_auth(&self.key)
                .json(&serde_json::json!({ "customer": customer }))
                .send()
                .await?;
            crate::net::read_answer(response).await
        })
    }

    /// A tap on a heart at kiosk `k`, in its visit (started, and maybe signed in, first).
    fn kiosk_edit(&mut self, k: usize) -> anyhow::Result<()> {
        let from = self.next_seq(k)?;
        let now = Timestamp::now();
        if self.tablets[k].visit.is_none() {
            self.tablets[k].visit = Some((new_id(), None));
        }
        let signs_in = self.tablets[k].visit.as_ref().is_some_and(|v| v.1.is_none()) && self.rng.random_bool(0.2);
        if signs_in {
            let customer = self.customer();
            let minted = self.mint(&customer)?;
            self.aliases.insert(minted.customer_alias.clone(), customer);
            let tablet = &mut self.tablets[k];
            let visit = tablet.visit.as_mut().context("a visit")?;
            let alias = Owner::Alias(minted.customer_alias.clone());
            outbox::sign_in(tablet.local.connection(), now, &visit.0, &alias, &minted.token)?;
            visit.1 = Some(minted.customer_alias);
        }
        let sku = self.skus[self.rng.random_range(0..self.skus.len())].clone();
        let tablet = &mut self.tablets[k];
        let (visit, alias) = tablet.visit.clone().context("a visit")?;
        let owner = alias.map_or_else(|| Owner::Visit(visit.clone()), Owner::Alias);
        let present = outbox::wishlist(tablet.local.connection(), &owner)?
            .iter()
            .any(|l| l.sku == sku);
        let action = if present { Action::Remove } else { Action::Add };
        outbox::edit(tablet.local.connection(), now, &owner, &sku, action, Some(&visit))?;
        self.read_outbox(k, from)
    }

    /// The sequence number kiosk `k`'s next op will get.
    fn next_seq(&mut self, k: usize) -> anyhow::Result<u64> {
        let conn = self.tablets[k].local.connection();
        Ok(conn.query_row("SELECT next_seq FROM sync_state WHERE id = 1", [], |r| r.get(0))?)
    }

    /// Records the edits kiosk `k` queued from sequence number `from` on (its local
    /// actions, which renumber nothing).
    fn read_outbox(&mut self, k: usize, from: u64) -> anyhow::Result<()> {
        let rows: Vec<(String, String, String, String, u64)> = self.tablets[k]
            .local
            .connection()
            .prepare(
                "SELECT owner_kind, owner, sku, action, hlc FROM outbox
                 WHERE stream = (SELECT stream FROM sync_state WHERE id = 1) AND seq >= ?1 ORDER BY seq",
            )?
            .query_map([from], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (kind, owner, sku, action, hlc) in rows {
            if action == "sign_in" || owner.is_empty() {
                continue;
            }
            let key = match kind.as_str() {
                "alias" => (
                    "customer".to_owned(),
                    self.aliases.get(&owner).cloned().unwrap_or(owner),
                    sku,
                ),
                _ => (kind, owner, sku),
            };
            self.edits.push((key, action == "add", hlc));
            self.report.ops += 1;
        }
        Ok(())
    }

    fn end_visit(&mut self, k: usize) -> anyhow::Result<()> {
        let tablet = &mut self.tablets[k];
        if let Some((visit, alias)) = tablet.visit.take() {
            let customer = alias.map(Owner::Alias);
            outbox::end_visit(tablet.local.connection(), &visit, customer.as_ref())?;
        }
        Ok(())
    }

    /// A customer at random. An erased one's place goes to a new customer, so a long
    /// run keeps signing people in.
    fn customer(&mut self) -> String {
        let slot = self.rng.random_range(0..CUSTOMERS);
        format!("c{slot}.{}", self.generations[slot])
    }

    /// The web store erases a customer: the hub forgets them, the web store's copy
    /// drops them, and kiosks learn it with their next pull.
    fn erase(&mut self) -> anyhow::Result<()> {
        let customer = self.customer();
        let url = format!("{}/v1/webstore/customers/{customer}", self.hub_url()?);
        self.rt.block_on(async {
            let response = reqwest::Client::new().delete(url).bearer_auth(&self.key).send().await?;
            crate::net::read_answer::<serde_json::Value>(response).await
        })?;
        self.follower
            .state
            .retain(|(kind, owner, _), _| kind != "customer" || *owner != customer);
        if let Some(slot) = customer[1..].split('.').next().and_then(|n| n.parse::<usize>().ok()) {
            self.generations[slot] += 1;
        }
        self.erased.insert(customer);
        self.report.erasures += 1;
        Ok(())
    }

    /// An edit on the web store's own stream, straight to the hub.
    fn web_edit(&mut self) -> anyhow::Result<()> {
        let customer = self.customer();
        let sku = self.skus[self.rng.random_range(0..self.skus.len())].clone();
        let present = self.rng.random_bool(0.6);
        self.web_seq += 1;
        self.web_hlc = crate::hlc::tick(self.web_hlc, Timestamp::now());
        let request = PushRequest {
            stream: "chaos-web".to_owned(),
            ops: vec![Op {
                seq: self.web_seq,
                hlc: self.web_hlc,
                owner: Owner::Customer(customer.clone()),
                sku: sku.clone(),
                action: if present { Action::Add } else { Action::Remove },
                session: None,
                token: None,
            }],
        };
        let answer = self.rt.block_on(self.web()?.push(&request))?;
        anyhow::ensure!(answer.acked_seq == self.web_seq, "the web store's op was not taken");
        self.edits
            .push((("customer".to_owned(), customer, sku), present, self.web_hlc));
        self.report.ops += 1;
        Ok(())
    }

    fn follow_one_page(&mut self) -> anyhow::Result<bool> {
        let client = self.web()?;
        self.rt.block_on(self.follower.page(&client))
    }

    /// Lifts every fault, ends every visit, drains every kiosk, and follows the web
    /// store's feed to its end.
    fn settle(&mut self) -> anyhow::Result<()> {
        for k in 0..self.tablets.len() {
            self.tablets[k].proxy.set(Fault::None);
            self.end_visit(k)?;
        }
        let deadline = Instant::now() + Duration::from_secs(120);
        for tablet in &self.tablets {
            loop {
                anyhow::ensure!(Instant::now() < deadline, "the kiosks did not drain in two minutes");
                match self.rt.block_on(tablet.syncer.push_step())? {
                    Step::Idle => break,
                    Step::Waiting(_) => std::thread::sleep(Duration::from_millis(20)),
                    Step::Sent { .. } => {}
                }
            }
            self.rt.block_on(tablet.syncer.pull_catalog())?;
        }
        while self.follow_one_page()? {}
        Ok(())
    }

    fn check(mut self) -> anyhow::Result<Report> {
        // What the last edit of each line said, by clock.
        let mut expected: BTreeMap<Key, (u64, Option<bool>)> = BTreeMap::new();
        let erased = |key: &Key| key.0 == "customer" && self.erased.contains(&key.1);
        for (key, present, hlc) in self.edits.iter().filter(|(key, ..)| !erased(key)) {
            let entry = expected.entry(key.clone()).or_insert((*hlc, Some(*present)));
            if *hlc > entry.0 {
                *entry = (*hlc, Some(*present));
            } else if *hlc == entry.0 && entry.1 != Some(*present) {
                entry.1 = None;
            }
        }
        let conn = hub::open_db(&self.data)?;
        let at_hub: BTreeMap<Key, (u64, bool)> = conn
            .prepare("SELECT owner_kind, owner, sku, hlc, present FROM wishlist")?
            .query_map([], |r| Ok(((r.get(0)?, r.get(1)?, r.get(2)?), (r.get(3)?, r.get(4)?))))?
            .collect::<rusqlite::Result<_>>()?;
        let report = &mut self.report;
        for (key, (hlc, present)) in &expected {
            match (present, at_hub.get(key)) {
                (None, _) => report.ties += 1,
                (Some(present), Some(line)) if *line == (*hlc, *present) => {}
                _ => report.lost += 1,
            }
        }
        // A line no edit made, or an erased customer's.
        report.diverged += at_hub.keys().filter(|k| !expected.contains_key(*k)).count();
        // The web store holds the present lines (a snapshot leaves out what was removed
        // before it began).
        let present = |lines: &BTreeMap<Key, (u64, bool)>| -> std::collections::BTreeSet<Key> {
            lines.iter().filter(|(_, (_, p))| *p).map(|(k, _)| k.clone()).collect()
        };
        let (hub_present, followed) = (present(&at_hub), present(&self.follower.state));
        report.diverged += hub_present.symmetric_difference(&followed).count();

        report.doubled = self.follower.doubled;
        for tablet in &mut self.tablets {
            report.leftover += tablet.local.connection().query_row(
                "SELECT (SELECT COUNT(*) FROM wishlist) + (SELECT COUNT(*) FROM signed_in)
                      + (SELECT COUNT(*) FROM outbox WHERE owner != '' OR token IS NOT NULL)",
                params![],
                |r| r.get::<_, i64>(0),
            )? as usize;
        }
        Ok(self.report)
    }
}

/// The web store: a snapshot first, then the changes feed, one page at a time.
#[derive(Default)]
struct Follower {
    state: BTreeMap<Key, (u64, bool)>,
    cursor: String,
    in_changes: bool,
    doubled: usize,
}

impl Follower {
    /// Reads one page; whether more follow (a snapshot's last page is followed by the
    /// changes feed).
    async fn page(&mut self, client: &WebStoreClient) -> anyhow::Result<bool> {
        let feed = if self.in_changes {
            WishlistFeed::Changes
        } else {
            WishlistFeed::Snapshot
        };
        let query = PageQuery {
            cursor: Some(self.cursor.clone()).filter(|c| !c.is_empty()),
            limit: Some(7),
        };
        let page = client.wishlist(feed, &query).await?;
        for line in page.changes {
            let (kind, owner) = line.owner.parts();
            let key = (kind.to_owned(), owner.to_owned(), line.sku);
            let version = (line.hlc, line.present);
            if self.state.insert(key, version) == Some(version) {
                self.doubled += 1;
            }
        }
        self.cursor = page.next_cursor;
        let handed_over = !self.in_changes && !page.has_more;
        self.in_changes |= handed_over;
        Ok(page.has_more || handed_over)
    }
}
