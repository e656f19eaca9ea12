//! The retailer's brand on screen: its name or logo as the wordmark, its colours over the
//! theme's, its type pair, the attract screen's welcome line.
//!
//! The hub sends the brand with the kiosk's settings and the sync thread keeps its logo
//! and fonts (`trust::brand_logo`, `trust::brand_font`); the shell's status refresh reads
//! the new ones ([`Arrived::read`], on the catalog thread) and hands them here, so a
//! brand that changed shows without a restart. Its own fonts are registered with Slint's
//! font collection (fontique) once per file, for the process. A brand that fails
//! [`Brand::check`] (a hub that did not check, a database edited by hand) shows none of
//! it: the kiosk keeps its own look rather than show text nobody can read.

use slint::{Color, ComponentHandle, Image, Rgba8Pixel, SharedPixelBuffer};

use super::ui::{AppWindow, BrandAdapter, Palette, Theme, Typography};
use crate::brand::Rgb;
use crate::protocol::brand::{Brand, LogoFormat, TypePair};

/// The logo's height in pixels once drawn: twice the largest it is shown at (72 px on
/// the attract screen), for sharp edges on dense panels.
const LOGO_PIXELS: u32 = 144;
/// The widest logo drawn, in pixels: a logo is a mark, not a banner.
const LOGO_MAX_WIDTH: u32 = 1200;
/// The largest PNG logo read, per side (the hub refuses larger ones).
const MAX_LOGO_SIDE: u32 = crate::protocol::brand::MAX_LOGO_SIDE;

/// A logo drawn, ready for the window (made on the catalog thread), or `drawn: None`
/// when its bytes cannot be drawn.
struct Logo {
    pub sha256: String,
    drawn: Option<(SharedPixelBuffer<Rgba8Pixel>, bool)>,
}

/// What the window shows now: the theme as built (to go back to) and the brand applied.
#[derive(Default)]
pub struct Shown {
    base: Option<(Palette, Typography)>,
    brand: Option<Brand>,
    /// What of it shows: the brand, or none when it failed the check.
    shown: Brand,
    logo: Option<String>,
    /// The last logo that could not be drawn: not read and tried again at every refresh.
    refused: Option<String>,
    /// The brand fonts registered with Slint (for the process): digest → family name.
    fonts: std::collections::HashMap<String, String>,
    fonts_refused: Vec<String>,
}

/// The brand's files the window does not show yet, read from the kiosk's database.
#[derive(Default)]
pub struct Arrived {
    logo: Option<Logo>,
    fonts: Vec<(String, Vec<u8>)>,
}

impl Arrived {
    /// Reads (and draws, for the logo) what `brand` names that is not in `known`
    /// ([`Shown::known`]); on the catalog thread.
    pub fn read(conn: &rusqlite::Connection, brand: &Brand, known: &[String]) -> rusqlite::Result<Arrived> {
        let logo = match &brand.logo {
            Some(logo) if !known.contains(&logo.sha256) => {
                crate::trust::brand_logo(conn, &logo.sha256)?.map(|bytes| draw_logo(&logo.sha256, logo.format, &bytes))
            }
            _ => None,
        };
        let mut fonts = Vec::new();
        for font in brand.titles_font.iter().chain(&brand.text_font) {
            if !known.contains(&font.sha256)
                && let Some(bytes) = crate::trust::brand_font(conn, &font.sha256)?
            {
                fonts.push((font.sha256.clone(), bytes));
            }
        }
        Ok(Arrived { logo, fonts })
    }
}

/// Registers a font file with Slint's font collection; the family name it goes by.
fn register_font(bytes: Vec<u8>) -> Option<String> {
    use slint::fontique_011::fontique;
    let mut collection = slint::fontique_011::shared_collection();
    let registered = collection.register_fonts(fontique::Blob::new(std::sync::Arc::new(bytes)), None);
    let (family, _) = registered.first()?;
    collection.family_name(*family).map(str::to_owned)
}

impl Shown {
    /// The files not to read again: the logo on screen or refused, the fonts registered
    /// or refused.
    pub fn known(&self) -> Vec<String> {
        let fonts = self.fonts.keys().chain(&self.fonts_refused);
        self.logo.iter().chain(&self.refused).chain(fonts).cloned().collect()
    }

    /// The welcome line in `lang` (or the other language), if the brand has one.
    pub fn welcome(&self, lang: &str) -> String {
        self.shown.welcome_in(lang).unwrap_or_default().to_owned()
    }
}

/// Draws a logo's bytes at the size it is shown; `None` (and a log line) when they are
/// not a picture we can draw.
fn draw_logo(sha256: &str, format: LogoFormat, bytes: &[u8]) -> Logo {
    let drawn = match format {
        LogoFormat::Svg => draw_svg(bytes).map(|p| (p, true)),
        LogoFormat::Png => draw_png(bytes).map(|p| (p, false)),
        LogoFormat::Unknown => Err("a logo format this kiosk does not know".to_owned()),
    };
    let sha256 = sha256.to_owned();
    match drawn {
        Ok((pixels, premultiplied)) => Logo {
            sha256,
            drawn: Some((pixels, premultiplied)),
        },
        Err(why) => {
            tracing::warn!("the brand's logo cannot be drawn (its name shows instead): {why}");
            Logo { sha256, drawn: None }
        }
    }
}

fn draw_svg(bytes: &[u8]) -> Result<SharedPixelBuffer<Rgba8Pixel>, String> {
    use resvg::tiny_skia;
    let tree = super::images::parse_svg(bytes).map_err(|e| e.to_string())?;
    let size = tree.size();
    let scale = (LOGO_PIXELS as f32 / size.height()).min(LOGO_MAX_WIDTH as f32 / size.width());
    let (w, h) = (
        ((size.width() * scale).round() as u32).max(1),
        ((size.height() * scale).round() as u32).max(1),
    );
    let mut pixmap = tiny_skia::Pixmap::new(w, h).ok_or("an empty logo")?;
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    Ok(SharedPixelBuffer::clone_from_slice(pixmap.data(), w, h))
}

