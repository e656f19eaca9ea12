//! The threads that keep the UI thread free: one owns the catalog's SQLite connection,
//! one decodes pictures. UI code awaits their answers inside `slint::spawn_local` tasks,
//! so it reads top to bottom and still runs on the UI thread.
//!
//! [`Pending`] counts those tasks until they finish, so headless snapshots and tests can
//! wait until everything asked for is on screen.

use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;

use slint::{Rgb8Pixel, SharedPixelBuffer};
use tokio::sync::oneshot;

use crate::catalog::{Catalog, CatalogError};

/// Counts UI tasks in flight, from request to their answer applied on screen.
#[derive(Clone, Default)]
pub struct Pending(Arc<AtomicUsize>);

impl Pending {
    pub fn ticket(&self) -> Ticket {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ticket(self.0.clone())
    }

    pub fn is_idle(&self) -> bool {
        self.0.load(Ordering::SeqCst) == 0
    }
}

/// Held by a task until it finishes; dropping it marks the task done.
pub struct Ticket(Arc<AtomicUsize>);

impl Drop for Ticket {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

type CatalogJob = Box<dyn FnOnce(&mut Catalog) + Send>;

/// The thread that owns the catalog connection.
#[derive(Clone)]
pub struct CatalogWorker {
    jobs: mpsc::Sender<CatalogJob>,
}

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error("the catalog thread has stopped")]
    Stopped,
}

impl CatalogWorker {
    pub fn start(path: &Path) -> Result<CatalogWorker, CatalogError> {
        let mut catalog = Catalog::open(path)?;
        let (jobs, queue) = mpsc::channel::<CatalogJob>();
        thread::Builder::new()
            .name("catalog".into())
            .spawn(move || {
                for job in queue {
                    job(&mut catalog);
                }
            })
            .expect("the OS lets us start a thread");
        Ok(CatalogWorker { jobs })
    }

    /// Runs `query` on the catalog thread. It gets the connection mutably for the few
    /// writes the kiosk makes itself (wishlist edits).
    pub async fn run<R: Send + 'static>(
        &self,
        query: impl FnOnce(&mut Catalog) -> Result<R, CatalogError> + Send + 'static,
    ) -> Result<R, WorkerError> {
        let (tx, rx) = oneshot::channel();
        let job: CatalogJob = Box::new(move |catalog| {
            let _ = tx.send(query(catalog));
        });
        self.jobs.send(job).map_err(|_| WorkerError::Stopped)?;
        Ok(rx.await.map_err(|_| WorkerError::Stopped)??)
    }

    /// Runs `job` on the catalog thread without waiting for it: a write nobody waits on
    /// (a measurement event). The job logs its own failure.
    pub fn fire(&self, job: impl FnOnce(&mut Catalog) + Send + 'static) {
        if self.jobs.send(Box::new(job)).is_err() {
            tracing::warn!("the catalog thread has stopped; a write was dropped");
        }
    }
}

/// Where picture bytes come from: the demo's embedded files, or (later) the disk cache
/// the hub fills.
pub type ImageSource = Arc<dyn Fn(&str) -> Option<Vec<u8>> + Send + Sync>;

type Decoded = SharedPixelBuffer<Rgb8Pixel>;
struct ImageJob {
    url: String,
    size: (u32, u32),
    /// What a transparent picture is flattened onto: the paper it is shown on.
    backdrop: [u8; 3],
    done: oneshot::Sender<Option<Decoded>>,
}

/// Decodes pictures off the UI thread, at the size they are shown, with a cache bounded
/// in bytes.
#[derive(Clone)]
pub struct ImageWorker {
    jobs: mpsc::Sender<ImageJob>,
    /// The paper colour pictures are flattened onto (the brand's), as `0xRRGGBB`.
    backdrop: Arc<std::sync::atomic::AtomicU32>,
}

/// Decoded pictures kept for reuse, in bytes of pixels.
const CACHE_BYTES: usize = 48 << 20;

impl ImageWorker {
    pub fn start(source: ImageSource) -> ImageWorker {
        let (jobs, queue) = mpsc::channel::<ImageJob>();
        thread::Builder::new()
            .name("images".into())
            .spawn(move || {
                type Key = (String, (u32, u32), [u8; 3]);
                let mut cache: lru::LruCache<Key, Decoded> =
                    lru::LruCache::new(NonZeroUsize::new(4096).expect("non-zero"));
                let mut bytes = 0usize;
                for job in queue {
                    let key = (job.url, job.size, job.backdrop);
                    if let Some(hit) = cache.get(&key) {
                        let _ = job.done.send(Some(hit.clone()));
                        continue;
                    }
                    let decoded = source(&key.0).and_then(|data| match super::images::decode(&data, key.1, key.2) {
                        Ok(buffer) => Some(buffer),
                        Err(e) => {
                            tracing::warn!(url = %key.0, "cannot show picture: {e}");
                            None
                        }
                    });
                    if let Some(buffer) = &decoded {
                        bytes += buffer.as_bytes().len();
                        cache.put(key, buffer.clone());
                        while bytes > CACHE_BYTES {
                            match cache.pop_lru() {
                                Some((_, old)) => bytes -= old.as_bytes().len(),
                                None => break,
                            }
                        }
                    }
                    let _ = job.done.send(decoded);
                }
            })
            .expect("the OS lets us start a thread");
        let [r, g, b] = super::images::PAPER;
        let backdrop = Arc::new(std::sync::atomic::AtomicU32::new(u32::from_be_bytes([0, r, g, b])));
        ImageWorker { jobs, backdrop }
    }

    /// Flattens pictures decoded from now on onto `paper` (a brand's background).
    pub fn set_backdrop(&self, paper: [u8; 3]) {
        let [r, g, b] = paper;
        self.backdrop
            .store(u32::from_be_bytes([0, r, g, b]), std::sync::atomic::Ordering::Relaxed);
    }

    /// Decodes the picture at `url` to cover `size`; `None` if it cannot be shown.
    pub async fn load(&self, url: &str, size: (u32, u32)) -> Option<Decoded> {
        let (done, rx) = oneshot::channel();
        self.jobs
            .send(ImageJob {
                url: url.to_owned(),
                size,
                backdrop: {
                    let [_, r, g, b] = self.backdrop.load(std::sync::atomic::Ordering::Relaxed).to_be_bytes();
                    [r, g, b]
                },
                done,
            })
            .ok()?;
        rx.await.ok().flatten()
    }
}
