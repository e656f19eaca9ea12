//! Checks on the source tree that clippy cannot make: the architecture's invariants,
//! translations, and demo assets in step with their generator.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path, ext));
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
    out.sort();
    out
}

#[test]
fn only_the_kiosk_module_knows_slint() {
    for path in files(&root().join("src"), "rs") {
        let relative = path.strip_prefix(root()).unwrap().to_string_lossy().into_owned();
        if relative.starts_with("src/kiosk/") || relative == "src/main.rs" {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            !text.contains("slint::") && !text.contains("use slint"),
            "{relative} uses Slint; only src/kiosk/ may"
        );
    }
}

#[test]
fn the_catalog_does_no_ui_and_the_domain_does_no_io() {
    let domain = std::fs::read_to_string(root().join("src/domain.rs")).unwrap();
    for io in ["std::fs", "rusqlite", "std::net", "std::thread", "Timestamp::now"] {
        assert!(
            !domain.contains(io),
            "src/domain.rs must stay plain data; it mentions {io}"
        );
    }
    for path in files(&root().join("src/catalog"), "rs") {
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            !text.contains("crate::kiosk"),
            "{} reaches up into the kiosk",
            path.display()
        );
        assert!(
            !text.contains("Timestamp::now"),
            "{} reads the clock; take `now` as input",
            path.display()
        );
    }
}

#[test]
fn architecture_md_maps_every_module() {
    let map = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    for path in files(&root().join("src"), "rs") {
        let relative = path.strip_prefix(root()).unwrap().to_string_lossy().into_owned();
        let module = relative.trim_end_matches("/mod.rs").trim_end_matches(".rs").to_owned();
        assert!(
            map.contains(&format!("`{module}")),
            "ARCHITECTURE.md does not mention {relative}"
        );
    }
}

/// `@tr("…")` and `@tr("…" | "…" % n)` strings of every .slint file.
fn tr_strings() -> Vec<String> {
    let mut out = Vec::new();
    for path in files(&root().join("ui"), "slint") {
        let text = std::fs::read_to_string(&path).unwrap();
        for chunk in text.split("@tr(").skip(1) {
            let body = chunk
                .strip_prefix('"')
                .unwrap_or_else(|| panic!("{}: @tr needs a literal", path.display()));
            let end = body.find('"').unwrap();
            out.push(body[..end].to_owned());
        }
    }
    out.sort();
    out.dedup();
    out
}

#[test]
fn every_interface_string_has_a_french_translation() {
    let po = std::fs::read_to_string(root().join("ui/translations/fr/LC_MESSAGES/vitrine.po")).unwrap();
    let strings = tr_strings();
    assert!(strings.len() > 30);
    for s in strings {
        let quoted = format!("msgid \"{}\"", s.replace('"', "\\\""));
        let at = po
            .find(&quoted)
            .unwrap_or_else(|| panic!("no French for {s:?}; add it to vitrine.po"));
        let entry = &po[at..po[at..].find("\n\n").map_or(po.len(), |e| at + e)];
        assert!(
            entry
                .lines()
                .filter(|l| l.starts_with("msgstr"))
                .all(|l| !l.ends_with("\"\"")),
            "empty French for {s:?}"
        );
    }
}

#[test]
fn interface_text_goes_through_tr() {
    // Literal text is allowed only for names that are not translated, and digits.
    let allowed = ["MAISON LUMEN", "Français", "English", "EN", "FR", " "];
    for path in files(&root().join("ui"), "slint") {
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines() {
            let line = line.trim();
            if let Some(rest) = line.strip_prefix("text: \"") {
                let literal = &rest[..rest.find('"').unwrap()];
                assert!(
                    allowed.contains(&literal) || literal.bytes().all(|b| b.is_ascii_digit()) && !literal.is_empty(),
                    "{}: \"{literal}\" is shown untranslated; use @tr",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn demo_assets_match_their_generator() {
    let dir = root().join("assets/demo");
    let fresh = tempfile::tempdir().unwrap();
    vitrine::demo::write_assets(fresh.path()).unwrap();
    for name in [
        vitrine::demo::PRODUCTS_FR,
        vitrine::demo::PRODUCTS_EN,
        vitrine::demo::INVENTORY,
    ] {
        assert!(
            std::fs::read(dir.join(name)).unwrap() == std::fs::read(fresh.path().join(name)).unwrap(),
            "assets/demo/{name} is stale: run `cargo run -- demo --write-assets assets/demo`"
        );
    }
    let images = |d: &Path| {
        files(&d.join("images"), "svg")
            .iter()
            .map(|p| p.file_name().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(images(&dir), images(fresh.path()), "demo pictures are stale");
}
