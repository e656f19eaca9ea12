//! The kiosk's start-up, measured as a tablet lives it: a fresh process each time, from
//! its start to its first frame drawn, with the memory it holds then. The child is this
//! same binary, run as `vitrine internal probe-startup` (see `kiosk::probes`).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::Context;

use super::percentiles;

/// Starts the kiosk on `db` five times and reports the median time to its first frame,
/// the slowest, and the child's own lines (its memory).
pub fn in_child(db: &Path, store: &str) -> anyhow::Result<Vec<String>> {
    let exe = std::env::current_exe()?;
    let mut times = Vec::new();
    let mut last = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let mut child = Command::new(&exe)
            .args(["internal", "probe-startup", "--db"])
            .arg(db)
            .args(["--store", store])
            .stdout(Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().context("child stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next().context("the kiosk exited before its first frame")??;
        anyhow::ensure!(first == "first_frame", "unexpected probe output: {first}");
        times.push(started.elapsed().as_secs_f64() * 1e3);
        last = lines.collect::<Result<Vec<_>, _>>()?;
        child.wait()?;
    }
    let (p50, _) = percentiles(times.clone());
    let worst = times.iter().copied().fold(0.0, f64::max);
    let mut out = vec![
        format!("first_frame_ms={p50:.0}"),
        format!("first_frame_max_ms={worst:.0}"),
    ];
    out.extend(last);
    Ok(out)
}
