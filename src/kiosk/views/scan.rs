//! The scan sheet: the camera's live picture and a frame to aim at, only while it is
//! open. What a read code does is the shell's (`shell::identify`). Also the camera's
//! health as the hub's heartbeat reports it (running, waiting and since when, absent).

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use slint::{ComponentHandle, Image, Timer, TimerMode};

use super::on;
use crate::kiosk::context::Ctx;
use crate::kiosk::images;
use crate::kiosk::ui::{AppAdapter, AppWindow};
use crate::protocol::fleet::{CameraHealth, CameraState};
use crate::scan::scanner::Camera;

/// How often the preview is refreshed.
const PREVIEW_EVERY: Duration = Duration::from_millis(66);

pub struct ScanSheet {
    ctx: Rc<Ctx>,
    preview_timer: Timer,
    /// Since when the camera has given no frame, while it gives none.
    waiting_since: Cell<Option<Instant>>,
}

pub fn setup(window: &AppWindow, ctx: &Rc<Ctx>) -> Rc<ScanSheet> {
    let sheet = Rc::new(ScanSheet {
        ctx: ctx.clone(),
        preview_timer: Timer::default(),
        waiting_since: Cell::default(),
    });
    on!(window, &sheet, AppAdapter.on_open_scan, |this| this.open());
    on!(window, &sheet, AppAdapter.on_close_scan, |this| this.close());
    sheet
}

impl ScanSheet {
    /// A camera reads codes for this kiosk; its preview shows what it sees.
    pub fn set_camera(&self, camera: Camera) {
        *self.ctx.camera.borrow_mut() = Some(camera);
        self.ctx.with_window(|w| w.global::<AppAdapter>().set_has_camera(true));
    }

    /// The camera's health at `now`, for the hub's heartbeat; called every few seconds,
    /// which is how long a wait for frames is timed to.
    pub fn health(&self, now: Instant) -> CameraHealth {
        let mut waiting_since = self.waiting_since.get();
        let health = camera_health(
            self.ctx.camera.borrow().as_ref(),
            &mut waiting_since,
            self.ctx.last_read.get(),
            now,
        );
        self.waiting_since.set(waiting_since);
        health
    }

    /// Opens the sheet, the camera's picture refreshed while it is open.
    pub fn open(&self) {
        let Some(camera) = self.ctx.camera.borrow().clone() else {
            return;
        };
        self.ctx.with_window(|w| w.global::<AppAdapter>().set_scan_open(true));
        let window = self.ctx.window.clone();
        show_preview(&self.preview_timer, &camera, move |picture| {
            if let Some(w) = window.upgrade() {
                w.global::<AppAdapter>().set_scan_preview(picture);
            }
        });
    }

    /// Closes the sheet; no picture of the camera is kept.
    pub fn close(&self) {
        self.preview_timer.stop();
        if let Some(camera) = self.ctx.camera.borrow().as_ref() {
            camera.preview.set_wanted(false);
        }
        self.ctx.with_window(|w| {
            let app = w.global::<AppAdapter>();
            app.set_scan_open(false);
            app.set_scan_preview(Image::default());
        });
    }
}

/// Puts what `camera` sees on screen through `show`, refreshed by `timer` until it is
/// stopped: the scan sheet's picture, and the first-start screen's (`kiosk::first_start`).
/// The scanner makes previews only from now on (none is kept while nobody looks).
pub fn show_preview(timer: &Timer, camera: &Camera, show: impl Fn(Image) + 'static) {
    let preview = camera.preview.clone();
    preview.set_wanted(true);
    timer.start(TimerMode::Repeated, PREVIEW_EVERY, move || {
        if let Some(picture) = preview.take() {
            show(Image::from_rgb8(images::from_gray(&picture)));
        }
    });
}

/// A camera's health from what its scanner counts: running while frames come, waiting
/// while none do (since `waiting_since`, which this keeps), absent when the kiosk has no
/// camera. `last_read` is when a code was last read.
pub fn camera_health(
    camera: Option<&Camera>,
    waiting_since: &mut Option<Instant>,
    last_read: Option<Instant>,
    now: Instant,
) -> CameraHealth {
    let Some(camera) = camera else {
        *waiting_since = None;
        return crate::sync::heartbeat::no_camera();
    };
    let fps = camera.stats.fps();
    let (state, waiting_seconds) = if fps > 0.0 {
        *waiting_since = None;
        (CameraState::Running, 0)
    } else {
        let since = *waiting_since.get_or_insert(now);
        (CameraState::Waiting, now.saturating_duration_since(since).as_secs())
    };
    CameraHealth {
        state,
        name: Some(camera.name.clone()).filter(|name| !name.is_empty()),
        fps: fps as f32,
        waiting_seconds,
        frames_given_up: camera.stats.over_budget.load(Ordering::Relaxed),
        minutes_since_read: last_read.map(|at| now.saturating_duration_since(at).as_secs() / 60),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn camera(fps_milli: u64) -> Camera {
        let camera = Camera {
            name: "USB camera".into(),
            stats: Arc::default(),
            preview: Arc::default(),
        };
        camera.stats.fps_milli.store(fps_milli, Ordering::Relaxed);
        camera.stats.over_budget.store(3, Ordering::Relaxed);
        camera
    }

    #[test]
    fn a_camera_is_running_while_frames_come_and_waiting_since_they_stopped() {
        let start = Instant::now();
        let mut since = None;
        let read = Some(start);
        let at = |seconds| start + Duration::from_secs(seconds);
        let running = camera_health(Some(&camera(15_000)), &mut since, read, at(120));
        assert_eq!(running.state, CameraState::Running);
        assert_eq!((running.fps, running.frames_given_up), (15.0, 3));
        assert_eq!(running.name.as_deref(), Some("USB camera"));
        assert_eq!(running.minutes_since_read, Some(2));
        assert_eq!(since, None);

        let stalled = camera(0);
        let first = camera_health(Some(&stalled), &mut since, read, at(130));
        assert_eq!((first.state, first.waiting_seconds), (CameraState::Waiting, 0));
        let later = camera_health(Some(&stalled), &mut since, read, at(175));
        assert_eq!((later.state, later.waiting_seconds), (CameraState::Waiting, 45));

        let back = camera_health(Some(&camera(14_000)), &mut since, read, at(180));
        assert_eq!((back.state, back.waiting_seconds), (CameraState::Running, 0));
        assert_eq!(since, None, "the wait ends when frames come again");
    }

    #[test]
    fn a_kiosk_without_a_camera_says_so() {
        let mut since = Some(Instant::now());
        let health = camera_health(None, &mut since, None, Instant::now());
        assert_eq!(health.state, CameraState::Absent);
        assert_eq!((health.name, health.minutes_since_read), (None, None));
        assert_eq!(since, None);
    }
}
