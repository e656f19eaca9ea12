//! The retailer's colours, checked and spread over the kiosk's palette.
//!
//! A brand gives two colours: the background its screens sit on and an accent (sale
//! prices, badges, the saved heart). Text stays the kiosk's own near-black and greys, so
//! the one question is whether those, and the accent, still read on the brand's
//! background: WCAG 2.1 contrast, at least [`TEXT`] for text. The hub refuses colours that
//! fail, with the ratio it measured; kiosks check again and keep their own palette
//! rather than show unreadable text. Everything here is pure: no Slint, no I/O.

use std::fmt;
use std::str::FromStr;

use palette::Srgb;
use palette::color_difference::Wcag21RelativeContrast;

/// The least contrast for text (WCAG 2.1 AA, normal size).
pub const TEXT: f32 = 4.5;

/// The kiosk's own text colours (`ui/theme.slint`): brands do not change the first two.
pub const INK: Rgb = Rgb([0x1c, 0x1b, 0x1a]);
pub const INK_SOFT: Rgb = Rgb([0x5d, 0x59, 0x52]);
/// Faint text (captions, the shop's name), and the stock words: on a brand's background
/// they are darkened as far as needed to read at least as well as on the kiosk's own.
const INK_FAINT: Rgb = Rgb([0x6b, 0x66, 0x5f]);
const OK: Rgb = Rgb([0x3f, 0x6b, 0x4b]);
const WARN: Rgb = Rgb([0x84, 0x5a, 0x0f]);
/// The kiosk's own deep paper, which those ratios are measured on.
const PAPER_DEEP: Rgb = Rgb([0xef, 0xe8, 0xdf]);
const WHITE: Rgb = Rgb([0xff, 0xff, 0xff]);

/// An opaque sRGB colour, written `#rrggbb`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub [u8; 3]);

impl FromStr for Rgb {
    type Err = ColourError;

    /// Reads `#rrggbb` (the form a browser's colour field sends); nothing else.
    fn from_str(text: &str) -> Result<Rgb, ColourError> {
        let text = text.trim();
        let hex = text
            .strip_prefix('#')
            .filter(|h| h.len() == 6 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or(ColourError::Form)?;
        let parsed = Srgb::<u8>::from_str(hex).map_err(|_| ColourError::Form)?;
        Ok(Rgb([parsed.red, parsed.green, parsed.blue]))
    }
}

impl fmt::Display for Rgb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [r, g, b] = self.0;
        write!(f, "#{r:02x}{g:02x}{b:02x}")
    }
}

impl Rgb {
    fn linear(self) -> Srgb<f32> {
        Srgb::new(self.0[0], self.0[1], self.0[2]).into_format()
    }

    /// The WCAG 2.1 contrast ratio of the two colours, from 1 to 21.
    pub fn contrast(self, other: Rgb) -> f32 {
        self.linear().relative_contrast(other.linear())
    }

    /// `self` moved `amount` (0 to 1) of the way towards `other`.
    pub fn towards(self, other: Rgb, amount: f32) -> Rgb {
        let mix = |a: u8, b: u8| (f32::from(a) + (f32::from(b) - f32::from(a)) * amount).round() as u8;
        Rgb([
            mix(self.0[0], other.0[0]),
            mix(self.0[1], other.0[1]),
            mix(self.0[2], other.0[2]),
        ])
    }
}

/// Why a brand's colours were refused.
#[derive(Debug, Clone, PartialEq)]
pub enum ColourError {
    /// Not `#rrggbb`.
    Form,
    /// The kiosk's grey text on this background falls short of [`TEXT`].
    DarkBackground { background: Rgb, ratio: f32 },
    /// Accent text (or text on the accent) against the background, or against the
    /// lighter card colour made from it, falls short of [`TEXT`].
    FaintAccent { accent: Rgb, background: Rgb, ratio: f32 },
}

impl fmt::Display for ColourError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ColourError::Form => write!(f, "write a colour as #rrggbb, e.g. #9b3d27"),
            ColourError::DarkBackground { background, ratio } => write!(
                f,
                "the background {background} is too dark: grey text on it reads at {ratio:.1}:1, \
                 and at least {TEXT}:1 is needed; choose a lighter background"
            ),
            ColourError::FaintAccent {
                accent,
                background,
                ratio,
            } => write!(
                f,
                "the accent {accent} on {background} reads at {ratio:.1}:1, and sale prices and \
                 badges need at least {TEXT}:1; choose a deeper accent"
            ),
        }
    }
}

impl std::error::Error for ColourError {}

/// The palette a brand gives the kiosk: its background and accent, and the shades made
/// from them. Text colours are not here: they stay [`INK`] and [`INK_SOFT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scheme {
    pub paper: Rgb,
    /// Behind pictures and pressed buttons: a shade darker than the paper.
    pub paper_deep: Rgb,
    /// Cards over the paper: lighter.
    pub card: Rgb,
    /// Rules and borders.
    pub line: Rgb,
    pub accent: Rgb,
    /// Behind accent marks (the saved heart's button).
    pub accent_soft: Rgb,
    /// Faint text, and the "in stock" and "few left" words, kept as readable as on the
    /// kiosk's own paper.
    pub ink_faint: Rgb,
    pub ok: Rgb,
    pub warn: Rgb,
}

