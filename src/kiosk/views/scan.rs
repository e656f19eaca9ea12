//! The scan sheet: the camera's live picture and a frame to aim at, only while it is
//! open. What a read code does is the shell's (`shell::identify`).

use std::rc::Rc;
use std::time::Duration;

use slint::{ComponentHandle, Image, Timer, TimerMode};

use super::on;
use crate::kiosk::context::Ctx;
use crate::kiosk::images;
use crate::kiosk::ui::{AppAdapter, AppWindow};
use crate::scan::scanner::Camera;

/// How often the preview is refreshed.
const PREVIEW_EVERY: Duration = Duration::from_millis(66);

pub struct ScanSheet {
    ctx: Rc<Ctx>,
    preview_timer: Timer,
}

pub fn setup(window: &AppWindow, ctx: &Rc<Ctx>) -> Rc<ScanSheet> {
    let sheet = Rc::new(ScanSheet {
        ctx: ctx.clone(),
        preview_timer: Timer::default(),
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

    /// Opens the sheet, the camera's picture refreshed while it is open.
    pub fn open(&self) {
        let Some(preview) = self.ctx.camera.borrow().as_ref().map(|c| c.preview.clone()) else {
            return;
        };
        preview.set_wanted(true);
        self.ctx.with_window(|w| w.global::<AppAdapter>().set_scan_open(true));
        let window = self.ctx.window.clone();
        self.preview_timer.start(TimerMode::Repeated, PREVIEW_EVERY, move || {
            if let (Some(w), Some(picture)) = (window.upgrade(), preview.take()) {
                w.global::<AppAdapter>()
                    .set_scan_preview(Image::from_rgb8(images::from_gray(&picture)));
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
