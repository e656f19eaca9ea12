//! `vitrine eval feeds`: how much of what shops' real feeds list lands in the catalog.
//!
//! Each feed is imported whole into a fresh catalog, as a first import would be. A feed
//! refused whole lands nothing; what it listed is counted from its text (items, entries
//! or data rows), so a refusal weighs on the rate as much as the products it lost.

use std::path::{Path, PathBuf};
use std::time::Instant;

use jiff::Timestamp;

use crate::catalog::{Catalog, FeedOptions, InventoryFeed, ProductFeed};

/// The feeds at `paths` (files, or directories read one level deep), product feeds
/// unless the file name says `inventory`.
pub fn files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut inside: Vec<PathBuf> = std::fs::read_dir(path)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && !is_notes(p))
                .collect();
            inside.sort();
            files.extend(inside);
        } else {
            files.push(path.clone());
        }
    }
    anyhow::ensure!(!files.is_empty(), "no feed found in the paths given");
    Ok(files)
}

fn is_notes(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    name.starts_with("readme") || name.starts_with("licen") || name.ends_with(".md")
}

/// One line per feed, then the totals.
pub fn run(files: &[PathBuf], options: &FeedOptions) -> anyhow::Result<Vec<String>> {
    let dir = tempfile::tempdir()?;
    let mut lines = Vec::new();
    let (mut listed_all, mut landed_all, mut refused_feeds, mut warnings_all) = (0, 0, 0, 0);
    for (i, path) in files.iter().enumerate() {
        let bytes = std::fs::read(path)?;
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("feed")
            .replace(' ', "_");
        let inventory = name.to_ascii_lowercase().contains("inventory");
        let mut catalog = Catalog::open(&dir.path().join(format!("{i}.db")))?;
        let started = Instant::now();
        let outcome = if inventory {
            InventoryFeed::parse(&bytes, options)
                .map(|feed| (feed.listed, catalog.import(None, Some(&feed), Timestamp::now())))
        } else {
            ProductFeed::parse(&bytes, options)
                .map(|feed| (feed.listed, catalog.import(Some(&feed), None, Timestamp::now())))
        };
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        match outcome {
            Ok((listed, report)) => {
                let report = report?;
                let summary = report.products.or(report.inventory).unwrap_or_default();
                let landed = summary.imported + summary.updated + summary.unchanged;
                lines.push(format!(
                    "feed={name} listed={listed} landed={landed} rejected={} warnings={} import_ms={ms:.1}",
                    summary.rejected.len(),
                    summary.warnings.len()
                ));
                for rejection in summary.rejected.iter().take(5) {
                    lines.push(format!("  rejected {rejection}"));
                }
                listed_all += listed;
                landed_all += landed;
                warnings_all += summary.warnings.len();
            }
            Err(e) => {
                let listed = listed_in(&bytes);
                lines.push(format!("feed={name} listed~{listed} landed=0 refused=\"{e}\""));
                listed_all += listed;
                refused_feeds += 1;
            }
        }
    }
    let pct = if listed_all == 0 {
        0.0
    } else {
        100.0 * landed_all as f64 / listed_all as f64
    };
    lines.push(format!("feeds={}", files.len()));
    lines.push(format!("feeds_refused={refused_feeds}"));
    lines.push(format!("items_listed={listed_all}"));
    lines.push(format!("items_landed={landed_all}"));
    lines.push(format!("landed_pct={pct:.1}"));
    lines.push(format!("warnings={warnings_all}"));
    Ok(lines)
}

/// What a refused feed listed, counted from its text: XML items or entries, else the
/// lines after the header.
fn listed_in(bytes: &[u8]) -> usize {
    let text = String::from_utf8_lossy(bytes);
    let xml = text.matches("<item>").count() + text.matches("<item ").count() + text.matches("<entry>").count();
    if xml > 0 || text.trim_start().starts_with('<') {
        xml
    } else {
        text.lines().skip(1).filter(|l| !l.trim().is_empty()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_and_landed_items_are_counted() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.csv");
        std::fs::write(
            &good,
            "id,title,price,link\nA,Robe,10 EUR,https://s.example/a\nB,Jupe,,https://s.example/b\n",
        )
        .unwrap();
        let cut = dir.path().join("cut.xml");
        std::fs::write(&cut, "<rss><channel><item><g:id>A</g:id></item><item><g:id>B").unwrap();
        let lines = run(&files(&[dir.path().to_owned()]).unwrap(), &FeedOptions::default()).unwrap();
        assert!(
            lines[0].starts_with("feed=cut.xml listed~2 landed=0 refused="),
            "{lines:?}"
        );
        assert!(
            lines[1].starts_with("feed=good.csv listed=2 landed=1 rejected=1"),
            "{lines:?}"
        );
        assert!(lines.contains(&"landed_pct=25.0".to_owned()), "{lines:?}");
    }
}
