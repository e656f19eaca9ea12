//! Speech output for the kiosk's accessibility mode (feature `kiosk`, no Slint): text
//! in a language to sound, one utterance at a time, cut short by the next.
//!
//! - [`espeak`]: the synthesiser, the `espeak-ng` program (text on its standard input,
//!   a WAV stream on its output), one process per utterance;
//! - [`output`]: where the samples go: the sound card through ALSA, a WAV file, or a
//!   recorder the tests and `vitrine bench a11y` read;
//! - [`jack`]: headphones plugged into the kiosk, read from ALSA's jack control;
//! - [`Speaker`]: the thread between them, which a new utterance or `stop` interrupts
//!   within one audio period.
//!
//! Why a process and not the library: libespeak-ng is GPL-3.0 and keeps global state;
//! the program keeps our binary's licence, a crash of the synthesiser is a failed
//! utterance, and killing it is the interruption. Starting it costs ~6 ms to the first
//! samples on this machine (`vitrine bench a11y` prints it).

pub mod espeak;
pub mod jack;
pub mod output;
mod speaker;

pub use speaker::Speaker;

/// The languages the kiosk speaks (the screen's language).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    French,
    English,
}

impl Lang {
    /// The kiosk's language code (`fr`, `en`); anything else is English.
    pub fn from_code(code: &str) -> Lang {
        match code {
            "fr" => Lang::French,
            _ => Lang::English,
        }
    }
}

/// How fast and how loud: the shopper adjusts both in the accessibility panel; both
/// return to these defaults at the end of the visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Voice {
    /// Words per minute (espeak-ng's scale).
    pub rate: u16,
    /// Amplitude, 0 to 200 (espeak-ng's scale; 100 is its default).
    pub volume: u8,
}

impl Voice {
    pub const RATE_MIN: u16 = 100;
    pub const RATE_MAX: u16 = 350;
    pub const VOLUME_MAX: u8 = 200;

    /// A notch faster (`steps` > 0) or slower, within bounds.
    pub fn faster(self, steps: i32) -> Voice {
        let rate = (i32::from(self.rate) + steps * 25).clamp(i32::from(Voice::RATE_MIN), i32::from(Voice::RATE_MAX));
        Voice {
            rate: u16::try_from(rate).unwrap_or(Voice::RATE_MAX),
            ..self
        }
    }

    /// A notch louder (`steps` > 0) or quieter, within bounds; never silent.
    pub fn louder(self, steps: i32) -> Voice {
        let volume = (i32::from(self.volume) + steps * 20).clamp(20, i32::from(Voice::VOLUME_MAX));
        Voice {
            volume: u8::try_from(volume).unwrap_or(Voice::VOLUME_MAX),
            ..self
        }
    }
}

impl Default for Voice {
    fn default() -> Voice {
        Voice { rate: 175, volume: 100 }
    }
}

/// Something to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Utterance {
    pub text: String,
    pub lang: Lang,
    pub voice: Voice,
}

/// The longest text one utterance speaks (a product's description is cut, not read for
/// minutes): the rest is not what a shopper moving through a screen waits for.
pub const MAX_CHARS: usize = 600;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_and_volume_stay_within_bounds() {
        let voice = Voice::default();
        assert_eq!(voice.faster(1).rate, 200);
        assert_eq!(voice.faster(100).rate, Voice::RATE_MAX);
        assert_eq!(voice.faster(-100).rate, Voice::RATE_MIN);
        assert_eq!(voice.louder(-100).volume, 20, "never silent");
        assert_eq!(voice.louder(100).volume, Voice::VOLUME_MAX);
        assert_eq!(Lang::from_code("fr"), Lang::French);
        assert_eq!(Lang::from_code("de"), Lang::English);
    }
}
