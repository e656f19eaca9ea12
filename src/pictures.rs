//! The kiosk's picture cache: files on disk under a byte cap, each fetched once from the
//! hub. A picture seen before shows with the network down; the least recently shown go
//! first when the cap is reached.
//!
//! Called from the kiosk's picture thread, so it blocks: a hit is a file read, a miss one
//! request to the hub. After the hub could not be reached, misses are not retried for
//! [`BACK_OFF`], so an offline kiosk shows blank pictures at once rather than one timeout
//! per card.

use std::collections::HashSet;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use sha2::{Digest, Sha256};

use crate::client::{KioskClient, PictureError};

/// The picture cache inside a kiosk's data directory.
pub const DIR: &str = "pictures";

/// How long misses are not fetched after the hub could not be reached.
pub const BACK_OFF: Duration = Duration::from_secs(15);
/// After an eviction the cache holds at most this share of its cap, so evictions are rare.
const LOW_WATER: f64 = 0.9;
/// URLs the hub refused are remembered (up to this many) rather than asked again.
const MAX_REFUSED: usize = 4096;

pub struct PictureCache {
    dir: PathBuf,
    cap: u64,
    client: KioskClient,
    runtime: tokio::runtime::Runtime,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    bytes: u64,
    offline_until: Option<Instant>,
    refused: HashSet<String>,
}

impl PictureCache {
    /// Opens the cache in `dir` (made if missing), counting what is already there and
    /// removing writes a crash left unfinished.
    pub fn open(dir: &Path, cap_bytes: u64, client: KioskClient) -> anyhow::Result<PictureCache> {
        fs::create_dir_all(dir)?;
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let cache = PictureCache {
            dir: dir.to_owned(),
            cap: cap_bytes,
            client,
            runtime,
            state: Mutex::new(State::default()),
        };
        let mut bytes = 0;
        for (path, len, _) in cache.files()? {
            if is_unfinished(&path) {
                let _ = fs::remove_file(&path);
            } else {
                bytes += len;
            }
        }
        cache.lock().bytes = bytes;
        if bytes > cap_bytes {
            cache.evict()?;
        }
        Ok(cache)
    }

    /// The picture at `url`: from disk, else from the hub (then kept); `None` if it cannot
    /// be had now.
    pub fn get(&self, url: &str) -> Option<Vec<u8>> {
        let path = self.path_of(url);
        if let Ok(mut file) = fs::File::open(&path) {
            let mut bytes = Vec::new();
            if file.read_to_end(&mut bytes).is_ok() {
                // Shown now: the last to go. Best effort, a failure only ages it.
                let _ = file.set_modified(SystemTime::now());
                return Some(bytes);
            }
        }
        {
            let state = self.lock();
            if state.refused.contains(url) || state.offline_until.is_some_and(|t| Instant::now() < t) {
                return None;
            }
        }
        match self.runtime.block_on(self.client.picture(url)) {
            Ok(bytes) => {
                if let Err(e) = self.keep(&path, &bytes) {
                    tracing::warn!(url, "cannot keep the picture on disk: {e:#}");
                }
                Some(bytes)
            }
            Err(PictureError::Unreachable(reason)) => {
                tracing::info!(url, reason, "picture not fetched; trying again in {BACK_OFF:?}");
                self.lock().offline_until = Some(Instant::now() + BACK_OFF);
                None
            }
            Err(e) => {
                tracing::warn!(url, "picture refused: {e}");
                let mut state = self.lock();
                if state.refused.len() >= MAX_REFUSED {
                    state.refused.clear();
                }
                state.refused.insert(url.to_owned());
                None
            }
        }
    }

    /// Bytes on disk now.
    pub fn bytes(&self) -> u64 {
        self.lock().bytes
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `dir/ab/abcdef…`: the SHA-256 of the URL, fanned out over 256 folders.
    fn path_of(&self, url: &str) -> PathBuf {
        let name = format!("{:x}", Sha256::digest(url.as_bytes()));
        self.dir.join(&name[..2]).join(name)
    }

    /// Writes the picture whole or not at all (a temporary file renamed into place).
    fn keep(&self, path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
        let folder = path.parent().expect("a picture path has a folder");
        fs::create_dir_all(folder)?;
        let mut file = tempfile::NamedTempFile::new_in(folder)?;
        file.write_all(bytes)?;
        file.persist(path)?;
        let over = {
            let mut state = self.lock();
            state.bytes += bytes.len() as u64;
            state.bytes > self.cap
        };
        if over {
            self.evict()?;
        }
        Ok(())
    }

    /// Removes the least recently shown pictures until the cache is under its low water.
    fn evict(&self) -> anyhow::Result<()> {
        let mut files = self.files()?;
        files.sort_by_key(|(_, _, shown)| *shown);
        let mut total: u64 = files.iter().map(|(_, len, _)| len).sum();
        let target = (self.cap as f64 * LOW_WATER) as u64;
        let mut removed = 0;
        for (path, len, _) in files {
            if total <= target {
                break;
            }
            if fs::remove_file(&path).is_ok() {
                total -= len;
                removed += 1;
            }
        }
        self.lock().bytes = total;
        tracing::info!(removed, bytes = total, "picture cache trimmed");
        Ok(())
    }

    /// Every file of the cache: path, size, last shown.
    fn files(&self) -> anyhow::Result<Vec<(PathBuf, u64, SystemTime)>> {
        let mut out = Vec::new();
        for folder in fs::read_dir(&self.dir)? {
            let folder = folder?.path();
            if !folder.is_dir() {
                continue;
            }
            for file in fs::read_dir(&folder)? {
                let file = file?;
                let meta = file.metadata()?;
                if meta.is_file() {
                    out.push((
                        file.path(),
                        meta.len(),
                        meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                    ));
                }
            }
        }
        Ok(out)
    }
}

/// Temporary files are named `.tmp…` by `tempfile`; finished pictures are hex names.
fn is_unfinished(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'))
}
