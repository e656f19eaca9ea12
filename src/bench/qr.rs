//! `vitrine eval qr`: the decode rate and time of the QR cascade on a manifest of photos.
//!
//! The manifest is tab-separated with a header: `path` (relative to the manifest), the
//! expected text as a JSON string (`""`: the picture holds no code and nothing may be
//! read), `category`, and any further columns (source, licence), which are ignored. The
//! JSON strings hold quotes, so lines are split on tabs, never read as CSV.
//!
//! Time is measured from the grey picture (a camera's frames arrive grey from nokhwa) to
//! the answer: shrinking to the decoders' size (the kiosk does it on its capture thread;
//! counted here all the same) and every strategy tried, the part the kiosk's 250 ms
//! decoding budget covers. Reading the file and turning the picture grey are not
//! counted; the grey conversion, which the camera path does in nokhwa, has its own line.
//! With a frame size, each picture is first shrunk to fit it, as the kiosk's camera
//! would see the same scene (not counted either).
//!
//! After the cascade's lines, one line per strategy, each run alone on every picture:
//! what it reads, what it adds to the strategies before it in the cascade's order, what
//! it reads wrong (another text, or a text where there is no code), and its time; last,
//! the grey conversion's time.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};

use super::percentiles;
use crate::scan::decode::{self, Frame, Strategy, read_still};

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

/// What one strategy, run alone, did over the set.
#[derive(Default)]
struct Alone {
    reads: usize,
    added: usize,
    wrong: usize,
    ms: Vec<f64>,
}

/// Decodes every case, each picture shrunk to fit `frame` if given; returns one line per
/// category, the totals, a line per strategy, then the grey conversion's line.
pub fn run(cases: &[Case], frame: Option<(u32, u32)>) -> anyhow::Result<Vec<String>> {
    let mut total = Tally::default();
    let mut by_category: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut alone: Vec<Alone> = Strategy::ALL.iter().map(|_| Alone::default()).collect();
    let mut grey_ms = Vec::new();
    for case in cases {
        let mut reader = image::ImageReader::open(&case.path)
            .with_context(|| format!("cannot open {}", case.path.display()))?
            .with_guessed_format()?;
        let mut limits = image::Limits::default();
        limits.max_alloc = Some(MAX_PICTURE_ALLOC);
        reader.limits(limits);
        let mut picture = reader
            .decode()
            .with_context(|| format!("cannot decode {}", case.path.display()))?;
        if let Some((w, h)) = frame
            && (picture.width() > w || picture.height() > h)
        {
            picture = picture.resize(w, h, image::imageops::FilterType::Triangle);
        }
        let started = Instant::now();
        let gray = decode::grey(picture);
        grey_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        let started = Instant::now();
        let prepared = Frame::from_gray(gray);
        let read = read_still(&prepared);
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

        // The cascade stops at its first read, right or wrong: a strategy adds a read only
        // where none before it read anything.
        let mut read_before = false;
        for (strategy, alone) in Strategy::ALL.into_iter().zip(&mut alone) {
            let started = Instant::now();
            let found = decode::read(&prepared, strategy);
            alone.ms.push(started.elapsed().as_secs_f64() * 1000.0);
            let Some(found) = found else { continue };
            if found.text == case.expected {
                alone.reads += 1;
                alone.added += usize::from(!read_before);
            } else {
                alone.wrong += 1;
            }
            read_before = true;
        }
    }
    let mut lines: Vec<String> = by_category
        .iter()
        .map(|(category, tally)| format!("category={category} {}", tally.line()))
        .collect();
    lines.push(total.line());
    for (strategy, alone) in Strategy::ALL.into_iter().zip(alone) {
        let mean = alone.ms.iter().sum::<f64>() / alone.ms.len().max(1) as f64;
        let (median, p99) = percentiles(alone.ms);
        lines.push(format!(
            "strategy={} reads={} added={} wrong={} mean_ms={mean:.2} median_ms={median:.2} p99_ms={p99:.2}",
            strategy.name(),
            alone.reads,
            alone.added,
            alone.wrong
        ));
    }
    let (median, p99) = percentiles(grey_ms);
    lines.push(format!("stage=grey_conversion median_ms={median:.2} p99_ms={p99:.2}"));
    Ok(lines)
}
