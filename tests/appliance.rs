//! The kiosk as the image runs it: systemd's notifications, the settings file, and
//! signed app updates through the `vitrine update` commands the image's units run.
//! (The image itself is booted by kiosk-image/smoke, under QEMU.)

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

use crate::cli::vitrine_with_input;
use crate::ui::{Ui, on_ui_thread};

fn vitrine(args: &[&str]) -> (bool, String, String) {
    vitrine_with_input(args, "")
}

#[test]
fn systemd_hears_ready_then_watchdog_pings_only_while_the_ui_thread_turns() {
    on_ui_thread(|| {
        let ui = Ui::start((1280, 800), "en");
        let heard: Rc<RefCell<Vec<(String, std::thread::ThreadId)>>> = Rc::default();
        let record = heard.clone();
        let notify: vitrine::kiosk::appliance::Notify = Box::new(move |states| {
            record
                .borrow_mut()
                .push((format!("{states:?}"), std::thread::current().id()))
        });
        let _supervision =
            vitrine::kiosk::appliance::supervise(ui.window(), notify, Some(Duration::from_millis(40)), None);
        let pings = || heard.borrow().iter().filter(|(m, _)| m == "[Watchdog]").count();
        ui.h.settle_until("three watchdog pings", || pings() >= 3).unwrap();

        let heard_now = heard.borrow().clone();
        assert!(heard_now[0].0.starts_with("[Ready, Status("), "{heard_now:?}");
        assert!(
            heard_now
                .iter()
                .all(|(_, thread)| *thread == std::thread::current().id())
        );
        // This is the UI thread: while it is stuck, nobody pings.
        let before = pings();
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(pings(), before);
        ui.h.settle_until("pings again", || pings() > before).unwrap();
    });
}

