//! The retailer's brand as the hub sends it to kiosks, with their settings: the name and
//! logo the kiosk shows, its colours, its type, the attract screen's words.
//!
//! Set once for the chain, in the console or `hub.toml [brand]`. [`Brand::check`] is
//! what both the hub (before saving) and kiosks (before applying) run: a brand that fails
//! it never reaches a screen. Unknown fields are ignored (kiosks receive this).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[cfg(feature = "hub")]
use utoipa::ToSchema;

use crate::brand::{ColourError, Rgb, Scheme};

/// The longest brand name, in characters: a wordmark, not a sentence.
pub const MAX_NAME_CHARS: usize = 40;
/// The longest welcome line of the attract screen, in characters.
pub const MAX_WELCOME_CHARS: usize = 120;
/// The largest logo file: a logo is a few kilobytes of SVG or a small PNG.
pub const MAX_LOGO_BYTES: usize = 256 * 1024;
/// The largest font file: a typeface's one style, with Latin and more.
pub const MAX_FONT_BYTES: usize = 2 * 1024 * 1024;
/// The longest font family name, in characters.
pub const MAX_FAMILY_CHARS: usize = 64;
/// The largest PNG logo, in pixels per side (kiosks draw it at most 144 px high).
pub const MAX_LOGO_SIDE: u32 = 4096;
/// The languages a welcome line can be written in (the kiosk's languages).
pub const LANGUAGES: [&str; 2] = ["fr", "en"];
/// The kiosk's own colours, used for whichever of the two a brand leaves unset.
pub const DEFAULT_BACKGROUND: Rgb = Rgb([0xf7, 0xf3, 0xee]);
pub const DEFAULT_ACCENT: Rgb = Rgb([0x9b, 0x3d, 0x27]);

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct Brand {
    /// The wordmark, as written. Empty: kiosks show the shop's name in its place.
    #[serde(default)]
    pub name: String,
    /// The logo, shown instead of the written name; kiosks fetch its bytes from
    /// `GET /v1/kiosk/brand/logo` when the digest changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo: Option<Logo>,
    /// The screens' background, `#rrggbb`; light enough for dark text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background: Option<String>,
    /// Sale prices, badges, the saved heart: `#rrggbb`, readable on the background.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accent: Option<String>,
    #[serde(default)]
    pub type_pair: TypePair,
    /// The brand's own typeface for titles and the wordmark (an OFL font it uploaded),
    /// over the type pair's; kiosks fetch it from `GET /v1/kiosk/brand/fonts/{sha256}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub titles_font: Option<Font>,
    /// The brand's own typeface for everything else.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_font: Option<Font>,
    /// The attract screen's welcome line in each language (`fr`, `en`), as written.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub welcome: BTreeMap<String, String>,
}

/// One of the brand's own fonts: its family name, as the font names itself, and the
/// SHA-256 (hex) of its file (TrueType or OpenType).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct Font {
    pub family: String,
    pub sha256: String,
}

/// Which logo: its SHA-256 (hex) and format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
pub struct Logo {
    pub sha256: String,
    pub format: LogoFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum LogoFormat {
    Svg,
    Png,
    /// A format a newer hub knows and this kiosk does not: it shows the brand's name.
    /// The hub never sends it.
    #[serde(other)]
    Unknown,
}

impl LogoFormat {
    /// What `bytes` are, from their first bytes: a PNG signature, or XML text with an
    /// `<svg>` element near the top.
    pub fn sniff(bytes: &[u8]) -> Option<LogoFormat> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            return Some(LogoFormat::Png);
        }
        // An SVG file is UTF-8 text from end to end.
        let text = std::str::from_utf8(bytes).ok()?;
        let head = text.get(..text.len().min(1024)).unwrap_or(text);
        let head = head.trim_start_matches('\u{feff}').trim_start();
        let svg = head.starts_with("<svg") || (head.starts_with('<') && head.contains("<svg"));
        svg.then_some(LogoFormat::Svg)
    }

    pub fn content_type(self) -> &'static str {
        match self {
            LogoFormat::Svg => "image/svg+xml",
            LogoFormat::Png => "image/png",
            LogoFormat::Unknown => "application/octet-stream",
        }
    }
}

/// The bundled typefaces a brand chooses between: titles and wordmark / everything else.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "hub", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum TypePair {
    /// Inter throughout: a concept store.
    Modern,
    /// EB Garamond titles over Inter text: a fashion house. Also what a pair a newer hub
    /// knows and this kiosk does not reads as (serde wants that one last).
    #[default]
    #[serde(other)]
    Classic,
}

impl TypePair {
    pub const ALL: [TypePair; 2] = [TypePair::Classic, TypePair::Modern];

    pub fn key(self) -> &'static str {
        match self {
            TypePair::Classic => "classic",
            TypePair::Modern => "modern",
        }
    }

    pub fn from_key(key: &str) -> Option<TypePair> {
        TypePair::ALL.into_iter().find(|p| p.key() == key)
    }
}

/// Why a brand cannot be used; [`std::fmt::Display`] says what to change.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BrandError {
    #[error("the brand name is at most {MAX_NAME_CHARS} characters, on one line")]
    Name,
    #[error("a welcome line is at most {MAX_WELCOME_CHARS} characters, on one line")]
    Welcome,
    #[error("welcome lines are written in {known}; not in {0:?}", known = LANGUAGES.join(" or "))]
    Language(String),
    #[error("a font is named by its SHA-256 and a family name of at most {MAX_FAMILY_CHARS} characters")]
    Font,
    #[error("the background: {0}")]
    Background(ColourError),
    #[error("the accent: {0}")]
    Accent(ColourError),
    #[error("{0}")]
    Contrast(ColourError),
}

