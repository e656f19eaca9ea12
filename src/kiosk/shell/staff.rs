//! Staff mode from the shell's side: the corner (five taps in three seconds) or a badge
//! opens the keypad, ending any visit; the right PIN enters staff mode (its own session
//! clock, longer than a visit); leaving it, or idling, empties every staff view.

use std::time::{Duration, Instant};

use slint::{ComponentHandle, SharedString};

use super::Shell;
use crate::kiosk::session::{Limits, Session};
use crate::kiosk::ui::{AppAdapter, Screen, StaffAdapter};
use crate::protocol::measure::VisitEnd;
use crate::staff::roster::Assistant;

/// Staff mode idles out as a visit does (a tablet left in staff mode goes back to the
/// shop floor), but a shift is longer than a visit.
const STAFF_MAX: Duration = Duration::from_secs(4 * 3600);

impl Shell {
    /// The keypad is open or staff mode is on.
    pub(super) fn in_staff(&self) -> bool {
        self.views.keypad.is_open() || self.staff_mode.get()
    }

    /// A tap on the attract screen's corner: the fifth within three seconds opens the
    /// keypad.
    pub(super) fn staff_corner(&self) {
        if self.corner.borrow_mut().tap(Instant::now()) {
            self.open_keypad(None);
        }
    }

    /// Opens the keypad, with `chosen`'s name picked (a scanned badge). A shopper's
    /// visit under way ends first, as for the next shopper: someone else's code was read.
    pub fn open_keypad(&self, chosen: Option<i64>) {
        if self.ctx.session.borrow().is_some() && !self.in_staff() {
            self.end_session(VisitEnd::NextShopper);
        }
        // The keypad asks again: whoever was in staff mode is out of it.
        if self.staff_mode.get() {
            self.leave_staff_mode();
        }
        // Never a PIN said aloud, nor a shopper's settings on the staff screens.
        self.a11y.reset();
        let limits = Limits {
            max: STAFF_MAX,
            ..self.limits.get()
        };
        *self.ctx.session.borrow_mut() = Some(Session::new(limits, Instant::now()));
        self.views.keypad.open(chosen);
        self.nav.borrow_mut().reset(Screen::StaffPin);
        self.show_screen();
    }

    /// The PIN was right: staff mode, on the stock tool.
    pub(super) fn enter_staff(&self, assistant: Assistant) {
        tracing::info!(staff = assistant.id, "staff mode opened");
        self.staff_mode.set(true);
        let mut can_scan = false;
        self.ctx.with_window(|w| {
            w.global::<StaffAdapter>()
                .set_staff_name(assistant.name.as_str().into());
            can_scan = w.global::<AppAdapter>().get_has_camera();
        });
        self.views.stock.set_active(true, can_scan);
        self.views.health.set_active(true);
        self.staff_screen(Screen::StaffStock);
    }

    /// Moves between the staff screens; only in staff mode.
    pub(super) fn staff_screen(&self, screen: Screen) {
        if !self.staff_mode.get() {
            return;
        }
        self.nav.borrow_mut().reset(screen);
        self.show_screen();
        if screen == Screen::StaffHealth {
            self.views.health.open();
        }
    }

    /// Leaves staff mode ("leave", or idle): back to the attract screen, every staff
    /// model emptied.
    pub fn exit_staff(&self) {
        *self.ctx.session.borrow_mut() = None;
        self.nav.borrow_mut().reset(Screen::Attract);
        self.views.scan.close();
        self.views.keypad.close();
        self.leave_staff_mode();
        self.ctx.with_window(|w| w.global::<AppAdapter>().set_idle_seconds(0));
        self.show_screen();
    }

    /// Staff mode off, its views emptied.
    fn leave_staff_mode(&self) {
        self.staff_mode.set(false);
        self.views.stock.set_active(false, false);
        self.views.health.set_active(false);
        self.ctx
            .with_window(|w| w.global::<StaffAdapter>().set_staff_name(SharedString::new()));
    }

    /// Opens the stock tool on a product by SKU, GTIN, MPN or product group (staff mode).
    pub fn look_up(&self, code: &str) {
        self.views.stock.look_up(code);
    }
}
