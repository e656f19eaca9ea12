//! QR decoding as `vitrine eval qr` measures it, on pictures made here with the qrcode
//! crate (the real-photo set lives outside the repository, in `../shared/data/qr`).

use image::{GrayImage, Luma};
use vitrine::bench::qr as eval;

fn code(text: &str) -> GrayImage {
    qrcode::QrCode::new(text.as_bytes())
        .unwrap()
        .render::<Luma<u8>>()
        .module_dimensions(6, 6)
        .build()
}

#[test]
fn the_eval_counts_reads_misses_and_false_reads_per_category() {
    let dir = tempfile::tempdir().unwrap();
    let mut inverted = code("dark mode");
    image::imageops::invert(&mut inverted);
    code("ML-DRESS-01-TERRACOTTA-M")
        .save(dir.path().join("sku.png"))
        .unwrap();
    inverted.save(dir.path().join("dark.png")).unwrap();
    GrayImage::from_pixel(200, 200, Luma([235]))
        .save(dir.path().join("blank.png"))
        .unwrap();
    let manifest = dir.path().join("manifest.tsv");
    std::fs::write(
        &manifest,
        "path\texpected\tcategory\tsource\tlicence\n\
         sku.png\t\"ML-DRESS-01-TERRACOTTA-M\"\tprinted\there\tMIT\n\
         dark.png\t\"dark mode\"\tinverted\there\tMIT\n\
         blank.png\t\"\"\tno_code\there\tMIT\n\
         sku.png\t\"not what it says\"\tprinted\there\tMIT\n",
    )
    .unwrap();
    let lines = eval::run(&eval::read_manifest(&manifest).unwrap(), None).unwrap();
    let strategies = vitrine::scan::decode::Strategy::ALL.len();
    assert_eq!(lines.len(), 4 + strategies + 1, "{lines:#?}");
    assert!(
        lines[0].starts_with("category=inverted images=1 decoded=1 rate=1.000 false_reads=0"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("category=no_code images=1 decoded=0 rate=0.000 false_reads=0"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with("category=printed images=2 decoded=1 rate=0.500"),
        "{}",
        lines[2]
    );
    assert!(
        lines[3].starts_with("images=4 decoded=2 rate=0.667 false_reads=0 median_ms="),
        "{}",
        lines[3]
    );
    // Then each strategy alone: zxing-cpp reads the printed code (once as another text
    // than the line says), its inverted pass adds the dark one.
    assert!(
        lines[4].starts_with("strategy=zxing reads=1 added=1 wrong=1 "),
        "{}",
        lines[4]
    );
    assert!(
        lines[5].starts_with("strategy=zxing_inverted ") && lines[5].contains(" added=1 "),
        "{}",
        lines[5]
    );
    let last = &lines[4 + strategies];
    assert!(last.starts_with("stage=grey_conversion median_ms="), "{last}");
}

#[test]
fn a_broken_manifest_says_which_line() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("manifest.tsv");
    std::fs::write(&manifest, "path\texpected\tcategory\nsku.png\tnot json\tprinted\n").unwrap();
    let error = format!("{:#}", eval::read_manifest(&manifest).err().unwrap());
    assert!(error.contains("line 2") && error.contains("JSON"), "{error}");
    std::fs::write(&manifest, "path\texpected\tcategory\nsku.png only\n").unwrap();
    let error = format!("{:#}", eval::read_manifest(&manifest).err().unwrap());
    assert!(error.contains("line 2") && error.contains("tabs"), "{error}");
    std::fs::write(&manifest, "path\texpected\tcategory\nmissing.png\t\"x\"\tprinted\n").unwrap();
    let cases = eval::read_manifest(&manifest).unwrap();
    let error = format!("{:#}", eval::run(&cases, None).err().unwrap());
    assert!(error.contains("missing.png"), "{error}");
}

/// Frames a camera might deliver as a shopper walks up: nothing, a code held for a while,
/// nothing, another code.
#[test]
fn the_scanner_reports_each_code_once_while_it_stays_in_view() {
    use std::time::Duration;
    use vitrine::scan::scanner::{Event, Scanner};
    use vitrine::scan::source::Replay;

    let dir = tempfile::tempdir().unwrap();
    let blank = GrayImage::from_pixel(240, 240, Luma([230]));
    let mut frames = vec![blank.clone(); 3];
    frames.extend(std::iter::repeat_n(code("vitrine:customer:c-1"), 5));
    frames.extend(std::iter::repeat_n(blank, 2));
    frames.extend(std::iter::repeat_n(code("ML-DRESS-01-TERRACOTTA-M"), 4));
    for (i, frame) in frames.iter().enumerate() {
        frame.save(dir.path().join(format!("{i:03}.png"))).unwrap();
    }
    let replay = Replay::dir(dir.path(), 30.0).unwrap();
    assert_eq!(replay.len(), 14);
    let scanner = Scanner::start(Box::new(replay), Duration::from_secs(3)).unwrap();
    let mut reads = Vec::new();
    for event in scanner.events() {
        match event {
            Event::Read { text, latency, .. } => {
                assert!(latency < Duration::from_secs(10));
                reads.push(text);
            }
            Event::Ended => break,
            Event::Failed(why) | Event::Waiting(why) => panic!("{why}"),
        }
    }
    assert_eq!(reads, ["vitrine:customer:c-1", "ML-DRESS-01-TERRACOTTA-M"]);
    let frames_seen = scanner.stats().frames.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(frames_seen, 14);
}

#[test]
fn a_broken_frame_stops_the_scanner_with_a_reason() {
    use std::time::Duration;
    use vitrine::scan::scanner::{Event, Scanner};
    use vitrine::scan::source::Replay;

    let dir = tempfile::tempdir().unwrap();
    code("first").save(dir.path().join("0.png")).unwrap();
    std::fs::write(dir.path().join("1.png"), b"\x89PNG but not really").unwrap();
    let scanner = Scanner::start(Box::new(Replay::dir(dir.path(), 30.0).unwrap()), Duration::from_secs(3)).unwrap();
    let events: Vec<Event> = scanner.events().iter().take(2).collect();
    assert!(
        matches!(&events[0], Event::Read { text, .. } if text == "first"),
        "{events:?}"
    );
    assert!(
        matches!(&events[1], Event::Failed(why) if why.contains("1.png") || why.contains("frame 2")),
        "{events:?}"
    );
    assert!(Replay::parse("device:0", 15.0).is_err());
    assert!(Replay::dir(dir.path(), 0.0).is_err());
}

/// A product's GS1 Digital Link, printed on its tag and held up to the camera, finds the
/// product in the kiosk's catalog.
#[test]
fn a_digital_link_on_a_tag_finds_its_product() {
    use std::time::Duration;
    use vitrine::scan::payload::{Payload, classify};
    use vitrine::scan::scanner::{Event, Scanner};
    use vitrine::scan::source::Replay;

    let dir = tempfile::tempdir().unwrap();
    let db = vitrine::kiosk::demo_catalog(dir.path()).unwrap();
    let catalog = vitrine::catalog::Catalog::open(&db).unwrap();
    let sheet = catalog
        .product("fr", "ML-DRESS-01", vitrine::demo::HOME_STORE)
        .unwrap()
        .unwrap();
    let variant = sheet
        .variants
        .iter()
        .find(|v| v.gtin.is_some())
        .expect("the demo dress has GTINs");
    let gtin = variant.gtin.clone().unwrap();
    let link = format!("https://id.gs1.org/01/{}/10/LOT42", gtin.trim_start_matches('0'));
    let frames = dir.path().join("frames");
    std::fs::create_dir(&frames).unwrap();
    for i in 0..3 {
        code(&link).save(frames.join(format!("{i}.png"))).unwrap();
    }
    let scanner = Scanner::start(Box::new(Replay::dir(&frames, 30.0).unwrap()), Duration::from_secs(3)).unwrap();
    let Ok(Event::Read { text, .. }) = scanner.events().recv() else {
        panic!("nothing read")
    };
    let Payload::Product(code) = classify(&text) else {
        panic!("{text} is not a product code")
    };
    let hit = catalog.lookup(code.as_lookup()).unwrap().expect("found in the catalog");
    assert_eq!(
        (hit.group_id.as_str(), hit.sku.as_str()),
        ("ML-DRESS-01", variant.sku.as_str())
    );
}

#[test]
fn a_missing_camera_is_waited_for_not_fatal() {
    use std::time::{Duration, Instant};
    use vitrine::scan::scanner::{Event, Scanner};

    // No machine running the tests has 64 cameras: /dev/video63 is as good as unplugged.
    let source = vitrine::scan::open_source("device:63", 15.0).unwrap();
    assert!(source.describe().starts_with("device:63"));
    let scanner = Scanner::start(source, Duration::from_secs(3)).unwrap();
    match scanner.events().recv_timeout(Duration::from_secs(10)) {
        Ok(Event::Waiting(why)) => assert!(why.contains("/dev/video63"), "{why}"),
        other => panic!("expected the scanner to wait for the camera, got {other:?}"),
    }
    // Said once per outage, while the device thread keeps trying.
    assert!(scanner.events().recv_timeout(Duration::from_millis(2500)).is_err());
    assert_eq!(scanner.stats().fps(), 0.0);
    // And it stops promptly when the kiosk does.
    let stopping = Instant::now();
    drop(scanner);
    assert!(stopping.elapsed() < Duration::from_secs(5));

    for bad in ["device:64", "device:-1", "device:x", "camera", "dir"] {
        assert!(vitrine::scan::open_source(bad, 15.0).is_err(), "{bad}");
    }
}
