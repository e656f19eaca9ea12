//! Pushes that queue while the hub's writer is busy are committed as one group, on
//! either database: each batch gets its own answer, and the group's reads and writes
//! are shared.

use jiff::Timestamp;
use vitrine::db::params;
use vitrine::hub::store::{Principal, PushError, Rules, Store};
use vitrine::protocol::{Action, Op, OpStatus, Owner, PushRequest, PushResponse};

use crate::world::{hub_conn, hub_place, on_postgres};

fn batch(stream: &str, seqs: std::ops::RangeInclusive<u64>, sku: &str, now: Timestamp) -> PushRequest {
    let base = vitrine::hlc::from_wall(now);
    let ops = seqs
        .map(|seq| Op {
            seq,
            hlc: base + seq,
            owner: Owner::Visit("v1".into()),
            sku: sku.into(),
            action: Action::Add,
            session: Some("visit-1".into()),
            token: None,
        })
        .collect();
    PushRequest {
        stream: stream.into(),
        ops,
    }
}

/// Runs `pushes` as one group: the writer is held busy while they queue, in order
/// (one thread runs the tasks as they were spawned).
fn as_one_group(
    store: &std::sync::Arc<Store>,
    now: Timestamp,
    pushes: Vec<(Principal, PushRequest)>,
) -> Vec<Result<PushResponse, PushError>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let writer = store.clone();
        let sleep = || std::thread::sleep(std::time::Duration::from_millis(300));
        let busy = tokio::spawn(async move { writer.write(move |_| sleep()).await });
        let pushes: Vec<_> = pushes
            .into_iter()
            .map(|(who, request)| {
                let store = store.clone();
                tokio::spawn(async move { store.push(who, request, now).await })
            })
            .collect();
        busy.await.unwrap().unwrap();
        let mut results = Vec::new();
        for push in pushes {
            results.push(push.await.unwrap().unwrap());
        }
        results
    })
}

