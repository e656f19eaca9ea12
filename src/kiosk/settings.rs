//! The kiosk image's one settings file (`kiosk-image/kiosk.toml` documents it), read by
//! `vitrine appliance` from the data partition.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, ensure};
use serde::Deserialize;

use super::session::Limits;

/// Larger than any honest settings file.
pub const MAX_BYTES: usize = 64 * 1024;

/// A mistake in the settings, which no restart can fix: `vitrine appliance` exits with
/// [`Invalid::EXIT_CODE`] and systemd does not restart it.
#[derive(Debug, thiserror::Error)]
#[error("{0:#}")]
pub struct Invalid(pub anyhow::Error);

impl Invalid {
    /// `EX_CONFIG` from sysexits.h (the image's unit: `RestartPreventExitStatus=78`).
    pub const EXIT_CODE: u8 = 78;
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The hub, e.g. `https://hub.example.com`. Without it the kiosk shows the demo store
    /// (unless `setup_screen` asks for the first-start screen).
    pub hub: Option<String>,
    /// The one-time code from `vitrine hub enroll-code`, used on the first start.
    /// Without it, a kiosk not enrolled yet shows the first-start screen, where store ops
    /// show it the code's QR from the console, or type the code.
    pub enrollment_code: Option<String>,
    /// Shows the first-start screen on a kiosk not enrolled yet even though no hub is
    /// named: the hub's address is then typed there too (or comes with the QR code), and
    /// the demo store is one tap away. An image can then leave the factory with this one
    /// line and be set up in the shop, with no file to edit. Off, a file without a hub
    /// shows the demo store, as a fresh image does.
    #[serde(default)]
    pub setup_screen: bool,
    /// The shop the kiosk must be enrolled in (as in the local inventory feed).
    pub store: Option<String>,
    /// This tablet's name on the hub.
    pub name: Option<String>,
    #[serde(default = "default_language")]
    pub language: String,
    /// Degrees clockwise: 0, 90, 180 or 270. Touch follows through udev: see
    /// [`touch_calibration`].
    #[serde(default)]
    pub rotation: u16,
    /// `/dev/vitrine-camera` (the image's stable name), `device:N`, or absent for none.
    pub camera: Option<String>,
    #[serde(default = "default_picture_cache")]
    pub picture_cache_mib: u64,
    #[serde(default)]
    pub idle: Idle,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Idle {
    /// Seconds without a tap before "Are you still there?".
    pub seconds: u64,
    /// Seconds the warning counts down.
    pub warning_seconds: u64,
    /// A visit ends after this long, whatever happens.
    pub session_max_minutes: u64,
}

impl Default for Idle {
    fn default() -> Self {
        Idle {
            seconds: 60,
            warning_seconds: 10,
            session_max_minutes: 30,
        }
    }
}

fn default_language() -> String {
    "fr".into()
}

fn default_picture_cache() -> u64 {
    512
}

impl Settings {
    /// Reads and checks `path`; each mistake is named with its line where TOML knows it.
    pub fn load(path: &Path) -> anyhow::Result<Settings> {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        ensure!(bytes.len() <= MAX_BYTES, "{} is larger than 64 KiB", path.display());
        let text = String::from_utf8(bytes).with_context(|| format!("{} is not UTF-8", path.display()))?;
        Self::parse(&text).with_context(|| format!("{} is not valid kiosk settings", path.display()))
    }

    pub fn parse(text: &str) -> anyhow::Result<Settings> {
        let settings: Settings = toml::from_str(text)?;
        settings.check()?;
        Ok(settings)
    }

    fn check(&self) -> anyhow::Result<()> {
        if let Some(hub) = &self.hub {
            ensure!(
                hub.starts_with("https://") || hub.starts_with("http://"),
                "hub must be an http(s) address, not {hub:?}"
            );
        }
        if let Some(store) = &self.store {
            ensure!(crate::protocol::valid_ref(store), "store {store:?} is not a shop code");
        }
        ensure!(
            matches!(self.language.as_str(), "fr" | "en"),
            "language must be fr or en, not {:?}",
            self.language
        );
        ensure!(
            matches!(self.rotation, 0 | 90 | 180 | 270),
            "rotation must be 0, 90, 180 or 270, not {}",
            self.rotation
        );
        ensure!(
            (16..=1_048_576).contains(&self.picture_cache_mib),
            "picture_cache_mib must be between 16 and 1048576"
        );
        let idle = &self.idle;
        ensure!(
            (5..=3600).contains(&idle.seconds),
            "idle.seconds must be between 5 and 3600"
        );
        ensure!(
            (3..=120).contains(&idle.warning_seconds),
            "idle.warning_seconds must be between 3 and 120"
        );
        ensure!(
            (1..=720).contains(&idle.session_max_minutes),
            "idle.session_max_minutes must be between 1 and 720"
        );
        Ok(())
    }

