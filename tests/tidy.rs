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

/// A source file's path from the repository's root, with `/`.
fn relative(path: &Path) -> String {
    path.strip_prefix(root()).unwrap().to_string_lossy().replace('\\', "/")
}

/// The Rust files under `src/`, with their text.
fn sources() -> Vec<(String, String)> {
    files(&root().join("src"), "rs")
        .into_iter()
        .map(|path| (relative(&path), std::fs::read_to_string(&path).unwrap()))
        .collect()
}

/// The code of a file, without its comments (`//` to the end of a line), so that a
/// module may say in words what it does not do.
fn code(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn only_the_kiosk_module_knows_slint() {
    for (relative, text) in sources() {
        if relative.starts_with("src/kiosk/") {
            continue;
        }
        let text = code(&text);
        assert!(
            !text.contains("slint::") && !text.contains("use slint"),
            "{relative} uses Slint; only src/kiosk/ may"
        );
    }
}

#[test]
fn the_hub_imports_neither_the_kiosk_nor_the_demo_nor_the_kiosks_sync() {
    // What runs on the tablet: its UI, its sync and HTTP client, its own tables.
    let kiosk_side = [
        "crate::kiosk",
        "crate::demo",
        "crate::sync",
        "crate::client",
        "crate::pictures",
        "crate::trust",
        "crate::pairing",
        "crate::staff::roster",
        "crate::scan",
        "crate::speech",
        "crate::bench",
        "crate::health",
    ];
    for (relative, text) in sources() {
        if !relative.starts_with("src/hub/") {
            continue;
        }
        let text = code(&text);
        for module in kiosk_side {
            assert!(!text.contains(module), "{relative} imports {module}; the hub must not");
        }
    }
}

/// The top-level modules by layer, from plain data up to the edges: a module may use
/// only modules of lower layers (ARCHITECTURE.md's diagram, checked).
const LAYERS: &[&[&str]] = &[
    &["domain", "hlc", "db", "token", "update", "brand"],
    &["protocol", "scan", "speech"],
    &["catalog", "net", "staff", "trust"],
    &["client"],
    &["pairing", "pictures"],
    &["sync", "hub"],
    &["health", "demo", "bench"],
    &["kiosk"],
];

#[test]
fn every_arrow_points_down() {
    let layer = |module: &str| LAYERS.iter().position(|l| l.contains(&module));
    for (relative, text) in sources() {
        let top = relative
            .trim_start_matches("src/")
            .split('/')
            .next()
            .unwrap()
            .trim_end_matches(".rs")
            .to_owned();
        if matches!(top.as_str(), "lib" | "main" | "cli") {
            continue;
        }
        let own = layer(&top).unwrap_or_else(|| panic!("{top} has no layer in tests/tidy.rs (LAYERS)"));
        for chunk in code(&text).split("crate::").skip(1) {
            let used: String = chunk
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            // A macro is exported at the crate's root: `sql_params` is `db::params!`.
            let used = if used == "sql_params" { "db".to_owned() } else { used };
            if used == top || used.is_empty() {
                continue;
            }
            let theirs = layer(&used).unwrap_or_else(|| panic!("{relative} uses {used}, which has no layer"));
            assert!(
                theirs < own,
                "{relative} ({top}, layer {own}) uses {used} (layer {theirs}): arrows point down only"
            );
        }
    }
}

#[test]
fn the_catalog_does_no_ui_and_the_domain_does_no_io() {
    let domain = code(&std::fs::read_to_string(root().join("src/domain.rs")).unwrap());
    for io in ["std::fs", "rusqlite", "std::net", "std::thread", "Timestamp::now"] {
        assert!(
            !domain.contains(io),
            "src/domain.rs must stay plain data; it mentions {io}"
        );
    }
    for (relative, text) in sources() {
        if !relative.starts_with("src/catalog/") {
            continue;
        }
        let text = code(&text);
        assert!(!text.contains("crate::kiosk"), "{relative} reaches up into the kiosk");
        assert!(
            !text.contains("Timestamp::now"),
            "{relative} reads the clock; take `now` as input"
        );
    }
}

#[test]
fn pure_modules_do_no_io() {
    // Decisions without I/O: plain data in, a decision out, the time as an input.
    for path in [
        "src/hub/store/merge.rs",
        "src/sync/engine.rs",
        "src/hlc.rs",
        "src/token.rs",
        "src/staff/pin.rs",
        "src/hub/pairing.rs",
        "src/kiosk/session.rs",
    ] {
        let text = std::fs::read_to_string(root().join(path)).unwrap();
        // Tests may time themselves.
        let text = code(text.split("#[cfg(test)]").next().unwrap_or_default());
        for io in [
            "rusqlite",
            "std::fs",
            "std::net",
            "reqwest",
            "tokio",
            "Timestamp::now",
            "Instant::now",
            "slint",
        ] {
            assert!(!text.contains(io), "{path} must do no I/O; it mentions {io}");
        }
    }
}

#[test]
fn only_the_protocol_defines_wire_types() {
    for (relative, text) in sources() {
        if relative.starts_with("src/protocol/") {
            continue;
        }
        let text = code(&text);
        // What the OpenAPI document publishes is the protocol's.
        for derive in ["ToSchema", "IntoParams"] {
            assert!(
                !text.contains(derive),
                "{relative} derives {derive}; wire types live in src/protocol"
            );
        }
        // The modules that speak HTTP define no serialised types of their own.
        let speaks_http = ["src/hub/api/", "src/client/", "src/sync/", "src/net.rs"];
        if speaks_http.iter().any(|prefix| relative.starts_with(prefix)) {
            for derive in ["Serialize", "Deserialize"] {
                assert!(
                    !text.contains(&format!("derive({derive}")) && !text.contains(&format!(", {derive}")),
                    "{relative} derives {derive}; wire types live in src/protocol"
                );
            }
        }
    }
}

#[test]
fn only_the_catalog_queries_catalog_tables() {
    // The tables of src/db/catalog_v1.sql, the hub's log and pictures of the catalog, and
    // the kiosk's search index.
    let tables = [
        "variant",
        "product",
        "search_posting",
        "search_synonym",
        "stock",
        "catalog_meta",
        "catalog_log",
        "catalog_image",
    ];
    let verbs = ["FROM", "JOIN", "INTO", "UPDATE", "TABLE"];
    for (relative, text) in sources() {
        if relative.starts_with("src/catalog/") || relative.starts_with("src/db/") {
            continue;
        }
        // SQL is written with its keywords in capitals; prose ("turned into stock") is not.
        let text = code(&text);
        let words: Vec<&str> = text
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty())
            .collect();
        for pair in words.windows(2) {
            assert!(
                !(verbs.contains(&pair[0]) && tables.contains(&pair[1])),
                "{relative} queries the catalog table {} ({} {}); ask src/catalog",
                pair[1],
                pair[0],
                pair[1]
            );
        }
    }
}