fn draw_png(bytes: &[u8]) -> Result<SharedPixelBuffer<Rgba8Pixel>, String> {
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(bytes), image::ImageFormat::Png);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_LOGO_SIDE);
    limits.max_image_height = Some(MAX_LOGO_SIDE);
    limits.max_alloc = Some(64 << 20);
    reader.limits(limits);
    let picture = reader.decode().map_err(|e| e.to_string())?;
    let scale = (LOGO_PIXELS as f32 / picture.height() as f32).min(LOGO_MAX_WIDTH as f32 / picture.width() as f32);
    let rgba = super::images::shrink(picture, scale, image::imageops::FilterType::Lanczos3).to_rgba8();
    Ok(SharedPixelBuffer::clone_from_slice(
        rgba.as_raw(),
        rgba.width(),
        rgba.height(),
    ))
}

fn colour(rgb: Rgb) -> Color {
    let [r, g, b] = rgb.0;
    Color::from_rgb_u8(r, g, b)
}

/// Shows `brand` (with `logo`, when drawn) in `window`, unless it is what shows already.
/// Returns the paper colour pictures are now to be flattened onto, when it changed.
pub fn apply(window: &AppWindow, shown: &mut Shown, brand: &Brand, arrived: Arrived, lang: &str) -> Option<[u8; 3]> {
    let Arrived { logo, fonts } = arrived;
    let theme = window.global::<Theme>();
    let (base_palette, base_typo) = shown
        .base
        .get_or_insert_with(|| (theme.get_brand_palette(), theme.get_brand_typo()))
        .clone();
    let adapter = window.global::<BrandAdapter>();
    match (&brand.logo, logo) {
        (None, _) => {
            adapter.set_has_logo(false);
            adapter.set_logo(Image::default());
            shown.logo = None;
        }
        (Some(wanted), Some(logo)) if logo.sha256 == wanted.sha256 => match logo.drawn {
            Some((pixels, premultiplied)) => {
                let image = match premultiplied {
                    true => Image::from_rgba8_premultiplied(pixels),
                    false => Image::from_rgba8(pixels),
                };
                adapter.set_logo(image);
                adapter.set_has_logo(true);
                shown.logo = Some(logo.sha256);
            }
            None => {
                adapter.set_has_logo(false);
                shown.logo = None;
                shown.refused = Some(logo.sha256);
            }
        },
        // Not fetched or not drawable yet: the name, until it is.
        (Some(wanted), _) if shown.logo.as_ref() != Some(&wanted.sha256) => {
            adapter.set_has_logo(false);
            shown.logo = None;
        }
        _ => {}
    }
    let fresh_fonts = !fonts.is_empty();
    for (sha, bytes) in fonts {
        match register_font(bytes) {
            Some(family) => {
                shown.fonts.insert(sha, family);
            }
            None => {
                tracing::warn!("one of the brand's fonts cannot be used (the type pair's shows instead)");
                shown.fonts_refused.push(sha);
            }
        }
    }
    if shown.brand.as_ref() == Some(brand) && !fresh_fonts {
        adapter.set_welcome(shown.welcome(lang).into());
        return None;
    }
    // A brand the hub should have refused (an older hub, a hand-edited database): none
    // of it shows, rather than unreadable colours or a name that breaks the header.
    let (checked, scheme) = match brand.check().and_then(|()| brand.colours()) {
        Ok(scheme) => (brand.clone(), scheme),
        Err(why) => {
            tracing::warn!("the brand is not applied: {why}");
            (Brand::default(), None)
        }
    };
    let mut palette = base_palette;
    let paper = scheme.map_or(super::images::PAPER, |s| s.paper.0);
    if let Some(s) = scheme {
        palette.paper = colour(s.paper);
        palette.paper_deep = colour(s.paper_deep);
        palette.card = colour(s.card);
        palette.line = colour(s.line);
        palette.accent = colour(s.accent);
        palette.accent_soft = colour(s.accent_soft);
        palette.paper_veiled = colour(s.paper).with_alpha(palette.paper_veiled.alpha() as f32 / 255.0);
        palette.ink_faint = colour(s.ink_faint);
        palette.sold_out = colour(s.ink_faint);
        palette.ok = colour(s.ok);
        palette.warn = colour(s.warn);
    }
    theme.set_brand_palette(palette);
    let mut typo = base_typo;
    if checked.type_pair == TypePair::Modern {
        typo.serif = typo.sans.clone();
    }
    // Its own fonts over the pair's, once registered.
    let family = |font: &Option<crate::protocol::brand::Font>| {
        font.as_ref()
            .and_then(|f| shown.fonts.get(&f.sha256))
            .map(|family| family.as_str().into())
    };
    if let Some(titles) = family(&checked.titles_font) {
        typo.serif = titles;
    }
    if let Some(text) = family(&checked.text_font) {
        typo.sans = text;
    }
    theme.set_brand_typo(typo);
    adapter.set_name(checked.name.trim().into());
    adapter.set_welcome(checked.welcome_in(lang).unwrap_or_default().into());
    // What was received, so the same brand is not checked again at every refresh.
    shown.brand = Some(brand.clone());
    shown.shown = checked;
    Some(paper)
}

/// Sets the welcome line for a new language.
pub fn show_welcome(window: &AppWindow, shown: &Shown, lang: &str) {
    window.global::<BrandAdapter>().set_welcome(shown.welcome(lang).into());
}