    pub fn limits(&self) -> Limits {
        Limits {
            idle: Duration::from_secs(self.idle.seconds),
            warning: Duration::from_secs(self.idle.warning_seconds),
            max: Duration::from_secs(self.idle.session_max_minutes * 60),
        }
    }

    /// The camera as a frame source spec: a device path (a udev symlink) is followed to
    /// its `/dev/videoN`. `None` when there is no camera, or it is not plugged in.
    pub fn camera_spec(&self) -> Option<String> {
        let camera = self.camera.as_deref()?;
        if !camera.starts_with('/') {
            return Some(camera.to_owned());
        }
        let real = std::fs::canonicalize(camera).ok()?;
        let index = real.file_name()?.to_str()?.strip_prefix("video")?;
        Some(format!("device:{index}"))
    }
}

/// What udev gives a touch screen as `LIBINPUT_CALIBRATION_MATRIX` (the image's
/// `70-vitrine.rules` runs `vitrine touch-calibration`): the panel's own matrix, `panel`
/// (set by an earlier rule; empty for none), turned with the settings' rotation.
/// libinput reads it when the app opens the device, so even the first touch lands
/// where it is aimed. `None` leaves the panel's matrix alone: no rotation, or no
/// settings yet (udev's first pass runs before the data partition is mounted).
pub fn touch_calibration(settings_file: &Path, panel: &str) -> anyhow::Result<Option<String>> {
    if !settings_file.exists() {
        return Ok(None);
    }
    let rotation = Settings::load(settings_file)?.rotation;
    if rotation == 0 {
        return Ok(None);
    }
    let own = parse_matrix(panel).with_context(|| format!("the panel's calibration {panel:?}"))?;
    let matrix = compose(rotation_matrix(rotation), own);
    // `+ 0.0` turns -0 into 0, for whoever reads `udevadm info`.
    let words: Vec<String> = matrix.iter().map(|v| (v + 0.0).to_string()).collect();
    Ok(Some(words.join(" ")))
}

/// libinput's six numbers, separated by spaces; empty is the identity.
fn parse_matrix(text: &str) -> anyhow::Result<[f32; 6]> {
    if text.trim().is_empty() {
        return Ok([1., 0., 0., 0., 1., 0.]);
    }
    ensure!(text.len() <= 256, "is longer than 256 bytes");
    let numbers = text
        .split_whitespace()
        .map(|word| word.parse::<f32>().ok().filter(|v| v.is_finite()))
        .collect::<Option<Vec<f32>>>()
        .context("is not made of numbers")?;
    numbers
        .try_into()
        .map_err(|numbers: Vec<f32>| anyhow::anyhow!("has {} numbers, not 6", numbers.len()))
}

/// The libinput calibration matrix that turns touch with a picture rotated `degrees`
/// clockwise by Slint's linuxkms backend: touch comes in panel coordinates, the
/// window is the rotated one.
fn rotation_matrix(degrees: u16) -> [f32; 6] {
    match degrees {
        90 => [0., 1., 0., -1., 0., 1.],
        180 => [-1., 0., 1., 0., -1., 1.],
        270 => [0., -1., 1., 1., 0., 0.],
        _ => [1., 0., 0., 0., 1., 0.],
    }
}

/// `outer` after `inner`, both as libinput's 2×3 affine matrices.
fn compose(outer: [f32; 6], inner: [f32; 6]) -> [f32; 6] {
    let [a, b, c, d, e, f] = outer;
    let [g, h, i, j, k, l] = inner;
    [
        a * g + b * j,
        a * h + b * k,
        a * i + b * l + c,
        d * g + e * j,
        d * h + e * k,
        d * i + e * l + f,
    ]
}

/// Where the appliance keeps what it writes, beside its settings file.
pub fn data_dir(settings_file: &Path) -> PathBuf {
    settings_file.parent().unwrap_or(Path::new(".")).join("data")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_file_parses_and_mistakes_are_named() {
        let documented = include_str!("../../kiosk-image/overlay/usr/share/vitrine/kiosk.toml");
        let settings = Settings::parse(documented).unwrap();
        assert_eq!(
            (settings.hub.as_deref(), settings.rotation, settings.language.as_str()),
            (None, 0, "fr")
        );
        assert!(!settings.setup_screen, "a fresh image shows the demo store");
        assert_eq!(settings.limits().idle, Duration::from_secs(60));
        // A hub without a code: the first-start screen enrolls the kiosk.
        let bare = Settings::parse("hub = \"https://hub.example.com\"").unwrap();
        assert_eq!((bare.enrollment_code, bare.setup_screen), (None, false));
        assert!(Settings::parse("setup_screen = true").unwrap().setup_screen);

        let cases = [
            ("rotation = 45", "rotation must be 0, 90, 180 or 270"),
            ("language = \"de\"", "language must be fr or en"),
            (
                "hub = \"ftp://x\"\nenrollment_code = \"A\"",
                "hub must be an http(s) address",
            ),
            ("[idle]\nseconds = 1", "idle.seconds must be between 5 and 3600"),
            ("rotaton = 90", "unknown field `rotaton`"),
            ("rotation = \"ninety\"", "invalid type"),
        ];
        for (text, expected) in cases {
            let error = format!("{:#}", Settings::parse(text).unwrap_err());
            assert!(error.contains(expected), "{text:?} gave {error}");
        }
    }

    /// Slint draws window point (x, y) of a picture turned 90° clockwise at panel point
    /// (1 - y, x) (normalised); the matrix must take the touch there back to (x, y).
    #[test]
    fn the_touch_matrix_undoes_the_picture_rotation() {
        let apply = |m: [f32; 6], (u, v): (f32, f32)| (m[0] * u + m[1] * v + m[2], m[3] * u + m[4] * v + m[5]);
        let window = (0.25, 0.125);
        let panel = |degrees: u16, (x, y): (f32, f32)| match degrees {
            90 => (1. - y, x),
            180 => (1. - x, 1. - y),
            270 => (y, 1. - x),
            _ => (x, y),
        };
        for degrees in [0, 90, 180, 270] {
            let back = apply(rotation_matrix(degrees), panel(degrees, window));
            assert!(
                (back.0 - window.0).abs() < 1e-6 && (back.1 - window.1).abs() < 1e-6,
                "{degrees}°: {back:?}"
            );
        }
        // A panel's own correction (from udev) applies first.
        let mirrored = [-1., 0., 1., 0., 1., 0.];
        let both = compose(rotation_matrix(180), mirrored);
        assert_eq!(apply(both, (0.25, 0.5)), (0.25, 0.5));
    }

    #[test]
    fn udev_gets_the_rotation_on_top_of_the_panels_own_matrix() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("kiosk.toml");
        let calibration = |panel: &str| touch_calibration(&file, panel).map_err(|e| format!("{e:#}"));
        assert_eq!(calibration(""), Ok(None), "no settings yet");
        std::fs::write(&file, "rotation = 0\n").unwrap();
        assert_eq!(calibration("-1 0 1 0 1 0"), Ok(None));
        std::fs::write(&file, "rotation = 90\n").unwrap();
        assert_eq!(calibration(""), Ok(Some("0 1 0 -1 0 1".into())));
        assert_eq!(calibration("-1 0 1 0 1 0"), Ok(Some("0 1 0 1 0 0".into())));
        assert!(calibration("1 0 0 0 1").unwrap_err().contains("has 5 numbers, not 6"));
        assert!(
            calibration("1 0 x 0 1 0")
                .unwrap_err()
                .contains("is not made of numbers")
        );
        assert!(
            calibration("1 0 NaN 0 1 0")
                .unwrap_err()
                .contains("is not made of numbers")
        );
        std::fs::write(&file, "rotation = 45\n").unwrap();
        assert!(
            calibration("")
                .unwrap_err()
                .contains("rotation must be 0, 90, 180 or 270")
        );
    }
}
