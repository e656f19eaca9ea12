//! `vitrine eval qr`: the decode rate and time of the QR cascade on a manifest of photos.
//!
//! The manifest is tab-separated with a header: `path` (relative to the manifest), the
//! expected text as a JSON string (`""`: the picture holds no code and nothing may be
//! read), `category`, and any further columns (source, licence), which are ignored. The
//! JSON strings hold quotes, so lines are split on tabs, never read as CSV.
//!
//! Time is measured from the decoded picture (as a camera frame would arrive) to the
//! answer: grey conversion, shrinking and every strategy tried. Reading the file is not
//! counted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};

use super::percentiles;
use crate::scan::decode::{Frame, read_still};

/// The largest manifest read.
const MAX_MANIFEST_BYTES: u64 = 16 << 20;
/// The largest picture decoded, in bytes of pixels.
const MAX_PICTURE_ALLOC: u64 = 256 << 20;

pub struct Case {
    pub path: PathBuf,
    pub expected: String,
    pub category: String,
}

pub fn read_manifest(manifest: &Path) -> anyhow::Result<Vec<Case>> {
    let size = std::fs::metadata(manifest)
        .with_context(|| format!("cannot read {}", manifest.display()))?
        .len();
    if size > MAX_MANIFEST_BYTES {
        bail!("{} is larger than {MAX_MANIFEST_BYTES} bytes", manifest.display());
    }
    let text = std::fs::read_to_string(manifest).with_context(|| format!("cannot read {}", manifest.display()))?;
    let base = manifest.parent().unwrap_or(Path::new("."));
    let mut cases = Vec::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let [path, expected, category, ..] = fields[..] else {
            bail!(
                "line {}: expected path, expected text and category separated by tabs",
                n + 1
            );
        };
        let expected: String = serde_json::from_str(expected)
            .with_context(|| format!("line {}: the expected text is not a JSON string", n + 1))?;
        cases.push(Case {
            path: base.join(path),
            expected,
            category: category.to_owned(),
        });
    }
    Ok(cases)
}

#[derive(Default)]
struct Tally {
    with_code: usize,
    decoded: usize,
    without_code: usize,
    false_reads: usize,
    ms: Vec<f64>,
}

impl Tally {
    fn add(&mut self, expected: &str, read: Option<&str>, ms: f64) {
        if expected.is_empty() {
            self.without_code += 1;
            self.false_reads += usize::from(read.is_some());
        } else {
            self.with_code += 1;
            self.decoded += usize::from(read == Some(expected));
        }
        self.ms.push(ms);
    }

    fn line(&self) -> String {
        let rate = if self.with_code == 0 {
            0.0
        } else {
            self.decoded as f64 / self.with_code as f64
        };
        let max = self.ms.iter().copied().fold(0.0, f64::max);
        let (median, p99) = percentiles(self.ms.clone());
        format!(
            "images={} decoded={} rate={rate:.3} false_reads={} median_ms={median:.2} p99_ms={p99:.2} max_ms={max:.2}",
            self.with_code + self.without_code,
            self.decoded,
            self.false_reads
        )
    }
}

/// Decodes every case; returns one line per category, then the totals.
pub fn run(cases: &[Case]) -> anyhow::Result<Vec<String>> {
    let mut total = Tally::default();
    let mut by_category: BTreeMap<&str, Tally> = BTreeMap::new();
    for case in cases {
        let mut reader = image::ImageReader::open(&case.path)
            .with_context(|| format!("cannot open {}", case.path.display()))?
            .with_guessed_format()?;
        let mut limits = image::Limits::default();
        limits.max_alloc = Some(MAX_PICTURE_ALLOC);
        reader.limits(limits);
        let picture = reader
            .decode()
            .with_context(|| format!("cannot decode {}", case.path.display()))?;
        let started = Instant::now();
        let read = read_still(&Frame::new(&picture));
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let text = read.as_ref().map(|r| r.text.as_str());
        if text != Some(case.expected.as_str()) && !(case.expected.is_empty() && text.is_none()) {
            tracing::debug!(path = %case.path.display(), read = ?text, "not read as expected");
        }
        total.add(&case.expected, text, ms);
        by_category
            .entry(&case.category)
            .or_default()
            .add(&case.expected, text, ms);
    }
    let mut lines: Vec<String> = by_category
        .iter()
        .map(|(category, tally)| format!("category={category} {}", tally.line()))
        .collect();
    lines.push(total.line());
    Ok(lines)
}
