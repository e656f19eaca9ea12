//! The chain's brand (`src/db/hub_v9.sql`): the name, logo, colours, type and welcome
//! words every kiosk shows. Set in the console, or fixed in `hub.toml [brand]` (a hub
//! without the console, or a chain that keeps its brand in configuration): a fixed brand
//! wins, and the console shows it without letting anyone change it.
//!
//! A brand is checked here, once, for every way in ([`Branding::new`]): lengths,
//! languages, colours that keep text readable, a logo that is an SVG or a PNG of at most
//! [`MAX_LOGO_BYTES`]. Kiosks receive it with their settings and fetch the logo by its
//! digest.

use std::sync::Arc;

use jiff::Timestamp;
use sha2::{Digest, Sha256};

use crate::db::{self, Sql, params};
use crate::protocol::brand::{
    Brand, BrandError, Font, Logo, LogoFormat, MAX_FAMILY_CHARS, MAX_FONT_BYTES, MAX_LOGO_BYTES, MAX_LOGO_SIDE,
};

/// A brand with its logo's bytes and its own fonts'.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Branding {
    /// `brand.logo`, `brand.titles_font` and `brand.text_font` name the files below by
    /// their digests.
    pub brand: Brand,
    pub logo: Option<Arc<[u8]>>,
    pub titles_font: Option<Arc<[u8]>>,
    pub text_font: Option<Arc<[u8]>>,
}

/// Which of the brand's own fonts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FontRole {
    /// Titles and the wordmark.
    Titles,
    /// Everything else.
    Text,
}

impl std::fmt::Debug for Branding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Branding")
            .field("brand", &self.brand)
            .field("logo_bytes", &self.logo.as_ref().map(|l| l.len()))
            .field("titles_font_bytes", &self.titles_font.as_ref().map(|f| f.len()))
            .field("text_font_bytes", &self.text_font.as_ref().map(|f| f.len()))
            .finish()
    }
}

/// Why a brand cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BrandingError {
    #[error(transparent)]
    Brand(#[from] BrandError),
    #[error(
        "the logo is {0} bytes; at most {MAX_LOGO_BYTES} are accepted (an SVG, or a PNG a few hundred pixels wide)"
    )]
    LogoTooLarge(usize),
    #[error("the logo is neither an SVG nor a PNG file")]
    LogoFormat,
    #[error(
        "the logo is {0}×{1} pixels; at most {MAX_LOGO_SIDE} on each side are accepted (kiosks show it at most 144 pixels high)"
    )]
    LogoSize(u32, u32),
    /// Kiosks draw SVG without fonts: live text would not show.
    #[error("the SVG logo has live text, which kiosks do not draw: convert its text to outlines (paths), or use a PNG")]
    LogoText,
    #[error("the font is {0} bytes; at most {MAX_FONT_BYTES} are accepted")]
    FontTooLarge(usize),
    #[error("the font is not a TrueType or OpenType file (.ttf, .otf; not WOFF)")]
    FontFormat,
    /// Kiosks show only fonts the retailer may embed in a device: the SIL Open Font
    /// License says so; other licences are for a lawyer, not a console.
    #[error("the font does not say it is under the SIL Open Font License (its licence fields name none)")]
    FontLicense,
    /// Kiosks draw no SVG filters (their cost has no bound).
    #[error(
        "the SVG logo uses filters (blur, shadow, texture), which kiosks do not draw: flatten them in your design tool, or use a PNG"
    )]
    LogoFilter,
}

impl Branding {
    /// Checks `brand` and the logo's bytes, and names the logo in the brand.
    pub fn new(mut brand: Brand, logo: Option<Vec<u8>>) -> Result<Branding, BrandingError> {
        // The fonts come with their files: [`Branding::set_font`].
        brand.titles_font = None;
        brand.text_font = None;
        brand.check()?;
        brand.name = brand.name.trim().to_owned();
        brand.welcome.retain(|_, words| !words.trim().is_empty());
        for words in brand.welcome.values_mut() {
            *words = words.trim().to_owned();
        }
        brand.logo = match &logo {
            None => None,
            Some(bytes) if bytes.len() > MAX_LOGO_BYTES => return Err(BrandingError::LogoTooLarge(bytes.len())),
            Some(bytes) => {
                let format = LogoFormat::sniff(bytes).ok_or(BrandingError::LogoFormat)?;
                if format == LogoFormat::Svg && bytes.windows(5).any(|w| w == b"<text") {
                    return Err(BrandingError::LogoText);
                }
                if format == LogoFormat::Svg && bytes.windows(7).any(|w| w == b"<filter") {
                    return Err(BrandingError::LogoFilter);
                }
                if format == LogoFormat::Png {
                    // The header's first chunk, IHDR: width and height, big-endian.
                    let side = |at: usize| {
                        bytes
                            .get(at..at + 4)
                            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                    };
                    match (side(16), side(20)) {
                        (Some(w), Some(h)) if (1..=MAX_LOGO_SIDE).contains(&w) && (1..=MAX_LOGO_SIDE).contains(&h) => {}
                        (Some(w), Some(h)) => return Err(BrandingError::LogoSize(w, h)),
                        _ => return Err(BrandingError::LogoFormat),
                    }
                }
                Some(Logo {
                    format,
                    sha256: hex::encode(Sha256::digest(bytes)),
                })
            }
        };
        Ok(Branding {
            brand,
            logo: logo.map(Arc::from),
            titles_font: None,
            text_font: None,
        })
    }