#[test]
fn appliance_names_a_mistake_in_its_settings_and_asks_not_to_be_restarted() {
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("kiosk.toml");
    std::fs::write(&settings, "language = \"fr\"\nrotation = 45\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vitrine"))
        .args(["appliance", "--settings", settings.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{stderr}");
    assert!(
        stderr.contains("rotation must be 0, 90, 180 or 270, not 45"),
        "{stderr}"
    );
    assert!(!dir.path().join("data").exists(), "nothing is written for a wrong file");
}

/// What udev's `IMPORT{program}` reads: `KEY=value` lines, or nothing to leave the
/// panel's matrix as it is.
#[test]
fn udev_reads_the_touch_calibration_for_the_rotation_in_the_settings() {
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("kiosk.toml");
    let settings = settings.to_str().unwrap();
    let calibrate = |panel: &str| vitrine(&["touch-calibration", "--settings", settings, "--panel", panel]);
    assert_eq!(
        calibrate(""),
        (true, String::new(), String::new()),
        "before the data partition"
    );
    std::fs::write(settings, "rotation = 270\n").unwrap();
    assert_eq!(calibrate("").1, "LIBINPUT_CALIBRATION_MATRIX=0 -1 1 1 0 0\n");
    // A panel mirrored left to right, by an earlier rule: mirrored first, then turned.
    assert_eq!(
        calibrate("-1 0 1 0 1 0").1,
        "LIBINPUT_CALIBRATION_MATRIX=0 -1 1 -1 0 1\n"
    );
    let (ok, out, err) = calibrate("1 0 0");
    assert!(!ok && out.is_empty() && err.contains("has 3 numbers, not 6"), "{err}");
}

fn slots_args<'a>(dir: &'a Path, rest: &[&'a str]) -> Vec<String> {
    let mut args: Vec<String> = rest.iter().map(|s| s.to_string()).collect();
    for (flag, name) in [("--slots", "slots"), ("--health", "health"), ("--factory", "factory")] {
        args.push(flag.into());
        args.push(dir.join(name).display().to_string());
    }
    args
}

fn run(args: &[String]) -> (bool, String, String) {
    vitrine(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// What the image's units do, in order: install on trial, `prepare` before each start
/// (the failing app is tried three times), then the previous app comes back.
#[test]
fn an_update_is_verified_tried_and_rolled_back_by_the_commands_the_image_runs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("factory"), "#!/bin/sh\n").unwrap();
    let keys = d.join("keys");
    let (ok, out, err) = vitrine(&["update", "keygen", "--out", keys.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.contains("update.key"), "{out}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(keys.join("update.key")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the secret key is for its owner only");
    let (ok, _, err) = vitrine(&["update", "keygen", "--out", keys.to_str().unwrap()]);
    assert!(
        !ok && err.contains("must not exist yet"),
        "a key is never overwritten: {err}"
    );

    std::fs::write(d.join("new-app"), "#!/bin/sh\nexit 1\n").unwrap();
    let bundle = d.join("new.vtb");
    let (ok, out, err) = vitrine(&[
        "update",
        "pack",
        "--key",
        keys.join("update.key").to_str().unwrap(),
        "--version",
        "2.0.0",
        "--app",
        d.join("new-app").to_str().unwrap(),
        "--out",
        bundle.to_str().unwrap(),
    ]);
    assert!(ok && out.contains("signed version 2.0.0"), "{out}{err}");

    // A key the image does not trust is refused before anything changes.
    let other = d.join("other");
    vitrine(&["update", "keygen", "--out", other.to_str().unwrap()]);
    let pub_other = other.join("update.pub").display().to_string();
    let bundle_arg = bundle.display().to_string();
    let (ok, _, err) = run(&slots_args(d, &["update", "install", &bundle_arg, "--key", &pub_other]));
    assert!(!ok && err.contains("not signed by this image's update key"), "{err}");

    let pub_key = keys.join("update.pub").display().to_string();
    let (ok, out, err) = run(&slots_args(d, &["update", "install", &bundle_arg, "--key", &pub_key]));
    assert!(ok && out.contains("installed version 2.0.0 on trial"), "{out}{err}");

    let link = d.join("run/app").display().to_string();
    for start in 1..=3 {
        let (ok, out, err) = run(&slots_args(d, &["update", "prepare", "--link", &link]));
        assert!(
            ok && out.contains(&format!("trying version 2.0.0 (start {start} of 3)")),
            "{out}{err}"
        );
        assert_eq!(std::fs::read_link(&link).unwrap(), d.join("slots/a/vitrine"));
    }
    let (ok, out, _) = run(&slots_args(d, &["update", "status"]));
    assert!(
        ok && out.contains("current=a\n") && out.contains("trial=2.0.0 starts=3"),
        "{out}"
    );

    let (ok, out, err) = run(&slots_args(d, &["update", "prepare", "--link", &link]));
    assert!(
        ok && out.contains("rolled back version 2.0.0: it did not report healthy in 3 starts"),
        "{out}{err}"
    );
    assert_eq!(std::fs::read_link(&link).unwrap(), d.join("factory"));
    let (_, out, _) = run(&slots_args(d, &["update", "status"]));
    assert!(out.contains("current=factory\n") && out.contains("trial=\n"), "{out}");
}

/// A signed bundle older than the app running now is refused, so an old release with
/// flaws fixed since cannot be put back by anyone holding its file; `--allow-downgrade`
/// is how an operator goes back on purpose.
#[test]
fn an_older_bundle_installs_only_with_allow_downgrade() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("factory"), "#!/bin/sh\n").unwrap();
    std::fs::write(d.join("old-app"), "#!/bin/sh\n").unwrap();
    let keys = d.join("keys");
    let (ok, _, err) = vitrine(&["update", "keygen", "--out", keys.to_str().unwrap()]);
    assert!(ok, "{err}");
    let bundle = d.join("old.vtb");
    let (ok, _, err) = vitrine(&[
        "update",
        "pack",
        "--key",
        keys.join("update.key").to_str().unwrap(),
        "--version",
        "0.0.1",
        "--app",
        d.join("old-app").to_str().unwrap(),
        "--out",
        bundle.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let bundle_arg = bundle.display().to_string();
    let pub_key = keys.join("update.pub").display().to_string();

    // The image's own app (this binary) is newer.
    let (ok, _, err) = run(&slots_args(d, &["update", "install", &bundle_arg, "--key", &pub_key]));
    let older = format!("version 0.0.1 is older than version {}", env!("CARGO_PKG_VERSION"));
    assert!(!ok && err.contains(&older), "{err}");
    assert!(!d.join("slots/a").exists(), "nothing is written for a refused bundle");
    let (ok, out, err) = run(&slots_args(
        d,
        &["update", "install", &bundle_arg, "--key", &pub_key, "--allow-downgrade"],
    ));
    assert!(ok && out.contains("installed version 0.0.1 on trial"), "{out}{err}");
}