#[test]
fn only_the_command_prints() {
    for (relative, text) in sources() {
        if relative == "src/main.rs" || relative.starts_with("src/cli/") {
            continue;
        }
        let text = code(&text);
        for print in ["println!", "print!(", "eprintln!", "eprint!(", "dbg!"] {
            assert!(
                !text.contains(print),
                "{relative} prints ({print}); log with tracing, or return what to print to src/cli"
            );
        }
    }
}

#[test]
fn no_source_file_is_over_800_lines() {
    let mut paths = files(&root().join("src"), "rs");
    paths.extend(files(&root().join("ui"), "slint"));
    for path in paths {
        let lines = std::fs::read_to_string(&path).unwrap().lines().count();
        assert!(
            lines <= 800,
            "{} has {lines} lines; split it by concern (see ARCHITECTURE.md)",
            relative(&path)
        );
    }
}

#[test]
fn colours_come_from_the_theme() {
    for path in files(&root().join("ui"), "slint") {
        if path.ends_with("theme.slint") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            // Preview data may name a colour swatch (it is data, not style).
            let code = line.split("//").next().unwrap_or_default();
            if code.contains("swatch:") {
                continue;
            }
            for literal in code.split('#').skip(1) {
                let hex = literal.chars().take_while(char::is_ascii_hexdigit).count();
                assert!(
                    !matches!(hex, 3 | 4 | 6 | 8),
                    "{}:{}: a raw colour; add it to ui/theme.slint and use Theme.*",
                    relative(&path),
                    n + 1
                );
            }
        }
    }
}