/// A refused batch, a resent one, a stream taken in the same group and a batch the
/// database fails each get their own answer; the good batches around them land, a
/// later batch of the group sees what an earlier one wrote, and the web store hears
/// of the group once.
#[test]
fn a_group_refuses_its_bad_batches_alone_and_keeps_the_good_ones() {
    let dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(Store::open(&hub_place(dir.path()), Rules::default()).unwrap());
    let conn = hub_conn(dir.path());
    let db = conn.sql();
    db.execute(
        "INSERT INTO device (id, store_code, token_hash, enrolled_at) VALUES (1, 'A', ?1, 0), (2, 'A', ?2, 0)",
        params![vec![1_u8], vec![2_u8]],
    )
    .unwrap();
    db.execute(
        "INSERT INTO api_key (id, name, key_hash, scopes, created_at) VALUES (1, 'web', ?1, 'wishlist:read', 0)",
        params![vec![3_u8]],
    )
    .unwrap();
    db.batch(
        "INSERT INTO webhook_endpoint (id, api_key_id, url, events, secret, created_at)
         VALUES (1, 1, 'http://127.0.0.1:9/hook', '[\"wishlist.changed\"]', 'whsec_x', 0);
         INSERT INTO variant (lang, sku, group_id, title, description, price_minor, currency, availability,
             additional_images, content_hash)
         VALUES ('fr', 'S0', 'G', 't', 'd', 1, 'EUR', 'in_stock', '[]', 0),
                ('fr', 'S1', 'G', 't', 'd', 1, 'EUR', 'in_stock', '[]', 0)",
    )
    .unwrap();
    // The database refuses to record one stream, as it may refuse any write.
    db.batch(if on_postgres() {
        "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN IF NEW.id = 'poison' THEN RAISE EXCEPTION 'poisoned'; END IF; RETURN NEW; END $$;
         CREATE TRIGGER poison BEFORE INSERT ON stream FOR EACH ROW EXECUTE FUNCTION poison();"
    } else {
        "CREATE TRIGGER poison BEFORE INSERT ON stream WHEN NEW.id = 'poison'
         BEGIN SELECT RAISE(ABORT, 'poisoned'); END;"
    })
    .unwrap();
    let one = Principal::Device {
        id: 1,
        store_code: "A".into(),
    };
    let two = Principal::Device {
        id: 2,
        store_code: "A".into(),
    };
    let now = Timestamp::now();
    let seeded = as_one_group(&store, now, vec![(one.clone(), batch("s1", 1..=2, "S0", now))]);
    assert_eq!(seeded[0].as_ref().unwrap().acked_seq, 2);
    let messages = || -> i64 { db.one("SELECT COUNT(*) FROM webhook_message", params![]).unwrap() };
    assert_eq!(messages(), 1);

    // Read and written together: every refusal found before anything is written.
    let mut changed = batch("s1", 3..=3, "S1", now);
    changed.ops[0].action = Action::Remove;
    let mut twice = batch("s4", 1..=1, "S0", now);
    let mut again = twice.ops[0].clone();
    again.action = Action::Remove;
    twice.ops.push(again);
    let results = as_one_group(
        &store,
        now,
        vec![
            (one.clone(), batch("s1", 3..=3, "S0", now)),
            (one.clone(), batch("s1", 4..=5, "S1", now)),
            (one.clone(), batch("s1", 7..=7, "S0", now)),
            (one.clone(), batch("s1", 2..=2, "S0", now)),
            (one.clone(), changed),
            (two.clone(), batch("s2", 1..=1, "S0", now)),
            (one.clone(), batch("s2", 1..=1, "S1", now)),
            (one.clone(), twice),
        ],
    );
    let acked = |r: &Result<PushResponse, PushError>| r.as_ref().map(|r| r.acked_seq).ok();
    assert_eq!(acked(&results[0]), Some(3));
    assert_eq!(acked(&results[1]), Some(5));
    assert!(
        matches!(results[2], Err(PushError::Gap { expected: 6 })),
        "{:?}",
        results[2]
    );
    let resent = results[3].as_ref().unwrap();
    assert_eq!((resent.acked_seq, resent.results[0].status), (5, OpStatus::Duplicate));
    assert!(
        matches!(results[4], Err(PushError::Diverged { seq: 3 })),
        "{:?}",
        results[4]
    );
    assert_eq!(acked(&results[5]), Some(1));
    assert!(matches!(results[6], Err(PushError::StreamTaken)), "{:?}", results[6]);
    assert!(
        matches!(results[7], Err(PushError::Diverged { seq: 1 })),
        "{:?}",
        results[7]
    );
    // One message for the group, from where it started, counting its changes.
    assert_eq!(messages(), 2);
    let payload: String = db
        .one(
            "SELECT payload FROM webhook_message ORDER BY id DESC LIMIT 1",
            params![],
        )
        .unwrap();
    let payload: serde_json::Value = serde_json::from_str(&payload).unwrap();
    // s1's 3, 4 and 5 (s2's older op on S0 loses to s1's 3).
    assert_eq!(payload["data"]["changes"], 3, "{payload}");

    // A batch the database fails: the group again one push at a time.
    let results = as_one_group(
        &store,
        now,
        vec![
            (one.clone(), batch("s1", 6..=6, "S0", now)),
            (one.clone(), batch("poison", 1..=1, "S1", now)),
            (one.clone(), batch("s3", 1..=1, "S1", now)),
        ],
    );
    assert_eq!(acked(&results[0]), Some(6));
    assert!(matches!(results[1], Err(PushError::Store(_))), "{:?}", results[1]);
    assert_eq!(acked(&results[2]), Some(1));

    let streams = db
        .query_map(
            "SELECT id, device_id, acked_seq FROM stream ORDER BY id",
            params![],
            |r| Ok((r.get::<String>(0)?, r.get::<i64>(1)?, r.get::<i64>(2)?)),
        )
        .unwrap();
    let expected = [("s1", 1, 6), ("s2", 2, 1), ("s3", 1, 1)].map(|(s, d, a)| (s.to_owned(), d, a));
    assert_eq!(streams, expected);
    let ops: i64 = db.one("SELECT COUNT(*) FROM op", params![]).unwrap();
    assert_eq!(ops, 2 + 3 + 1 + 1 + 1);
    // Change ids follow one another: no hole where refused batches were.
    let ids = db
        .query_map("SELECT change_id FROM wishlist ORDER BY change_id", params![], |r| {
            r.get::<i64>(0)
        })
        .unwrap();
    let next: i64 = db
        .one("SELECT value FROM hub_counter WHERE name = 'next_change_id'", params![])
        .unwrap();
    // S1's line last changed by s1's op 5, S0's by op 6: the last two ids given.
    assert_eq!(ids, [next - 2, next - 1]);
}