    /// Gives the brand its own font for `role` (checked: a TrueType or OpenType file under
    /// the SIL Open Font License), or takes it away (`None`).
    pub fn set_font(&mut self, role: FontRole, bytes: Option<Vec<u8>>) -> Result<(), BrandingError> {
        let font = bytes
            .map(|bytes| checked_font(&bytes).map(|family| (family, bytes)))
            .transpose()?;
        let (named, file) = match role {
            FontRole::Titles => (&mut self.brand.titles_font, &mut self.titles_font),
            FontRole::Text => (&mut self.brand.text_font, &mut self.text_font),
        };
        *named = font.as_ref().map(|(family, bytes)| Font {
            family: family.clone(),
            sha256: hex::encode(Sha256::digest(bytes)),
        });
        *file = font.map(|(_, bytes)| Arc::from(bytes));
        Ok(())
    }

    /// The brand's own font for `role`, if it has one.
    pub fn font(&self, role: FontRole) -> Option<&Arc<[u8]>> {
        match role {
            FontRole::Titles => self.titles_font.as_ref(),
            FontRole::Text => self.text_font.as_ref(),
        }
    }

    /// The font file with this digest, if the brand has it.
    pub fn font_by_digest(&self, sha256: &str) -> Option<&Arc<[u8]>> {
        let named = |font: &Option<Font>| font.as_ref().is_some_and(|f| f.sha256 == sha256);
        match () {
            () if named(&self.brand.titles_font) => self.titles_font.as_ref(),
            () if named(&self.brand.text_font) => self.text_font.as_ref(),
            () => None,
        }
    }
}

/// The family name of a font file kiosks may show: TrueType or OpenType, parsed
/// (ttf-parser reads hostile files without panicking), and under the SIL Open Font
/// License by its own licence fields.
fn checked_font(bytes: &[u8]) -> Result<String, BrandingError> {
    if bytes.len() > MAX_FONT_BYTES {
        return Err(BrandingError::FontTooLarge(bytes.len()));
    }
    let face = ttf_parser::Face::parse(bytes, 0).map_err(|_| BrandingError::FontFormat)?;
    let names = |id: u16| {
        face.names()
            .into_iter()
            .filter(move |n| n.name_id == id)
            .filter_map(|n| n.to_string())
    };
    let ofl = names(ttf_parser::name_id::LICENSE)
        .chain(names(ttf_parser::name_id::LICENSE_URL))
        .map(|text| text.to_lowercase())
        .any(|text| {
            text.contains("open font license")
                || text.contains("openfontlicense.org")
                || text.contains("scripts.sil.org/ofl")
        });
    if !ofl {
        return Err(BrandingError::FontLicense);
    }
    names(ttf_parser::name_id::TYPOGRAPHIC_FAMILY)
        .chain(names(ttf_parser::name_id::FAMILY))
        .map(|family| family.trim().chars().take(MAX_FAMILY_CHARS).collect::<String>())
        .find(|family| !family.is_empty() && !family.chars().any(char::is_control))
        .ok_or(BrandingError::FontFormat)
}

/// The brand kiosks show: `fixed` (from `hub.toml`) when there is one, else the one set
/// in the console, else none (kiosks keep their own look and show the shop's name).
pub fn current(conn: &dyn Sql, fixed: Option<&Branding>) -> db::Result<Branding> {
    if let Some(fixed) = fixed {
        return Ok(fixed.clone());
    }
    Ok(saved(conn)?.unwrap_or_default())
}

/// The brand kiosks are told of ([`current`] without the logo's bytes: every kiosk's
/// pull asks).
pub fn current_brand(conn: &dyn Sql, fixed: Option<&Branding>) -> db::Result<Brand> {
    if let Some(fixed) = fixed {
        return Ok(fixed.brand.clone());
    }
    let body: Option<String> = conn.query_opt("SELECT body FROM brand WHERE id = 1", params![], |r| r.get(0))?;
    Ok(body.and_then(|b| serde_json::from_str(&b).ok()).unwrap_or_default())
}

