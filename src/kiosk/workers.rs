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
    done: oneshot::Sender<Option<Decoded>>,
}

/// Decodes pictures off the UI thread, at the size they are shown, with a cache bounded
/// in bytes.
#[derive(Clone)]
pub struct ImageWorker {
    jobs: mpsc::Sender<ImageJob>,
}

/// Decoded pictures kept for reuse, in bytes of pixels.
const CACHE_BYTES: usize = 48 << 20;

impl ImageWorker {
    pub fn start(source: ImageSource) -> ImageWorker {
        let (jobs, queue) = mpsc::channel::<ImageJob>();
        thread::Builder::new()
            .name("images".into())
            .spawn(move || {
                let mut cache: lru::LruCache<(String, (u32, u32)), Decoded> =
                    lru::LruCache::new(NonZeroUsize::new(4096).expect("non-zero"));
                let mut bytes = 0usize;
                for job in queue {
                    let key = (job.url, job.size);
                    if let Some(hit) = cache.get(&key) {
                        let _ = job.done.send(Some(hit.clone()));
                        continue;
                    }
                    let decoded = source(&key.0).and_then(|data| match super::images::decode(&data, key.1) {
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
        ImageWorker { jobs }
    }

    /// Decodes the picture at `url` to cover `size`; `None` if it cannot be shown.
    pub async fn load(&self, url: &str, size: (u32, u32)) -> Option<Decoded> {
        let (done, rx) = oneshot::channel();
        self.jobs
            .send(ImageJob {
                url: url.to_owned(),
                size,
                done,
            })
            .ok()?;
        rx.await.ok().flatten()
    }
}