/// One line of printable text, up to `max` characters (empty allowed): no control
/// characters, no line or paragraph separators, no bidirectional overrides (which can
/// make a name read backwards, or run into the text beside it).
fn one_line(text: &str, max: usize) -> bool {
    let breaks = |c: char| {
        c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    text.chars().count() <= max && !text.chars().any(breaks)
}

impl Brand {
    /// Whether kiosks can show this brand: lengths, languages, and colours that keep
    /// every text readable.
    pub fn check(&self) -> Result<(), BrandError> {
        if !one_line(&self.name, MAX_NAME_CHARS) {
            return Err(BrandError::Name);
        }
        for font in self.titles_font.iter().chain(&self.text_font) {
            let digest = font.sha256.len() == 64 && font.sha256.bytes().all(|b| b.is_ascii_hexdigit());
            if !digest || font.family.trim().is_empty() || !one_line(&font.family, MAX_FAMILY_CHARS) {
                return Err(BrandError::Font);
            }
        }
        for (lang, words) in &self.welcome {
            if !LANGUAGES.contains(&lang.as_str()) {
                return Err(BrandError::Language(lang.clone()));
            }
            if !one_line(words, MAX_WELCOME_CHARS) {
                return Err(BrandError::Welcome);
            }
        }
        self.scheme().map(|_| ())
    }

    /// The brand's colours over the kiosk's palette; `None` when it sets neither.
    pub fn colours(&self) -> Result<Option<Scheme>, BrandError> {
        if self.background.is_none() && self.accent.is_none() {
            return Ok(None);
        }
        self.scheme().map(Some)
    }

    fn scheme(&self) -> Result<Scheme, BrandError> {
        let background = match &self.background {
            Some(text) => text.parse().map_err(BrandError::Background)?,
            None => DEFAULT_BACKGROUND,
        };
        let accent = match &self.accent {
            Some(text) => text.parse().map_err(BrandError::Accent)?,
            None => DEFAULT_ACCENT,
        };
        Scheme::new(background, accent).map_err(BrandError::Contrast)
    }

    /// The welcome line in `lang`, else in the other language, else none.
    pub fn welcome_in(&self, lang: &str) -> Option<&str> {
        let written = |l: &str| self.welcome.get(l).map(|w| w.trim()).filter(|w| !w.is_empty());
        written(lang).or_else(|| LANGUAGES.iter().find_map(|l| written(l)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logos_are_told_apart_by_their_bytes() {
        assert_eq!(LogoFormat::sniff(b"\x89PNG\r\n\x1a\nrest"), Some(LogoFormat::Png));
        let svg = br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>"#;
        assert_eq!(LogoFormat::sniff(svg), Some(LogoFormat::Svg));
        assert_eq!(LogoFormat::sniff("\u{feff}  <svg/>".as_bytes()), Some(LogoFormat::Svg));
        for other in [
            &b"GIF89a"[..],
            b"<html><body>",
            b"",
            b"\xff\xd8\xff\xe0",
            b"<svg \xff\xfe/>",
        ] {
            assert_eq!(LogoFormat::sniff(other), None, "{other:?}");
        }
    }

    #[test]
    fn a_brand_is_checked_whole() {
        let mut brand = Brand {
            name: "Bijouterie Delvaux".into(),
            background: Some("#fbfaf7".into()),
            accent: Some("#1f4e5f".into()),
            ..Brand::default()
        };
        brand
            .welcome
            .insert("fr".into(), "Bijoux faits main à Bruxelles".into());
        assert_eq!(brand.check(), Ok(()));
        assert_eq!(brand.welcome_in("en"), Some("Bijoux faits main à Bruxelles"));

        let mut long = brand.clone();
        long.name = "x".repeat(41);
        assert_eq!(long.check(), Err(BrandError::Name));
        for broken in ["Bijouterie\nDelvaux", "Bijouterie\u{2028}Delvaux", "\u{202e}xuavleD"] {
            let mut two_lines = brand.clone();
            two_lines.name = broken.into();
            assert_eq!(two_lines.check(), Err(BrandError::Name), "{broken:?}");
        }
        let mut german = brand.clone();
        german.welcome.insert("de".into(), "Willkommen".into());
        assert!(matches!(german.check(), Err(BrandError::Language(_))));
        let mut black = brand.clone();
        black.background = Some("#000000".into());
        assert!(matches!(black.check(), Err(BrandError::Contrast(_))));
        let mut typo = brand.clone();
        typo.accent = Some("teal".into());
        assert!(matches!(typo.check(), Err(BrandError::Accent(ColourError::Form))));
        // Only an accent: checked against the kiosk's own background.
        let pale = Brand {
            accent: Some("#f2d8d0".into()),
            ..Brand::default()
        };
        assert!(pale.check().is_err());
        assert_eq!(Brand::default().colours(), Ok(None));
    }

    #[test]
    fn what_a_newer_hub_adds_does_not_stop_an_older_kiosk() {
        let brand: Brand = serde_json::from_str(r#"{"type_pair":"brutalist","later":1}"#).unwrap();
        assert_eq!(brand.type_pair, TypePair::Classic);
        let modern: Brand = serde_json::from_str(r#"{"type_pair":"modern"}"#).unwrap();
        assert_eq!(modern.type_pair, TypePair::Modern);
        // A logo format a newer hub knows: the brand still reads.
        let webp: Brand = serde_json::from_str(r#"{"name":"X","logo":{"sha256":"ab","format":"webp"}}"#).unwrap();
        assert_eq!(webp.logo.unwrap().format, LogoFormat::Unknown);
    }
}
