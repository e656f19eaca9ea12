//! Wishlist sync end to end: kiosks, a real hub, the web store's view. Nothing lost,
//! nothing doubled, whatever the network does.

use std::sync::atomic::Ordering;

use reqwest::Method;
use serde_json::json;
use vitrine::protocol::{Action, OpStatus, Owner, PushResponse};
use vitrine::sync::driver::Step;
use vitrine::sync::outbox::Edited;

use crate::world::{World, quick_policy};
use vitrine::bench::proxy::{Fault, Proxy};

#[test]
fn kiosk_edits_reach_the_web_store_once_with_their_origin() {
    let world = World::new();
    let kiosk = world.kiosk("tablet-1");
    let skus = world.skus(3);
    // Seq 1 is the customer's sign-in, with their token.
    assert!(matches!(
        kiosk.edit("c-1", &skus[0], Action::Add),
        Edited::Queued { seq: 2 }
    ));
    assert_eq!(kiosk.edit("c-1", &skus[0], Action::Add), Edited::Unchanged);
    kiosk.edit("c-1", &skus[1], Action::Add);
    kiosk.edit("c-1", &skus[0], Action::Remove);
    assert_eq!(kiosk.status().pending, 4);

    let syncer = kiosk.syncer(quick_policy());
    assert_eq!(world.rt.block_on(syncer.drain()).unwrap(), Step::Idle);
    let status = kiosk.status();
    assert_eq!((status.pending, status.rejected), (0, 0));
    assert!(status.last_push.is_some());

    let (lines, _) = world.pull_all(100);
    assert_eq!(lines.len(), 2, "{lines:?}");
    let removed = lines.iter().find(|l| l.sku == skus[0]).unwrap();
    let kept = lines.iter().find(|l| l.sku == skus[1]).unwrap();
    assert!(!removed.present && kept.present);
    for line in &lines {
        assert_eq!(line.owner, Owner::Customer("c-1".into()));
        assert_eq!(line.origin.channel, "kiosk");
        assert_eq!(line.origin.store_code.as_deref(), Some(vitrine::demo::HOME_STORE));
        assert_eq!(line.origin.device_id, Some(1));
        assert_eq!(line.origin.session.as_deref(), Some("visit-c-1"));
    }
    // The customer's list as the web store and the kiosk read it.
    let (status, body) = world.request(
        Method::GET,
        &format!("{}/v1/webstore/customers/c-1/wishlist", world.hub.url()),
        Some(&world.key),
        None,
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    assert_eq!(body["items"][0]["sku"], skus[1].as_str());
}

fn push(world: &World, token: &str, stream: &str, ops: serde_json::Value) -> (u16, serde_json::Value) {
    world.json(
        Method::POST,
        "/v1/kiosk/ops",
        Some(token),
        &json!({ "stream": stream, "ops": ops }),
    )
}

fn device_token(kiosk: &crate::world::Kiosk) -> String {
    let mut catalog = vitrine::catalog::Catalog::open(&kiosk.db).unwrap();
    vitrine::sync::outbox::device(catalog.connection())
        .unwrap()
        .unwrap()
        .token
}

fn op(seq: u64, sku: &str, action: &str) -> serde_json::Value {
    json!({ "seq": seq, "hlc": 1000 + seq, "owner": { "visit": "v-9" }, "sku": sku, "action": action, "session": "v-9" })
}

#[test]
fn a_batch_is_stored_once_and_conflicts_are_precise() {
    let world = World::new();
    let token = device_token(&world.kiosk("tablet"));
    let skus = world.skus(3);
    let batch = json!([op(1, &skus[0], "add"), op(2, &skus[1], "add")]);

    let (status, first) = push(&world, &token, "s-1", batch.clone());
    assert_eq!(status, 200, "{first}");
    let (status, again) = push(&world, &token, "s-1", batch);
    assert_eq!(status, 200);
    let again: PushResponse = serde_json::from_value(again).unwrap();
    assert_eq!(again.acked_seq, 2);
    assert!(again.results.iter().all(|r| r.status == OpStatus::Duplicate));
    assert_eq!(world.pull_all(10).0.len(), 2);

    // Same seq, other content: diverged, nothing stored.
    let (status, body) = push(&world, &token, "s-1", json!([op(2, &skus[2], "add")]));
    assert_eq!(
        (status, body["code"].as_str(), body["seq"].as_u64()),
        (409, Some("seq_diverged"), Some(2))
    );
    // A gap: the hub says which seq it expects, and stores nothing of the batch.
    let (status, body) = push(
        &world,
        &token,
        "s-1",
        json!([op(3, &skus[2], "add"), op(5, &skus[2], "remove")]),
    );
    assert_eq!(
        (status, body["code"].as_str(), body["expected_seq"].as_u64()),
        (409, Some("seq_gap"), Some(4))
    );
    assert_eq!(
        world.pull_all(10).0.len(),
        2,
        "the first op of a refused batch was not kept"
    );
    // Recovery: resend from the expected seq.
    let (status, body) = push(
        &world,
        &token,
        "s-1",
        json!([op(3, &skus[2], "add"), op(4, &skus[2], "remove")]),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["acked_seq"], 4);
}

#[test]
fn concurrent_duplicate_pushes_have_one_effect() {
    let world = World::new();
    let token = device_token(&world.kiosk("tablet"));
    let skus = world.skus(20);
    let ops: Vec<_> = skus
        .iter()
        .enumerate()
        .map(|(i, s)| op(i as u64 + 1, s, "add"))
        .collect();
    let body = serde_json::to_vec(&json!({ "stream": "s-dup", "ops": ops })).unwrap();
    let url = format!("{}/v1/kiosk/ops", world.hub.url());
    let responses: Vec<PushResponse> = world.rt.block_on(async {
        let sends: Vec<_> = (0..8)
            .map(|_| {
                let request = world
                    .http
                    .post(&url)
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(body.clone());
                tokio::spawn(async move { request.send().await.unwrap().json::<PushResponse>().await.unwrap() })
            })
            .collect();
        let mut out = Vec::new();
        for send in sends {
            out.push(send.await.unwrap());
        }
        out
    });
    let applied: usize = responses
        .iter()
        .flat_map(|r| &r.results)
        .filter(|r| r.status == OpStatus::Applied)
        .count();
    assert_eq!(applied, 20, "each op applied by exactly one of the pushes");
    assert_eq!(world.pull_all(100).0.len(), 20);
}

#[test]
fn unknown_skus_and_erased_customers_are_rejected_and_the_queue_moves_on() {
    let world = World::new();
    let kiosk = world.kiosk("tablet");
    let skus = world.skus(2);
    kiosk.edit("c-1", "NO-SUCH-SKU", Action::Add);
    kiosk.edit("c-1", &skus[0], Action::Add);
    kiosk.edit("c-gone", &skus[0], Action::Add);
    let syncer = kiosk.syncer(quick_policy());
    world.rt.block_on(syncer.drain()).unwrap();
    assert_eq!((kiosk.status().pending, kiosk.status().rejected), (0, 1));

    let (status, body) = world.json(
        Method::DELETE,
        "/v1/webstore/customers/c-gone",
        Some(&world.key),
        &json!(null),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["removed_lines"], 1);
    kiosk.edit("c-gone", &skus[1], Action::Add);
    world.rt.block_on(syncer.drain()).unwrap();
    let status = kiosk.status();
    assert_eq!((status.pending, status.rejected), (0, 2));
    let conn = rusqlite::Connection::open(&kiosk.db).unwrap();
    let reasons: Vec<String> = conn
        .prepare("SELECT reason FROM outbox WHERE state = 'rejected' ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(reasons, ["unknown_sku", "customer_erased"]);
    let state = world.hub_state();
    assert_eq!(state.len(), 1, "only c-1's line remains: {state:?}");
}

#[test]
fn faults_lose_nothing_double_nothing_and_back_off() {
    let world = World::new();
    let proxy = Proxy::start(world.hub.addr).unwrap();
    let kiosk = world.kiosk_at("tablet", vitrine::demo::HOME_STORE, &proxy.url());
    let syncer = kiosk.syncer(quick_policy());
    let skus = world.skus(12);
    let mut n = 0;
    for fault in [Fault::Reset, Fault::Truncate, Fault::Delay, Fault::Blackhole] {
        proxy.set(fault);
        for _ in 0..3 {
            kiosk.edit(
                "c-net",
                &skus[n % skus.len()],
                if n < skus.len() { Action::Add } else { Action::Remove },
            );
            n += 1;
        }
        let mut waits = Vec::new();
        for _ in 0..2 {
            let step = world.rt.block_on(syncer.push_step()).unwrap();
            assert!(matches!(step, Step::Sent { .. }), "{fault:?}: {step:?}");
            let status = kiosk.status();
            assert!(status.pending > 0, "{fault:?}: nothing may be dropped");
            waits.push(status.retry_at.unwrap());
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert!(kiosk.status().last_error.is_some(), "{fault:?}");
        assert!(waits[1] > waits[0], "{fault:?}: backoff moves on");
        proxy.set(Fault::None);
        std::thread::sleep(std::time::Duration::from_millis(60));
        world.rt.block_on(syncer.drain()).unwrap();
        assert_eq!(kiosk.status().pending, 0, "{fault:?}");
    }
    // A delayed request may land after the kiosk gave up: it is a duplicate, never a double.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert_eq!(world.hub_state(), kiosk.local_state());
    let conn = crate::world::hub_conn(&world.hub_data());
    let applied: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM op WHERE status = 'applied'",
            vitrine::db::params![],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(applied, n as i64 + 1, "each op (and the sign-in) applied exactly once");
}

#[test]
fn a_response_lost_after_commit_is_resent_and_recognised() {
    let world = World::new();
    let kiosk = world.kiosk("tablet");
    let syncer = kiosk.syncer(quick_policy());
    let skus = world.skus(5);
    for sku in &skus {
        kiosk.edit("c-fp", sku, Action::Add);
    }
    world.hub.hub.failpoints.fail_after_commit.store(2, Ordering::SeqCst);
    let first = world.rt.block_on(syncer.push_step()).unwrap();
    assert!(matches!(first, Step::Sent { .. }));
    assert_eq!(
        kiosk.status().pending,
        6,
        "the kiosk never saw the ack (of the sign-in and 5 lines)"
    );
    std::thread::sleep(std::time::Duration::from_millis(60));
    world.rt.block_on(async {
        loop {
            match syncer.push_step().await.unwrap() {
                Step::Idle => break,
                Step::Waiting(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
                Step::Sent { .. } => {}
            }
        }
    });
    assert_eq!(kiosk.status().pending, 0);
    assert_eq!(world.hub_state(), kiosk.local_state());
    assert_eq!(world.pull_all(100).0.len(), 5);
    assert_eq!(
        world.hub.hub.failpoints.max_pushes_in_flight.load(Ordering::SeqCst),
        1,
        "one request in flight"
    );
}

#[test]
fn a_hub_restored_from_backup_gets_back_what_it_lost() {
    let world = World::new();
    let kiosk = world.kiosk("tablet");
    let syncer = kiosk.syncer(quick_policy());
    let skus = world.skus(4);
    for sku in &skus[..3] {
        kiosk.edit("c-r", sku, Action::Add);
    }
    world.rt.block_on(syncer.drain()).unwrap();
    // The hub loses the last two ops, as if restored from an older backup.
    let conn = crate::world::hub_conn(&world.hub_data());
    conn.batch(
        "UPDATE stream SET acked_seq = 1; DELETE FROM op WHERE seq > 1;
         DELETE FROM wishlist WHERE seq > 1;",
    )
    .unwrap();
    kiosk.edit("c-r", &skus[3], Action::Add);
    let step = world.rt.block_on(syncer.push_step()).unwrap();
    assert!(
        matches!(&step, Step::Sent { outcome, .. } if outcome.contains("Gap")),
        "{step:?}"
    );
    world.rt.block_on(syncer.drain()).unwrap();
    assert_eq!(world.hub_state(), kiosk.local_state());
    assert_eq!(world.hub_state().values().filter(|p| **p).count(), 4);
}

#[test]
fn a_copied_kiosk_database_diverges_and_both_copies_keep_their_edits() {
    let world = World::new();
    let a = world.kiosk("tablet-a");
    let b_dir = world.dir.path().join("tablet-b");
    std::fs::create_dir_all(&b_dir).unwrap();
    let b = crate::world::Kiosk {
        db: b_dir.join(vitrine::db::KIOSK_DB),
        hub_url: a.hub_url.clone(),
        key: a.key.clone(),
    };
    std::fs::copy(&a.db, &b.db).unwrap();
    let skus = world.skus(2);
    a.edit("c-a", &skus[0], Action::Add);
    b.edit("c-b", &skus[1], Action::Add);
    world.rt.block_on(a.syncer(quick_policy()).drain()).unwrap();
    let b_sync = b.syncer(quick_policy());
    let step = world.rt.block_on(b_sync.push_step()).unwrap();
    assert!(
        matches!(&step, Step::Sent { outcome, .. } if outcome.contains("Diverged")),
        "{step:?}"
    );
    world.rt.block_on(b_sync.drain()).unwrap();
    assert_ne!(a.status().stream, b.status().stream);
    let state = world.hub_state();
    assert_eq!(
        state.get(&(Owner::Customer("c-a".into()), skus[0].clone())),
        Some(&true)
    );
    assert_eq!(
        state.get(&(Owner::Customer("c-b".into()), skus[1].clone())),
        Some(&true)
    );
}

#[test]
fn changes_feed_pages_end_at_every_edge() {
    let page = 4;
    for n in [0, 1, page - 1, page, page + 1] {
        let world = World::new();
        let token = device_token(&world.kiosk("tablet"));
        let skus = world.skus(n.max(1));
        if n > 0 {
            let ops: Vec<_> = skus
                .iter()
                .enumerate()
                .map(|(i, s)| op(i as u64 + 1, s, "add"))
                .collect();
            assert_eq!(push(&world, &token, "s-page", json!(ops)).0, 200);
        }
        let (lines, pages) = world.pull_all(page);
        assert_eq!(lines.len(), n, "n={n}");
        assert_eq!(
            pages,
            n.div_ceil(page).max(1),
            "n={n}: the last page says there is no more, even a full one"
        );
        let ids: std::collections::BTreeSet<_> = lines.iter().map(|l| l.sku.clone()).collect();
        assert_eq!(ids.len(), n, "no line twice");
    }
}

#[test]
fn a_snapshot_hands_over_to_the_changes_feed() {
    let world = World::new();
    let token = device_token(&world.kiosk("tablet"));
    let skus = world.skus(5);
    let ops: Vec<_> = skus
        .iter()
        .enumerate()
        .map(|(i, s)| op(i as u64 + 1, s, "add"))
        .collect();
    push(&world, &token, "s-snap", json!(ops));
    push(&world, &token, "s-snap", json!([op(6, &skus[0], "remove")]));
    let get = |path: String| {
        world.request(
            Method::GET,
            &format!("{}{path}", world.hub.url()),
            Some(&world.key),
            None,
            None,
        )
    };
    let (_, first) = get("/v1/webstore/wishlist/snapshot?limit=3".into());
    assert_eq!(first["changes"].as_array().unwrap().len(), 3);
    assert_eq!(first["has_more"], true);
    let (_, last) = get(format!(
        "/v1/webstore/wishlist/snapshot?limit=3&cursor={}",
        first["next_cursor"].as_str().unwrap()
    ));
    assert_eq!(
        last["changes"].as_array().unwrap().len(),
        1,
        "removed lines are not in a snapshot"
    );
    assert_eq!(last["has_more"], false);
    let (_, none) = get(format!(
        "/v1/webstore/wishlist/changes?cursor={}",
        last["next_cursor"].as_str().unwrap()
    ));
    assert_eq!(none["changes"].as_array().unwrap().len(), 0);
    push(&world, &token, "s-snap", json!([op(7, &skus[0], "add")]));
    let (_, after) = get(format!(
        "/v1/webstore/wishlist/changes?cursor={}",
        last["next_cursor"].as_str().unwrap()
    ));
    assert_eq!(after["changes"].as_array().unwrap().len(), 1);
}

/// SIGKILLs a kiosk process at random points while it edits and syncs. Every op it
/// reported as saved is at the hub exactly once afterwards, and the hub agrees with the
/// kiosk's own view.
#[test]
fn killed_at_random_points_nothing_saved_is_lost_or_doubled() {
    let world = World::new();
    let kiosk = world.kiosk("tablet");
    killed_at_random_points(&world, &kiosk, 200, |_| {});
}

/// The kill -9 test: `iterations` runs of `vitrine internal exercise` on `kiosk`, each
/// killed somewhere between start-up and its end (`before(i)` runs first), then a drain.
/// Nothing reported saved is lost or doubled, the hub's ops are gap-free, and the hub's
/// lines equal the kiosk's.
pub(crate) fn killed_at_random_points(
    world: &World,
    kiosk: &crate::world::Kiosk,
    iterations: usize,
    before: impl Fn(usize),
) {
    use std::io::{BufRead, BufReader};
    let skus = world.skus(6).join(",");
    let data = kiosk.db.parent().unwrap().to_owned();
    let mut reported = std::collections::BTreeSet::new();
    for i in 0..iterations {
        before(i);
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_vitrine"))
            .args(["internal", "exercise", "--customer", "c-crash", "--steps", "40"])
            .args(["--skus", &skus, "--data"])
            .arg(&data)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader =
            std::thread::spawn(move || BufReader::new(stdout).lines().map_while(Result::ok).collect::<Vec<_>>());
        // Somewhere between start-up and the end of the run.
        std::thread::sleep(std::time::Duration::from_millis(2 + (i * 7919 % 40) as u64));
        let _ = child.kill();
        let _ = child.wait();
        for line in reader.join().unwrap() {
            let seq: u64 = line.split(' ').nth(1).unwrap().parse().unwrap();
            assert!(reported.insert(seq), "seq {seq} reported twice");
        }
    }
    assert!(reported.len() > iterations, "the kiosk got work done between kills");
    let syncer = kiosk.syncer(quick_policy());
    assert_eq!(world.rt.block_on(syncer.drain()).unwrap(), Step::Idle);

    let conn = crate::world::hub_conn(&world.hub_data());
    let at_hub: Vec<u64> = conn
        .query_map(
            "SELECT seq FROM op WHERE status = 'applied' ORDER BY seq",
            vitrine::db::params![],
            |r| r.get(0),
        )
        .unwrap();
    let unique: std::collections::BTreeSet<u64> = at_hub.iter().copied().collect();
    assert_eq!(unique.len(), at_hub.len(), "no op applied twice");
    let missing: Vec<_> = reported.difference(&unique).collect();
    assert!(missing.is_empty(), "ops saved locally but lost: {missing:?}");
    // The ops the hub has that were never reported were saved just before a kill.
    assert_eq!(at_hub.len() as u64, *unique.last().unwrap(), "gap-free");
    assert_eq!(world.hub_state(), kiosk.local_state());
}

mod convergence {
    //! Several kiosks and the web store edit the same wishlists with skewed clocks;
    //! deliveries are reordered, duplicated and dropped (and retried until they get
    //! through). The hub must end equal to a reference model of last-writer-wins.

    use std::collections::BTreeMap;

    use jiff::Timestamp;
    use proptest::prelude::*;
    use vitrine::hub::store::{Principal, Store};
    use vitrine::protocol::{Action, Op, Owner, PushRequest};

    #[derive(Debug, Clone)]
    struct Edit {
        sender: usize,
        customer: u8,
        sku: u8,
        add: bool,
        /// This sender's clock skew, in milliseconds.
        skew: i64,
    }

    fn edits() -> impl Strategy<Value = Vec<Edit>> {
        prop::collection::vec(
            (0..4_usize, 0..3_u8, 0..4_u8, any::<bool>(), -5_000..5_000_i64).prop_map(
                |(sender, customer, sku, add, skew)| Edit {
                    sender,
                    customer,
                    sku,
                    add,
                    skew,
                },
            ),
            1..40,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]
        #[test]
        fn the_hub_converges_to_last_writer_wins(edits in edits(), order in prop::collection::vec(any::<u16>(), 200)) {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::open(&vitrine::hub::store::Place::File(dir.path().join("hub.sqlite")), vitrine::hub::store::Rules::default()).unwrap();
            let conn = vitrine::db::open(&dir.path().join("hub.sqlite"), vitrine::db::Schema::Hub).unwrap();
            conn.execute_batch(
                "INSERT INTO device (id, store_code, token_hash, enrolled_at) VALUES (1, 'A', x'01', 0), (2, 'B', x'02', 0), (3, 'A', x'03', 0);
                 INSERT INTO api_key (id, name, key_hash, scopes, created_at) VALUES (1, 'web', x'04', '', 0);
                 INSERT INTO variant (lang, sku, group_id, title, description, price_minor, currency, availability, additional_images, content_hash)
                 VALUES ('fr', 'S0', 'G', 't', 'd', 1, 'EUR', 'in_stock', '[]', 0), ('fr', 'S1', 'G', 't', 'd', 1, 'EUR', 'in_stock', '[]', 0),
                        ('fr', 'S2', 'G', 't', 'd', 1, 'EUR', 'in_stock', '[]', 0), ('fr', 'S3', 'G', 't', 'd', 1, 'EUR', 'in_stock', '[]', 0);
                 INSERT INTO customer_alias (alias, customer, created_at) VALUES ('a0', 'c0', 0), ('a1', 'c1', 0), ('a2', 'c2', 0);",
            ).unwrap();
            // Each customer signed in at each kiosk: kiosks write their lines by alias,
            // the web store by reference, and all collide on the same lines.
            for device in 1..=3 {
                for customer in 0..3 {
                    conn.execute(
                        "INSERT INTO visit (session, customer, store_code, device_id, signed_in_at, grant_until)
                         VALUES (?1, ?2, 'A', ?3, 0, ?4)",
                        rusqlite::params![format!("s{device}-{customer}"), format!("c{customer}"), device, i64::MAX],
                    ).unwrap();
                }
            }
            let senders: Vec<Principal> = vec![
                Principal::Device { id: 1, store_code: "A".into() },
                Principal::Device { id: 2, store_code: "B".into() },
                Principal::Device { id: 3, store_code: "A".into() },
                Principal::Key { id: 1, name: "web".into(), scopes: vec![] },
            ];
            // Each sender builds its ops with its own (skewed) hybrid logical clock.
            let base: Timestamp = "2026-11-22T10:00:00Z".parse().unwrap();
            let mut clocks = [0_u64; 4];
            let mut streams: Vec<Vec<Op>> = vec![Vec::new(); 4];
            let mut model: BTreeMap<(String, String), (u64, String, u64, bool)> = BTreeMap::new();
            for (i, e) in edits.iter().enumerate() {
                let now = base + jiff::SignedDuration::from_millis(i as i64 * 10 + e.skew);
                clocks[e.sender] = vitrine::hlc::tick(clocks[e.sender], now);
                let seq = streams[e.sender].len() as u64 + 1;
                let (owner, session) = if e.sender < 3 {
                    (Owner::Alias(format!("a{}", e.customer)), Some(format!("s{}-{}", e.sender + 1, e.customer)))
                } else {
                    (Owner::Customer(format!("c{}", e.customer)), None)
                };
                let op = Op {
                    seq,
                    hlc: clocks[e.sender],
                    owner,
                    sku: format!("S{}", e.sku),
                    action: if e.add { Action::Add } else { Action::Remove },
                    session,
                    token: None,
                };
                let stream = format!("stream-{}", e.sender);
                let key = (format!("c{}", e.customer), op.sku.clone());
                let candidate = (op.hlc, stream, seq, e.add);
                let entry = model.entry(key).or_insert(candidate.clone());
                if (candidate.0, &candidate.1, candidate.2) > (entry.0, &entry.1, entry.2) {
                    *entry = candidate;
                }
                streams[e.sender].push(op);
            }
            // Deliveries: random batches from random senders, possibly out of order or
            // repeated; a refused batch is retried later from the hub's expected seq.
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let mut acked = [0_u64; 4];
            let mut draw = order.into_iter().cycle();
            let mut rounds = 0;
            while (0..4).any(|s| (acked[s] as usize) < streams[s].len()) {
                rounds += 1;
                prop_assert!(rounds < 10_000, "deliveries never finish");
                let sender = draw.next().unwrap() as usize % 4;
                let ops = &streams[sender];
                if ops.is_empty() { continue; }
                let r = draw.next().unwrap() as usize;
                // Mostly where the hub expects (a sender retries from there), else anywhere:
                // before it (a duplicate) or after it (a gap).
                let start = if r.is_multiple_of(3) || acked[sender] as usize >= ops.len() {
                    r % ops.len()
                } else {
                    acked[sender] as usize
                };
                let len = 1 + (r / 7) % 5;
                let batch: Vec<Op> = ops[start..(start + len).min(ops.len())].to_vec();
                if r.is_multiple_of(5) { continue; } // dropped on the way
                let request = PushRequest { stream: format!("stream-{sender}"), ops: batch };
                let result = rt.block_on(store.push(senders[sender].clone(), request, base)).unwrap();
                if let Ok(response) = result {
                    acked[sender] = acked[sender].max(response.acked_seq);
                }
            }
            let mut stmt = conn.prepare("SELECT owner, sku, present FROM wishlist").unwrap();
            let hub: BTreeMap<(String, String), bool> = stmt
                .query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let expected: BTreeMap<(String, String), bool> = model.into_iter().map(|(k, v)| (k, v.3)).collect();
            prop_assert_eq!(hub, expected);
        }
    }
}
