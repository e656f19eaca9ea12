//! The `vitrine` command as ops and scripts use it: real binary, real files.

use std::process::Command;

fn vitrine(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_vitrine")).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn import_prints_a_summary_then_rejections_and_search_finds() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let feed = dir.path().join("p.tsv");
    std::fs::write(
        &feed,
        "id\ttitle\tprice\tavailability\nA\tRobe d'été\t19.99 EUR\tin stock\nB\tJupe\tgratuit\tin stock\n",
    )
    .unwrap();
    let inventory = dir.path().join("i.tsv");
    std::fs::write(&inventory, "store_code\tid\tquantity\nPARIS\tA\t2\n").unwrap();
    let (ok, out, err) = vitrine(&[
        "catalog",
        "import",
        "--db",
        db.to_str().unwrap(),
        "--products",
        feed.to_str().unwrap(),
        "--inventory",
        inventory.to_str().unwrap(),
        "--lang",
        "fr",
    ]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "imported=1 updated=0 unchanged=0 removed=0 rejected=1");
    assert_eq!(
        lines[1],
        "inventory imported=1 updated=0 unchanged=0 removed=0 rejected=0"
    );
    assert!(
        lines[2].starts_with("rejected products item 2 (line 3) id=B: price:"),
        "{}",
        lines[2]
    );

    let (ok, out, _) = vitrine(&["catalog", "search", "--db", db.to_str().unwrap(), "ete"]);
    assert!(ok);
    assert!(out.contains("Robe d'été\t19,99\u{a0}€"), "{out}");
}

#[test]
fn a_broken_feed_is_refused_with_its_position_and_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let good = dir.path().join("good.tsv");
    std::fs::write(&good, "id\ttitle\tprice\tavailability\nA\tRobe\t10 EUR\tin stock\n").unwrap();
    assert!(
        vitrine(&[
            "catalog",
            "import",
            "--db",
            db.to_str().unwrap(),
            "--products",
            good.to_str().unwrap()
        ])
        .0
    );
    let broken = dir.path().join("broken.xml");
    std::fs::write(
        &broken,
        "<rss xmlns:g=\"http://base.google.com/ns/1.0\"><channel>\n<item><g:id>B</g:id></itm>\n</channel></rss>",
    )
    .unwrap();
    let (ok, out, err) = vitrine(&[
        "catalog",
        "import",
        "--db",
        db.to_str().unwrap(),
        "--products",
        broken.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(out.is_empty());
    assert!(
        err.contains("broken.xml: the feed is not well-formed at 2:") && err.contains("Nothing was imported"),
        "{err}"
    );
    let (_, out, _) = vitrine(&[
        "catalog",
        "search",
        "--db",
        db.to_str().unwrap(),
        "--lang",
        "en",
        "robe",
    ]);
    assert!(out.contains("Robe"), "the catalog is as it was: {out}");
}

#[test]
fn bad_arguments_get_a_clear_answer() {
    let (ok, _, err) = vitrine(&["catalog", "import", "--db", "/nonexistent/x.db"]);
    assert!(
        !ok && err.contains("give --products FEED, --inventory FEED, or both"),
        "{err}"
    );
    let (ok, _, err) = vitrine(&["catalog", "search", "--db", "/nonexistent/x.db", "robe"]);
    assert!(!ok && err.contains("does not exist"), "{err}");
}

#[cfg(feature = "kiosk")]
#[test]
fn snapshot_writes_a_png_of_the_requested_size() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("home.png");
    let (ok, _, err) = vitrine(&[
        "snapshot",
        "--screen",
        "home",
        "--lang",
        "en",
        "--size",
        "1080x1920",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let png = image::open(&out).unwrap();
    assert_eq!((png.width(), png.height()), (1080, 1920));
    let (ok, _, err) = vitrine(&[
        "snapshot",
        "--screen",
        "home",
        "--size",
        "10x10",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!ok && err.contains("between 200 and 8192"), "{err}");
}
