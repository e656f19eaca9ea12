//! Headphones in the kiosk's jack, as ALSA's jack controls say ("Headphone Jack" on
//! HD-Audio and most USB cards): plugging them in turns speech on, and only through
//! them are a shopper's own lines said.

use std::time::Duration;

/// How often the jack is looked at.
const EVERY: Duration = Duration::from_millis(500);

/// Whether headphones are plugged into `card` (`hw:0`), or `None` when it has no jack
/// control (no sound card, or one that cannot tell).
pub fn plugged(card: &str) -> Option<bool> {
    let hctl = alsa::hctl::HCtl::new(card, false).ok()?;
    hctl.load().ok()?;
    read(&hctl)
}

fn read(hctl: &alsa::hctl::HCtl) -> Option<bool> {
    hctl.elem_iter().find_map(|elem| {
        let id = elem.get_id().ok()?;
        let name = id.get_name().ok()?;
        if !is_headphone_jack(name) {
            return None;
        }
        elem.read().ok()?.get_boolean(0)
    })
}

/// The names cards give the control (`Headphone Jack`, `Front Headphone Jack`,
/// `Headphone Mic Jack`, `Headset Jack`).
fn is_headphone_jack(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.ends_with(" jack") && (name.contains("headphone") || name.contains("headset"))
}

/// Watches `card`'s jack on a thread of its own and calls `changed` with each new state
/// (the first one too). Returns `None`, with no thread, when the card has no jack
/// control.
pub fn watch(card: &str, changed: impl Fn(bool) + Send + 'static) -> Option<std::thread::JoinHandle<()>> {
    let hctl = alsa::hctl::HCtl::new(card, false).ok()?;
    hctl.load().ok()?;
    let first = read(&hctl)?;
    drop(hctl);
    let card = card.to_owned();
    changed(first);
    std::thread::Builder::new()
        .name("headphones".into())
        .spawn(move || {
            let mut last = first;
            loop {
                std::thread::sleep(EVERY);
                // Reopened each time: a USB card may come and go.
                if let Some(now) = plugged(&card)
                    && now != last
                {
                    last = now;
                    changed(now);
                }
            }
        })
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jack_controls_are_known_by_their_names() {
        for name in [
            "Headphone Jack",
            "Front Headphone Jack",
            "Headset Jack",
            "Headphone Mic Jack",
        ] {
            assert!(is_headphone_jack(name), "{name}");
        }
        for name in ["Mic Jack", "Line Out Jack", "Headphone Playback Switch", "Speaker"] {
            assert!(!is_headphone_jack(name), "{name}");
        }
        assert_eq!(plugged("hw:99"), None, "no such card");
    }
}
