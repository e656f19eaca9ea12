//! The scanning pipeline, off the UI thread: a capture thread that keeps only the latest
//! frame (a frame not yet decoded when the next arrives is dropped, never queued), and a
//! decode thread that reads each frame with rxing plus one fallback strategy, in turn,
//! and reports each new payload once (the same payload is debounced while it stays in
//! view). A panicking decoder is "no code"; a slow frame only means frames are dropped
//! meanwhile.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::decode::{Frame, Strategy, read};
use super::source::FrameSource;

/// Tried on every frame after rxing, one per frame, in turn.
const FALLBACKS: [Strategy; 2] = [Strategy::Rqrr, Strategy::Inverted];

/// What the pipeline says.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A payload came into view. `latency` runs from the frame's capture to the read.
    Read {
        text: String,
        strategy: Strategy,
        latency: Duration,
    },
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

pub struct Scanner {
    events: mpsc::Receiver<Event>,
    stats: Arc<Stats>,
    stop: Arc<AtomicBool>,
    slot: Arc<Slot>,
    threads: Vec<JoinHandle<()>>,
}

impl Scanner {
    /// Starts capturing from `source` and decoding; a payload seen again within
    /// `debounce` of its last sighting is not reported again.
    pub fn start(mut source: Box<dyn FrameSource>, debounce: Duration) -> anyhow::Result<Scanner> {
        let (tx, events) = mpsc::channel();
        let stats = Arc::new(Stats::default());
        let stop = Arc::new(AtomicBool::new(false));
        let slot = Arc::new(Slot::default());

        let capture = {
            let (slot, stats, stop) = (slot.clone(), stats.clone(), stop.clone());
            std::thread::Builder::new().name("capture".into()).spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let end = match source.next_frame() {
                        Ok(Some(picture)) => {
                            let frame = Frame::new(&picture);
                            stats.frames.fetch_add(1, Ordering::Relaxed);
                            let mut latest = lock(&slot.latest);
                            if latest.frame.replace((frame, Instant::now())).is_some() {
                                stats.dropped.fetch_add(1, Ordering::Relaxed);
                            }
                            drop(latest);
                            slot.ready.notify_one();
                            continue;
                        }
                        Ok(None) => Event::Ended,
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
                    let fallback = FALLBACKS[turn % FALLBACKS.len()];
                    turn += 1;
                    let found = read(&frame, Strategy::Rxing).or_else(|| read(&frame, fallback));
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
            stats,
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

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
