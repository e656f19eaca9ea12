//! The kiosk without a display: a Slint platform with the software renderer, an event
//! loop we pump ourselves, and pointer events sent as a finger would.
//!
//! Used by `vitrine snapshot`, by the probes behind `vitrine bench`, and by the UI
//! tests; [`Stage`] drives any one window (the first-start screen's too), [`Headless`]
//! the kiosk's. Slint keeps one event-loop proxy per process, so one thread per
//! process drives the headless kiosk.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::path::Path;
use std::rc::Rc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType};
use slint::platform::{EventLoopProxy, Platform, PointerEventButton, WindowAdapter, WindowEvent};
use slint::{ComponentHandle, LogicalPosition, PhysicalSize};

use super::Kiosk;
use super::context::Clock;
use crate::sync::driver::SyncLink;

type Job = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct Queue {
    jobs: Mutex<VecDeque<Job>>,
    ready: Condvar,
}

struct Proxy(Arc<Queue>);

impl EventLoopProxy for Proxy {
    fn quit_event_loop(&self) -> Result<(), slint::EventLoopError> {
        Ok(())
    }

    fn invoke_from_event_loop(&self, job: Job) -> Result<(), slint::EventLoopError> {
        self.0
            .jobs
            .lock()
            .map_err(|_| slint::EventLoopError::EventLoopTerminated)?
            .push_back(job);
        self.0.ready.notify_all();
        Ok(())
    }
}

type WindowSlot = Rc<RefCell<Option<Rc<MinimalSoftwareWindow>>>>;

struct HeadlessPlatform {
    window: WindowSlot,
    queue: Arc<Queue>,
}

impl Platform for HeadlessPlatform {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, slint::PlatformError> {
        let window = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
        *self.window.borrow_mut() = Some(window.clone());
        Ok(window)
    }

    fn new_event_loop_proxy(&self) -> Option<Box<dyn EventLoopProxy>> {
        Some(Box::new(Proxy(self.queue.clone())))
    }
}

thread_local! {
    static INSTALLED: RefCell<Option<(WindowSlot, Arc<Queue>)>> = const { RefCell::new(None) };
}

/// Makes this thread's Slint platform the headless one (once per thread).
fn install() -> anyhow::Result<(WindowSlot, Arc<Queue>)> {
    INSTALLED.with(|installed| {
        if let Some(pair) = &*installed.borrow() {
            return Ok(pair.clone());
        }
        let window: WindowSlot = Rc::default();
        let queue = Arc::new(Queue::default());
        slint::platform::set_platform(Box::new(HeadlessPlatform {
            window: window.clone(),
            queue: queue.clone(),
        }))
        .context("another Slint platform is already in use in this process")?;
        *installed.borrow_mut() = Some((window.clone(), queue.clone()));
        Ok((window, queue))
    })
}

/// One window on the headless platform, and the event-loop queue: what drives a
/// component without a display (the kiosk's window, or the first-start screen's).
pub struct Stage {
    window: Rc<MinimalSoftwareWindow>,
    queue: Arc<Queue>,
}

impl Stage {
    /// Makes a component with `make` on this thread's headless platform, its window
    /// `size` pixels (not shown yet).
    pub fn create<C>(make: impl FnOnce() -> anyhow::Result<C>, size: (u32, u32)) -> anyhow::Result<(C, Stage)> {
        let (slot, queue) = install()?;
        // The window `make` creates, not one made before.
        *slot.borrow_mut() = None;
        let made = make()?;
        let window = slot.borrow().clone().context("Slint created no window")?;
        window.set_size(PhysicalSize::new(size.0, size.1));
        Ok((made, Stage { window, queue }))
    }

    pub fn resize(&self, size: (u32, u32)) {
        self.window.set_size(PhysicalSize::new(size.0, size.1));
    }

    /// Runs queued event-loop work and timers once; true if there was any.
    fn pump(&self) -> bool {
        let jobs: Vec<Job> = match self.queue.jobs.lock() {
            Ok(mut jobs) => jobs.drain(..).collect(),
            Err(_) => return false,
        };
        let busy = !jobs.is_empty();
        for job in jobs {
            job();
        }
        slint::platform::update_timers_and_animations();
        busy
    }