/// The brand's logo and its format: one column read, not the brand's every file
/// (kiosks ask for it alone).
pub fn logo(conn: &dyn Sql, fixed: Option<&Branding>) -> db::Result<Option<(LogoFormat, Arc<[u8]>)>> {
    if let Some(fixed) = fixed {
        return Ok(fixed
            .brand
            .logo
            .as_ref()
            .zip(fixed.logo.clone())
            .map(|(l, bytes)| (l.format, bytes)));
    }
    let Some(named) = current_brand(conn, None)?.logo else {
        return Ok(None);
    };
    let bytes: Option<Vec<u8>> = conn
        .query_opt("SELECT logo FROM brand WHERE id = 1", params![], |r| {
            r.get::<Option<Vec<u8>>>(0)
        })?
        .flatten();
    Ok(bytes.map(|b| (named.format, Arc::from(b))))
}

/// The brand's font with this digest: its one column read.
pub fn font(conn: &dyn Sql, fixed: Option<&Branding>, sha256: &str) -> db::Result<Option<Arc<[u8]>>> {
    if let Some(fixed) = fixed {
        return Ok(fixed.font_by_digest(sha256).cloned());
    }
    let brand = current_brand(conn, None)?;
    let named = |font: &Option<Font>| font.as_ref().is_some_and(|f| f.sha256 == sha256);
    let column = match () {
        () if named(&brand.titles_font) => "titles_font",
        () if named(&brand.text_font) => "text_font",
        () => return Ok(None),
    };
    let bytes: Option<Vec<u8>> = conn
        .query_opt(&format!("SELECT {column} FROM brand WHERE id = 1"), params![], |r| {
            r.get::<Option<Vec<u8>>>(0)
        })?
        .flatten();
    Ok(bytes.map(Arc::from))
}

/// The brand last set in the console, if any.
pub fn saved(conn: &dyn Sql) -> db::Result<Option<Branding>> {
    type Files = (Option<Vec<u8>>, Option<Vec<u8>>, Option<Vec<u8>>);
    conn.query_opt(
        "SELECT body, logo, titles_font, text_font FROM brand WHERE id = 1",
        params![],
        |r| Ok((r.get::<String>(0)?, (r.get(1)?, r.get(2)?, r.get(3)?))),
    )
    .map(|row: Option<(String, Files)>| {
        row.and_then(|(body, (logo, titles_font, text_font))| {
            // Written by this module from a checked brand; a newer hub's unreadable one
            // counts as none rather than stopping every kiosk's pull.
            let brand: Brand = serde_json::from_str(&body)
                .inspect_err(|e| tracing::warn!("the saved brand is unreadable: {e}"))
                .ok()?;
            Some(Branding {
                brand,
                logo: logo.map(Arc::from),
                titles_font: titles_font.map(Arc::from),
                text_font: text_font.map(Arc::from),
            })
        })
    })
}

