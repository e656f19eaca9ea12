//! The scanning pipeline, off the UI thread: a capture thread that keeps only the latest
//! frame (a frame not yet decoded when the next arrives is dropped, never queued), and a
//! decode thread that reads each frame with the cascade's first strategies plus one of
//! the others, in turn, and reports each new payload once (the same payload is
//! debounced while it stays in view).
//!
//! The decoders run on a worker thread the decode thread waits on for at most
//! [`FRAME_BUDGET`]: a frame that takes longer is given up (the worker is left to finish
//! it and exit, and a fresh one takes the next frame), so no frame holds the pipeline
//! up for longer than that. A panicking decoder is "no code".

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::decode::{Frame, Read, Strategy, read};
use super::source::{FrameSource, Next};

/// How many of the cascade's first strategies every frame gets (zxing-cpp, on the frame
/// and inverted: most reads per millisecond); then one of the others, in turn.
const EVERY_FRAME: usize = 2;
/// The longest the pipeline waits for one frame's decoding.
pub const FRAME_BUDGET: Duration = Duration::from_millis(250);
/// Workers given up on and still busy, at most: past it, decoding waits for one to end.
const MAX_ABANDONED: usize = 2;

/// What the pipeline says.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A payload came into view. `latency` runs from the frame's capture to the read.
    Read {
        text: String,
        strategy: Strategy,
        latency: Duration,
    },
    /// The camera is not streaming (unplugged, or not there yet), and why; said once
    /// per outage. Frames come again when it is back.
    Waiting(String),
    /// A replay played its last frame.
    Ended,
    /// The source failed; the pipeline has stopped.
    Failed(String),
}

/// Counters for logs and the staff health screen.
#[derive(Debug, Default)]
pub struct Stats {
    pub frames: AtomicU64,
    pub decoded: AtomicU64,
    pub dropped: AtomicU64,
    pub slowest_us: AtomicU64,
    /// Frames given up on after [`FRAME_BUDGET`].
    pub over_budget: AtomicU64,
    /// Frames per second the source delivers, in thousandths (smoothed); 0 while waiting.
    pub fps_milli: AtomicU64,
}

impl Stats {
    fn record_interval(&self, interval: Duration) {
        let now = (1000.0 / interval.as_secs_f64().max(1e-3)) as u64;
        let before = self.fps_milli.load(Ordering::Relaxed);
        // An exponential average over about ten frames.
        let smoothed = if before == 0 { now } else { (before * 9 + now) / 10 };
        self.fps_milli.store(smoothed, Ordering::Relaxed);
    }

    /// Frames per second, for people.
    pub fn fps(&self) -> f64 {
        self.fps_milli.load(Ordering::Relaxed) as f64 / 1000.0
    }
}

/// How wide the live preview is, and how often it is refreshed at most.
const PREVIEW_WIDTH: u32 = 480;
const PREVIEW_EVERY: Duration = Duration::from_millis(66);

/// The latest camera picture, small and mirrored (the shopper sees the camera as a
/// mirror), while someone shows it (the scan sheet). Made on the capture thread, so the
/// UI only puts it on screen. Nothing is kept while nobody looks, and only the latest
/// picture ever.
#[derive(Default)]
pub struct Preview {
    wanted: AtomicBool,
    latest: Mutex<Option<image::GrayImage>>,
}

impl Preview {
    /// Starts or stops making previews; stopping drops the last one.
    pub fn set_wanted(&self, wanted: bool) {
        self.wanted.store(wanted, Ordering::Relaxed);
        if !wanted {
            lock(&self.latest).take();
        }
    }

    /// The newest preview not yet taken.
    pub fn take(&self) -> Option<image::GrayImage> {
        lock(&self.latest).take()
    }

    fn offer(&self, frame: &Frame, last: &mut Option<Instant>) {
        if !self.wanted.load(Ordering::Relaxed) || last.is_some_and(|at| at.elapsed() < PREVIEW_EVERY) {
            return;
        }
        *last = Some(Instant::now());
        *lock(&self.latest) = Some(image::imageops::flip_horizontal(&frame.thumbnail(PREVIEW_WIDTH)));
    }
}

#[derive(Default)]
struct Slot {
    latest: Mutex<Latest>,
    ready: Condvar,
}

#[derive(Default)]
struct Latest {
    frame: Option<(Frame, Instant)>,
    ended: Option<Event>,
}

/// What the UI keeps of a running scanner: its name, counters and live preview.
#[derive(Clone)]
pub struct Camera {
    pub name: String,
    pub stats: Arc<Stats>,
    pub preview: Arc<Preview>,
}

pub struct Scanner {
    events: mpsc::Receiver<Event>,
    name: String,
    stats: Arc<Stats>,
    preview: Arc<Preview>,
    stop: Arc<AtomicBool>,
    slot: Arc<Slot>,
    threads: Vec<JoinHandle<()>>,
}