    /// Waits until `done` holds, running the event loop meanwhile.
    pub fn settle_until(&self, what: &str, done: impl Fn() -> bool) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let busy = self.pump();
            if !busy && done() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("the kiosk did not settle within 30 s waiting for {what}");
            }
            if !busy && let Ok(jobs) = self.queue.jobs.lock() {
                let _ = self.queue.ready.wait_timeout(jobs, Duration::from_millis(5));
            }
        }
    }

    /// Renders the current frame.
    pub fn render(&self) -> anyhow::Result<slint::SharedPixelBuffer<slint::Rgba8Pixel>> {
        Ok(self.window.window().take_snapshot()?)
    }

    /// A finger's tap at a logical position.
    pub fn tap(&self, x: f32, y: f32) {
        let position = LogicalPosition::new(x, y);
        let window = self.window.window();
        window.dispatch_event(WindowEvent::PointerMoved { position });
        window.dispatch_event(WindowEvent::PointerPressed {
            position,
            button: PointerEventButton::Left,
        });
        window.dispatch_event(WindowEvent::PointerReleased {
            position,
            button: PointerEventButton::Left,
        });
        window.dispatch_event(WindowEvent::PointerExited);
    }

    /// A finger's swipe from one logical position to another, in small steps.
    pub fn swipe(&self, from: (f32, f32), to: (f32, f32)) {
        let window = self.window.window();
        let at = |t: f32| LogicalPosition::new(from.0 + (to.0 - from.0) * t, from.1 + (to.1 - from.1) * t);
        window.dispatch_event(WindowEvent::PointerMoved { position: at(0.0) });
        window.dispatch_event(WindowEvent::PointerPressed {
            position: at(0.0),
            button: PointerEventButton::Left,
        });
        for step in 1..=10 {
            window.dispatch_event(WindowEvent::PointerMoved {
                position: at(step as f32 / 10.0),
            });
        }
        window.dispatch_event(WindowEvent::PointerReleased {
            position: at(1.0),
            button: PointerEventButton::Left,
        });
        window.dispatch_event(WindowEvent::PointerExited);
    }

    pub fn save_png(&self, path: &Path) -> anyhow::Result<()> {
        let frame = self.render()?;
        let image = image::RgbaImage::from_raw(frame.width(), frame.height(), frame.as_bytes().to_vec())
            .context("the frame has the size it says")?;
        image
            .save(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(())
    }
}

/// A kiosk on the headless platform.
pub struct Headless {
    pub kiosk: Kiosk,
    stage: Stage,
}

impl Headless {
    pub fn new(
        db: &Path,
        store: &str,
        size: (u32, u32),
        clock: Clock,
        sync: Option<SyncLink>,
    ) -> anyhow::Result<Headless> {
        let (kiosk, stage) = Stage::create(|| Kiosk::new(db, store, super::demo_pictures(), clock, sync), size)?;
        kiosk.window.show()?;
        Ok(Headless { kiosk, stage })
    }

    pub fn resize(&self, size: (u32, u32)) {
        self.stage.resize(size);
    }

    /// Waits until `done` holds, running the event loop meanwhile.
    pub fn settle_until(&self, what: &str, done: impl Fn() -> bool) -> anyhow::Result<()> {
        self.stage.settle_until(what, done)
    }

    /// Waits until every request has been answered and is on screen.
    pub fn settle(&self) -> anyhow::Result<()> {
        let pending = self.kiosk.pending.clone();
        self.settle_until("pending work", move || pending.is_idle())
    }

    /// Renders the current frame.
    pub fn render(&self) -> anyhow::Result<slint::SharedPixelBuffer<slint::Rgba8Pixel>> {
        self.stage.render()
    }

    /// A finger's tap at a logical position.
    pub fn tap(&self, x: f32, y: f32) {
        self.stage.tap(x, y);
    }

    /// A finger's swipe from one logical position to another, in small steps.
    pub fn swipe(&self, from: (f32, f32), to: (f32, f32)) {
        self.stage.swipe(from, to);
    }

    pub fn save_png(&self, path: &Path) -> anyhow::Result<()> {
        self.stage.save_png(path)
    }
}
