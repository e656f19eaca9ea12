//! Measurements: what `vitrine bench …` and `vitrine eval …` print as `name=value`
//! lines, and the load the crash test drives. Targets are checked by reading these
//! numbers, never by timed assertions in tests.
//!
//! - [`catalog`]: import, search, lookup and product sheets on a generated catalog;
//! - [`search`]: search with typos, its recall@5 and latency, beside tantivy's;
//! - [`sync`]: hub ingest, kiosk drain, web store pull and catalog pull over loopback;
//! - [`qr`]: the QR cascade's decode rate and time on a manifest of photos;
//! - [`qr_screens`]: camera frames of codes on phone screens, rendered, for `qr`;
//! - [`feeds`]: how much of what real feeds list lands in the catalog;
//! - [`startup`]: the kiosk's start to its first frame, in a fresh process;
//! - [`exercise`]: random wishlist edits synced as they go, for the crash test;
//! - [`measure`]: kiosk events in, reports out, kiosk event recording;
//! - [`console`]: the console's pages and heartbeat ingest on a generated chain;
//! - [`chaos`]: a seeded run of edits, faults and restarts, then the invariants checked;
//! - [`proxy`]: a TCP proxy that breaks connections on demand, for it and the tests.
//!
//! The kiosk's own figures (start-up, scan to greeting, staff mode) need Slint and are
//! in `kiosk::probes`.

pub mod catalog;
#[cfg(feature = "hub")]
pub mod chaos;
#[cfg(feature = "hub")]
pub mod console;
pub mod exercise;
pub mod feeds;
#[cfg(feature = "hub")]
pub mod measure;
pub mod proxy;
#[cfg(feature = "kiosk")]
pub mod qr;
#[cfg(feature = "kiosk")]
pub mod qr_screens;
pub mod search;
#[cfg(feature = "kiosk")]
pub mod startup;
#[cfg(feature = "hub")]
pub mod sync;

/// A deterministic pseudo-random stream (SplitMix64): the same catalog and queries every run.
pub(crate) struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    /// A number from `low` up to (not including) `high`, uniformly.
    #[cfg(feature = "kiosk")]
    pub fn between(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * ((self.next() >> 11) as f64 / (1u64 << 53) as f64)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Median and 99th percentile, in milliseconds.
pub fn percentiles(mut samples_ms: Vec<f64>) -> (f64, f64) {
    if samples_ms.is_empty() {
        return (0.0, 0.0);
    }
    samples_ms.sort_by(f64::total_cmp);
    let at = |q: f64| samples_ms[((samples_ms.len() as f64 - 1.0) * q).round() as usize];
    (at(0.5), at(0.99))
}

/// `NAME_ms`, `NAME_p95_ms` and `NAME_max_ms` lines of timing samples, in milliseconds
/// (for runs of tens of rounds, where a p99 would be the maximum).
pub fn spread(name: &str, mut samples_ms: Vec<f64>) -> Vec<String> {
    if samples_ms.is_empty() {
        return Vec::new();
    }
    samples_ms.sort_by(f64::total_cmp);
    let at = |q: f64| samples_ms[((samples_ms.len() - 1) as f64 * q).round() as usize];
    vec![
        format!("{name}_ms={:.1}", at(0.5)),
        format!("{name}_p95_ms={:.1}", at(0.95)),
        format!("{name}_max_ms={:.1}", at(1.0)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_sample() {
        let (p50, p99) = percentiles((1..=100).map(f64::from).collect());
        assert_eq!((p50, p99), (51.0, 99.0));
    }

    #[test]
    fn spread_of_a_known_sample() {
        let lines = spread("x", (1..=100).map(f64::from).collect());
        assert_eq!(lines, ["x_ms=51.0", "x_p95_ms=95.0", "x_max_ms=100.0"]);
        assert!(spread("x", Vec::new()).is_empty());
    }
}
