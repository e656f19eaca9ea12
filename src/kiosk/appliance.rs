//! The kiosk as the image runs it, under systemd: readiness, the watchdog pinged from
//! the UI thread (so a stuck event loop is caught, not just a dead process), the health
//! mark that keeps an app update, and — with the `linuxkms` backend — no keyboard
//! shortcuts.

use std::path::PathBuf;
use std::time::Duration;

use sd_notify::NotifyState;
use slint::ComponentHandle;

use super::ui;

/// Where the notifications go: systemd's socket in production, a recorder in tests.
pub type Notify = Box<dyn Fn(&[NotifyState])>;

/// systemd's notification socket (nothing happens outside a `Type=notify` service).
pub fn systemd() -> Notify {
    Box::new(|states| {
        if let Err(e) = sd_notify::notify(false, states) {
            tracing::warn!("cannot notify systemd: {e}");
        }
    })
}

/// The watchdog interval systemd asked for, if any.
pub fn watchdog_interval() -> Option<Duration> {
    let mut usec = 0;
    sd_notify::watchdog_enabled(false, &mut usec).then(|| Duration::from_micros(usec))
}

/// Keeps the timers alive while the window runs.
pub struct Supervision {
    _timers: Vec<slint::Timer>,
    _healthy: std::rc::Rc<slint::Timer>,
}

/// Once the event loop turns: tells systemd the kiosk is up, logs "kiosk ready",
/// then pings the watchdog at half its interval, from the UI thread. After
/// [`crate::update::HEALTHY_AFTER`] it writes the health mark at `health`, which keeps
/// an app update on trial.
pub fn supervise(
    window: &ui::AppWindow,
    notify: Notify,
    watchdog: Option<Duration>,
    health: Option<PathBuf>,
) -> Supervision {
    let notify = std::rc::Rc::new(notify);
    let ready = slint::Timer::default();
    let healthy = std::rc::Rc::new(slint::Timer::default());
    let weak = window.as_weak();
    let ready_notify = notify.clone();
    let mark_later = healthy.clone();
    ready.start(slint::TimerMode::SingleShot, Duration::ZERO, move || {
        if weak.upgrade().is_none() {
            return;
        }
        ready_notify(&[NotifyState::Ready, NotifyState::Status("attract screen shown")]);
        // The image's unit sends this log to the console too: its boot test waits for
        // it on the serial port.
        tracing::info!("kiosk ready");
        if let Some(health) = health.clone() {
            mark_later.start(slint::TimerMode::SingleShot, crate::update::HEALTHY_AFTER, move || {
                match crate::update::mark_healthy(&health, jiff::Timestamp::now()) {
                    Ok(()) => tracing::info!("reported healthy in {}", health.display()),
                    Err(e) => tracing::warn!("cannot write the health mark {}: {e:#}", health.display()),
                }
            });
        }
    });
    let mut timers = vec![ready];
    if let Some(interval) = watchdog {
        let ping = slint::Timer::default();
        ping.start(slint::TimerMode::Repeated, interval / 2, move || {
            notify(&[NotifyState::Watchdog])
        });
        timers.push(ping);
    }
    Supervision {
        _timers: timers,
        _healthy: healthy,
    }
}

/// Selects Slint's backend (as `SLINT_BACKEND` says) with the kiosk's input filter: on
/// the `linuxkms` backend, Ctrl+Alt+Backspace or Delete would quit the event loop, so
/// only an accessibility keypad's keys reach Slint (arrows, Enter, Escape, Tab, Shift,
/// Insert, F1, zero; [`super::a11y::keypad_key`]), never Ctrl, Alt or a letter (the
/// kiosk has its own keyboard on screen). Touch
/// follows the rotation through udev, before the app opens the device: see
/// [`super::settings::touch_calibration`].
#[cfg(feature = "linuxkms")]
pub fn select_backend() -> anyhow::Result<()> {
    slint::BackendSelector::new()
        .with_libinput_event_hook(|event| match event {
            input::Event::Keyboard(input::event::KeyboardEvent::Key(key)) => {
                !super::a11y::keypad_key(input::event::keyboard::KeyboardEventTrait::key(key))
            }
            input::Event::Keyboard(_) => true,
            _ => false,
        })
        .select()
        .map_err(|e| anyhow::anyhow!("cannot start the display: {e}"))
}