#[test]
fn architecture_md_maps_every_module() {
    let map = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    for path in files(&root().join("src"), "rs") {
        let relative = relative(&path);
        let module = relative.trim_end_matches("/mod.rs").trim_end_matches(".rs").to_owned();
        assert!(
            map.contains(&format!("`{module}")),
            "ARCHITECTURE.md does not mention {relative}"
        );
    }
    // The diagram is the first fenced block; every top-level module is in it.
    let diagram = map.split("```").nth(1).expect("ARCHITECTURE.md opens with a diagram");
    let lib = std::fs::read_to_string(root().join("src/lib.rs")).unwrap();
    let mut modules: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod "))
        .map(|m| m.trim_end_matches(';'))
        .collect();
    modules.push("cli");
    for module in modules {
        let named = diagram
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .any(|word| word == module);
        assert!(named, "ARCHITECTURE.md's diagram does not show the module {module}");
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

/// Placeholders (`%{name}`) of a console text.
fn placeholders(text: &str) -> Vec<&str> {
    let mut found: Vec<&str> = text
        .split("%{")
        .skip(1)
        .filter_map(|rest| rest.split('}').next())
        .collect();
    found.sort();
    found
}

#[test]
fn every_console_text_is_in_english_and_french_with_the_same_placeholders() {
    // `ui/console/*.yml`: `"key":` then `  en: "…"` and `  fr: "…"`, JSON strings; a key
    // in one file only.
    let unquote = |s: &str| serde_json::from_str::<String>(s.trim()).unwrap();
    let mut catalogue = std::collections::HashMap::new();
    for path in files(&root().join("ui/console"), "yml") {
        let yml = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = yml.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if line.starts_with('"') && line.ends_with(':') {
                let key = unquote(&line[..line.len() - 1]);
                let en = lines[i + 1].strip_prefix("  en: ").map(unquote);
                let fr = lines[i + 2].strip_prefix("  fr: ").map(unquote);
                let again = catalogue.insert(key.clone(), (en, fr));
                assert!(again.is_none(), "{key:?} is in two files of ui/console");
            }
        }
    }
    let mut used = 0;
    for path in files(&root().join("src/hub/console"), "rs") {
        let text = std::fs::read_to_string(&path).unwrap();
        let chunks: Vec<&str> = text.split("tr!(").collect();
        for (before, chunk) in chunks.iter().zip(&chunks[1..]) {
            // `tr!(lang, "…"` only: not `include_str!(`, not the macro's own definition.
            let word_start = !before.ends_with(|c: char| c.is_alphanumeric() || c == '_');
            let Some(start) = chunk.find(", \"") else { continue };
            let first = &chunk[..start];
            if !word_start || first.is_empty() || !first.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.') {
                continue;
            }
            let literal = &chunk[start + 3..];
            let key = &literal[..literal.find('"').unwrap()];
            used += 1;
            let (en, fr) = catalogue
                .get(key)
                .unwrap_or_else(|| panic!("{}: {key:?} is not in ui/console/console.yml", path.display()));
            let (en, fr) = (en.as_deref().unwrap_or(""), fr.as_deref().unwrap_or(""));
            assert!(!en.is_empty() && !fr.is_empty(), "{key:?} needs both en and fr");
            assert_eq!(
                placeholders(en),
                placeholders(fr),
                "{key:?}: the French has other placeholders"
            );
            assert_eq!(placeholders(key), placeholders(en), "{key:?}");
        }
    }
    assert!(used > 100, "the console's texts were not found ({used})");
}

#[test]
fn interface_text_goes_through_tr() {
    // Literal text is allowed only for names that are not translated, and digits.
    let allowed = ["Français", "English", "EN", "FR", " "];
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

/// A kiosk shows its chain's brand, or its shop's name: the demo's brand is the demo's
/// (its words in `ui/` are only preview data, which `interface_text_goes_through_tr`
/// keeps off the screen).
#[test]
fn only_the_demo_says_maison_lumen() {
    for (relative, text) in sources() {
        if relative.starts_with("src/demo/") {
            continue;
        }
        let lower = code(&text).to_lowercase();
        assert!(
            !lower.contains("maison lumen"),
            "{relative} names the demo's brand: kiosks show the brand their hub sends"
        );
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