/// Replaces the console's brand (the caller audits it: [`super::admin::set_brand`]).
pub fn save(conn: &dyn Sql, branding: &Branding, now: Timestamp) -> db::Result<()> {
    let body = serde_json::to_string(&branding.brand).map_err(db::Error::value)?;
    conn.execute(
        "INSERT INTO brand (id, body, logo, titles_font, text_font, updated_at) VALUES (1, ?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO UPDATE SET body = excluded.body, logo = excluded.logo,
             titles_font = excluded.titles_font, text_font = excluded.text_font,
             updated_at = excluded.updated_at",
        params![
            body,
            branding.logo.as_deref(),
            branding.titles_font.as_deref(),
            branding.text_font.as_deref(),
            now.as_millisecond()
        ],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The start of a PNG file of this size: its signature and IHDR chunk.
    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        bytes.extend(width.to_be_bytes());
        bytes.extend(height.to_be_bytes());
        bytes.extend([8, 6, 0, 0, 0]);
        bytes
    }

    #[test]
    fn logos_are_checked_and_named_by_digest() {
        let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"/>"#.to_vec();
        let made = Branding::new(Brand::default(), Some(svg.clone())).unwrap();
        let logo = made.brand.logo.unwrap();
        assert_eq!(logo.format, LogoFormat::Svg);
        assert_eq!(logo.sha256, hex::encode(Sha256::digest(&svg)));
        assert_eq!(
            Branding::new(Brand::default(), Some(b"GIF89a".to_vec())),
            Err(BrandingError::LogoFormat)
        );
        let lettered = br#"<svg xmlns="http://www.w3.org/2000/svg"><text>DELVAUX</text></svg>"#.to_vec();
        assert_eq!(
            Branding::new(Brand::default(), Some(lettered)),
            Err(BrandingError::LogoText)
        );
        assert!(Branding::new(Brand::default(), Some(png(800, 200))).is_ok());
        assert_eq!(
            Branding::new(Brand::default(), Some(png(10_000, 1_500))),
            Err(BrandingError::LogoSize(10_000, 1_500))
        );
        assert_eq!(
            Branding::new(Brand::default(), Some(b"\x89PNG\r\n\x1a\n".to_vec())),
            Err(BrandingError::LogoFormat),
            "a signature and nothing else"
        );
        let blurred = br#"<svg xmlns="http://www.w3.org/2000/svg"><filter id="f"><feGaussianBlur/></filter></svg>"#;
        assert_eq!(
            Branding::new(Brand::default(), Some(blurred.to_vec())),
            Err(BrandingError::LogoFilter)
        );
        let huge = [png(100, 100), vec![0; MAX_LOGO_BYTES]].concat();
        assert!(matches!(
            Branding::new(Brand::default(), Some(huge)),
            Err(BrandingError::LogoTooLarge(_))
        ));
    }

    const INTER: &[u8] = include_bytes!("../../assets/fonts/Inter-Regular.otf");

    #[test]
    fn own_fonts_must_be_open_font_license_fonts() {
        let mut branding = Branding::new(Brand::default(), None).unwrap();
        branding.set_font(FontRole::Titles, Some(INTER.to_vec())).unwrap();
        let titles = branding.brand.titles_font.clone().unwrap();
        assert_eq!(titles.family, "Inter");
        assert_eq!(
            branding.font_by_digest(&titles.sha256).map(|f| f.len()),
            Some(INTER.len())
        );
        assert_eq!(branding.brand.check(), Ok(()));
        // The same file with its licence words changed (same length: the tables stay whole).
        let closed = replace_utf16(INTER, "Open Font License", "Closed Font Terms");
        let closed = replace_utf16(&closed, "scripts.sil.org/OFL", "closed.example/TERM");
        assert_ne!(closed, INTER, "the licence words were found");
        assert_eq!(
            branding.set_font(FontRole::Text, Some(closed)),
            Err(BrandingError::FontLicense)
        );
        for bad in [&b"wOF2\0\0\0\0"[..], b"", &INTER[..200]] {
            assert_eq!(
                branding.set_font(FontRole::Text, Some(bad.to_vec())),
                Err(BrandingError::FontFormat)
            );
        }
        assert!(branding.brand.text_font.is_none(), "a refused font leaves none");
        branding.set_font(FontRole::Titles, None).unwrap();
        assert_eq!((branding.brand.titles_font, branding.titles_font), (None, None));
    }

    /// `text` with every UTF-16BE `from` (name records) and ASCII `from` replaced.
    fn replace_utf16(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
        let mut out = bytes.to_vec();
        let wide = |s: &str| s.encode_utf16().flat_map(u16::to_be_bytes).collect::<Vec<u8>>();
        for (from, to) in [
            (wide(from), wide(to)),
            (from.as_bytes().to_vec(), to.as_bytes().to_vec()),
        ] {
            let mut at = 0;
            while let Some(found) = out[at..].windows(from.len()).position(|w| w == from.as_slice()) {
                let start = at + found;
                out[start..start + to.len()].copy_from_slice(&to);
                at = start + to.len();
            }
        }
        out
    }

    #[test]
    fn the_console_brand_is_kept_and_a_fixed_one_wins() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open(&dir.path().join("hub.sqlite"), crate::db::Schema::Hub).unwrap();
        assert_eq!(current(&conn, None).unwrap(), Branding::default());
        let mut brand = Brand {
            name: "  Bijouterie Delvaux ".into(),
            accent: Some("#1f4e5f".into()),
            ..Brand::default()
        };
        brand.welcome.insert("en".into(), "   ".into());
        let mut set = Branding::new(brand, Some(png(400, 100))).unwrap();
        set.set_font(FontRole::Text, Some(INTER.to_vec())).unwrap();
        assert_eq!(set.brand.name, "Bijouterie Delvaux");
        assert!(set.brand.welcome.is_empty(), "blank lines are no lines");
        save(&conn, &set, Timestamp::now()).unwrap();
        assert_eq!(current(&conn, None).unwrap(), set);
        let fixed = Branding::new(
            Brand {
                name: "Atelier Nord".into(),
                ..Brand::default()
            },
            None,
        )
        .unwrap();
        assert_eq!(current(&conn, Some(&fixed)).unwrap(), fixed);
    }
}