/// `text`, moved towards [`INK`] until it reads on `surface` at least as well as it
/// does on the kiosk's own deep paper, and never under [`TEXT`].
fn as_readable(text: Rgb, surface: Rgb) -> Rgb {
    let wanted = text.contrast(PAPER_DEEP).max(TEXT);
    (0..=20)
        .map(|step| text.towards(INK, step as f32 / 20.0))
        .find(|c| c.contrast(surface) >= wanted)
        .unwrap_or(INK)
}

impl Scheme {
    /// The scheme for these colours, once they pass the contrast checks.
    pub fn new(background: Rgb, accent: Rgb) -> Result<Scheme, ColourError> {
        let scheme = Scheme {
            paper: background,
            paper_deep: background.towards(INK, 0.035),
            card: background.towards(WHITE, 0.6),
            line: background.towards(INK, 0.12),
            accent,
            accent_soft: background.towards(accent, 0.12),
            ink_faint: INK_FAINT,
            ok: OK,
            warn: WARN,
        };
        // The darkest surface grey text sits on is the deep paper.
        let ratio = INK_SOFT.contrast(scheme.paper_deep);
        if ratio < TEXT {
            return Err(ColourError::DarkBackground { background, ratio });
        }
        // Accent text sits on the paper, the deep paper, the cards and its own soft tint;
        // paper-coloured text on the accent.
        for surface in [scheme.paper, scheme.paper_deep, scheme.card, scheme.accent_soft] {
            let ratio = accent.contrast(surface);
            if ratio < TEXT {
                return Err(ColourError::FaintAccent {
                    accent,
                    background: surface,
                    ratio,
                });
            }
        }
        Ok(Scheme {
            ink_faint: as_readable(INK_FAINT, scheme.paper_deep),
            ok: as_readable(OK, scheme.paper_deep),
            warn: as_readable(WARN, scheme.paper_deep),
            ..scheme
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rgb(text: &str) -> Rgb {
        text.parse().unwrap()
    }

    #[test]
    fn colours_are_read_as_hex_and_written_back() {
        assert_eq!(rgb("#9B3D27").to_string(), "#9b3d27");
        assert_eq!(rgb(" #000000 ").0, [0, 0, 0]);
        for bad in [
            "9b3d27",
            "#9b3d2",
            "#9b3d27ff",
            "#abc",
            "red",
            "#gg0000",
            "",
            "#",
            "#aé€",
            "#€aaa",
            "#+f+f+f",
        ] {
            assert_eq!(bad.parse::<Rgb>(), Err(ColourError::Form), "{bad:?}");
        }
    }

    #[test]
    fn contrast_follows_wcag() {
        assert!((WHITE.contrast(Rgb([0, 0, 0])) - 21.0).abs() < 0.01);
        assert!((WHITE.contrast(WHITE) - 1.0).abs() < 0.001);
        // #767676 on white is the classic 4.54:1.
        let grey = rgb("#767676").contrast(WHITE);
        assert!((4.5..4.6).contains(&grey), "{grey}");
    }

    #[test]
    fn the_built_in_colours_pass() {
        let scheme = Scheme::new(rgb("#f7f3ee"), rgb("#9b3d27")).unwrap();
        assert_eq!(scheme.paper, rgb("#f7f3ee"));
        assert!(scheme.card.contrast(INK) > scheme.paper.contrast(INK));
        assert!(scheme.paper_deep.contrast(INK) < scheme.paper.contrast(INK));
    }

    #[test]
    fn unreadable_colours_are_refused_with_the_ratio() {
        // A black background: grey text vanishes.
        match Scheme::new(rgb("#111111"), rgb("#9b3d27")) {
            Err(ColourError::DarkBackground { ratio, .. }) => assert!(ratio < 3.0, "{ratio}"),
            other => panic!("{other:?}"),
        }
        // A mid-grey background is too dark too.
        assert!(matches!(
            Scheme::new(rgb("#8a8a8a"), rgb("#000000")),
            Err(ColourError::DarkBackground { .. })
        ));
        // A pale pink accent on cream: sale prices would vanish.
        let refused = Scheme::new(rgb("#fbf7f2"), rgb("#f4b6c2")).unwrap_err();
        assert!(matches!(refused, ColourError::FaintAccent { .. }));
        assert!(refused.to_string().contains(":1"), "{refused}");
        // The same accent as the background.
        assert!(Scheme::new(rgb("#1f4e5f"), rgb("#1f4e5f")).is_err());
    }

    #[test]
    fn every_accepted_scheme_keeps_text_readable() {
        // Every pair on a coarse grid: what passes must read, whatever it is.
        let steps = [0x00, 0x33, 0x66, 0x99, 0xcc, 0xff];
        for &r in &steps {
            for &g in &steps {
                for &b in &steps {
                    let background = Rgb([r, g, b]);
                    for accent in [rgb("#9b3d27"), rgb("#1f4e5f"), rgb("#c9a227"), rgb("#000000")] {
                        if let Ok(s) = Scheme::new(background, accent) {
                            for surface in [s.paper, s.paper_deep, s.card] {
                                assert!(INK.contrast(surface) >= TEXT);
                                assert!(INK_SOFT.contrast(surface) >= TEXT);
                                assert!(s.accent.contrast(surface) >= TEXT);
                                // Never worse than on the kiosk's own paper.
                                for (text, own) in [(s.ink_faint, INK_FAINT), (s.ok, OK), (s.warn, WARN)] {
                                    assert!(text.contrast(surface) + 0.01 >= own.contrast(PAPER_DEEP));
                                }
                            }
                            assert!(s.accent.contrast(s.accent_soft) >= TEXT);
                        }
                    }
                }
            }
        }
    }
}