impl Scanner {
    /// Starts capturing from `source` and decoding; a payload seen again within
    /// `debounce` of its last sighting is not reported again.
    pub fn start(mut source: Box<dyn FrameSource>, debounce: Duration) -> anyhow::Result<Scanner> {
        let name = source.describe();
        let (tx, events) = mpsc::channel();
        let stats = Arc::new(Stats::default());
        let stop = Arc::new(AtomicBool::new(false));
        let slot = Arc::new(Slot::default());
        let preview = Arc::new(Preview::default());

        let capture = {
            let (slot, stats, stop) = (slot.clone(), stats.clone(), stop.clone());
            let preview = preview.clone();
            let tx_status = tx.clone();
            std::thread::Builder::new().name("capture".into()).spawn(move || {
                let mut waiting = false;
                let mut last_frame: Option<Instant> = None;
                let mut last_preview: Option<Instant> = None;
                while !stop.load(Ordering::Relaxed) {
                    let end = match source.next_frame() {
                        Ok(Next::Frame(picture)) => {
                            waiting = false;
                            let now = Instant::now();
                            if let Some(last) = last_frame.replace(now) {
                                stats.record_interval(now - last);
                            }
                            let frame = Frame::new(picture);
                            preview.offer(&frame, &mut last_preview);
                            stats.frames.fetch_add(1, Ordering::Relaxed);
                            let mut latest = lock(&slot.latest);
                            if latest.frame.replace((frame, Instant::now())).is_some() {
                                stats.dropped.fetch_add(1, Ordering::Relaxed);
                            }
                            drop(latest);
                            slot.ready.notify_one();
                            continue;
                        }
                        Ok(Next::Waiting(why)) => {
                            last_frame = None;
                            stats.fps_milli.store(0, Ordering::Relaxed);
                            if !std::mem::replace(&mut waiting, true) {
                                let _ = tx_status.send(Event::Waiting(why));
                            }
                            continue;
                        }
                        Ok(Next::Ended) => Event::Ended,
                        Err(e) => Event::Failed(format!("{}: {e:#}", source.describe())),
                    };
                    lock(&slot.latest).ended = Some(end);
                    slot.ready.notify_one();
                    return;
                }
            })?
        };

        let decode = {
            let (slot, stats, stop) = (slot.clone(), stats.clone(), stop.clone());
            std::thread::Builder::new().name("decode".into()).spawn(move || {
                let mut last: Option<(String, Instant)> = None;
                let mut turn = 0;
                let mut worker = Worker::spawn();
                let mut abandoned: Vec<JoinHandle<()>> = Vec::new();
                loop {
                    let (frame, captured) = {
                        let mut latest = lock(&slot.latest);
                        loop {
                            if stop.load(Ordering::Relaxed) {
                                return;
                            }
                            if let Some(frame) = latest.frame.take() {
                                break frame;
                            }
                            if let Some(end) = latest.ended.take() {
                                let _ = tx.send(end);
                                return;
                            }
                            latest = slot
                                .ready
                                .wait_timeout(latest, Duration::from_millis(200))
                                .map(|(guard, _)| guard)
                                .unwrap_or_else(|e| e.into_inner().0);
                        }
                    };
                    let started = Instant::now();
                    let fallbacks = &Strategy::ALL[EVERY_FRAME..];
                    let fallback = fallbacks[turn % fallbacks.len()];
                    turn += 1;
                    let found = match worker.read(frame, fallback) {
                        Ok(found) => found,
                        Err(()) => {
                            stats.over_budget.fetch_add(1, Ordering::Relaxed);
                            abandoned.retain(|t| !t.is_finished());
                            if abandoned.len() >= MAX_ABANDONED {
                                let _ = abandoned.remove(0).join();
                            }
                            let fresh = Worker::spawn();
                            abandoned.extend(std::mem::replace(&mut worker, fresh).give_up());
                            None
                        }
                    };
                    let took = started.elapsed().as_micros() as u64;
                    stats.slowest_us.fetch_max(took, Ordering::Relaxed);
                    let Some(found) = found else { continue };
                    stats.decoded.fetch_add(1, Ordering::Relaxed);
                    let now = Instant::now();
                    let repeated = last
                        .as_ref()
                        .is_some_and(|(text, seen)| *text == found.text && now - *seen < debounce);
                    last = Some((found.text.clone(), now));
                    if !repeated {
                        let event = Event::Read {
                            text: found.text,
                            strategy: found.strategy,
                            latency: now - captured,
                        };
                        if tx.send(event).is_err() {
                            return;
                        }
                    }
                }
            })?
        };

        Ok(Scanner {
            events,
            name,
            stats,
            preview,
            stop,
            slot,
            threads: vec![capture, decode],
        })
    }

    pub fn events(&self) -> &mpsc::Receiver<Event> {
        &self.events
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The handles the UI keeps: name, counters, live preview.
    pub fn camera(&self) -> Camera {
        Camera {
            name: self.name.clone(),
            stats: self.stats.clone(),
            preview: self.preview.clone(),
        }
    }
}

impl Drop for Scanner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.slot.ready.notify_all();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// A thread that runs the decoders on one frame at a time.
struct Worker {
    jobs: mpsc::SyncSender<(Frame, Strategy)>,
    results: mpsc::Receiver<Option<Read>>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    fn spawn() -> Worker {
        let (jobs, job) = mpsc::sync_channel::<(Frame, Strategy)>(1);
        let (answer, results) = mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("decoder".into())
            .spawn(move || {
                for (frame, fallback) in job {
                    let found = Strategy::ALL[..EVERY_FRAME]
                        .iter()
                        .chain([&fallback])
                        .find_map(|&strategy| read(&frame, strategy));
                    if answer.send(found).is_err() {
                        return;
                    }
                }
            })
            .map_err(|e| tracing::error!("cannot start a decoder thread: {e}"))
            .ok();
        Worker { jobs, results, thread }
    }

    /// The frame's code, or `Err` if it took longer than [`FRAME_BUDGET`].
    fn read(&self, frame: Frame, fallback: Strategy) -> Result<Option<Read>, ()> {
        if self.jobs.send((frame, fallback)).is_err() {
            return Err(());
        }
        self.results.recv_timeout(FRAME_BUDGET).map_err(|_| ())
    }

    /// Lets the thread finish its frame and exit; its handle, to know when it has.
    fn give_up(self) -> Option<JoinHandle<()>> {
        self.thread
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
