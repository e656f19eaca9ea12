//! The retailer's brand on screen: its name or logo as the wordmark, its colours over the
//! theme's, its type pair, the attract screen's welcome line.
//!
//! The hub sends the brand with the kiosk's settings and the sync thread keeps its logo
//! (`trust::brand_logo`); the shell's status refresh hands both here, and a brand that
//! changed shows without a restart. A brand that fails [`Brand::check`] (a hub that did
//! not check, a file edited by hand) is not applied: the kiosk keeps its own palette
//! rather than show text nobody can read.

use slint::{Color, ComponentHandle, Image, Rgba8Pixel, SharedPixelBuffer};

use super::ui::{AppWindow, BrandAdapter, Palette, Theme, Typography};
use crate::brand::Rgb;
use crate::protocol::brand::{Brand, LogoFormat, TypePair};

/// The logo's height in pixels once drawn: twice the largest it is shown at (72 px on
/// the attract screen), for sharp edges on dense panels.
const LOGO_PIXELS: u32 = 144;
/// The widest logo drawn, in pixels: a logo is a mark, not a banner.
const LOGO_MAX_WIDTH: u32 = 1200;

/// A logo drawn, ready for the window (made on the catalog thread).
pub struct Logo {
    pub sha256: String,
    pixels: SharedPixelBuffer<Rgba8Pixel>,
    premultiplied: bool,
}

/// What the window shows now: the theme as built (to go back to) and the brand applied.
#[derive(Default)]
pub struct Shown {
    base: Option<(Palette, Typography)>,
    brand: Option<Brand>,
    logo: Option<String>,
}

impl Shown {
    /// The digest of the logo on screen, so its bytes are read and drawn only once.
    pub fn logo_sha(&self) -> Option<String> {
        self.logo.clone()
    }

    /// The welcome line in `lang` (or the other language), if the brand has one.
    pub fn welcome(&self, lang: &str) -> String {
        let brand = self.brand.as_ref();
        brand.and_then(|b| b.welcome_in(lang)).unwrap_or_default().to_owned()
    }
}

/// Draws a logo's bytes at the size it is shown; `None` (and a log line) when they are
/// not a picture we can draw.
pub fn draw_logo(sha256: &str, format: LogoFormat, bytes: &[u8]) -> Option<Logo> {
    let drawn = match format {
        LogoFormat::Svg => draw_svg(bytes).map(|p| (p, true)),
        LogoFormat::Png => draw_png(bytes).map(|p| (p, false)),
    };
    match drawn {
        Ok((pixels, premultiplied)) => Some(Logo {
            sha256: sha256.to_owned(),
            pixels,
            premultiplied,
        }),
        Err(why) => {
            tracing::warn!("the brand's logo cannot be drawn: {why}");
            None
        }
    }
}

fn draw_svg(bytes: &[u8]) -> Result<SharedPixelBuffer<Rgba8Pixel>, String> {
    use resvg::{tiny_skia, usvg};
    let tree = usvg::Tree::from_data(bytes, &super::images::svg_options()).map_err(|e| e.to_string())?;
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
    limits.max_image_width = Some(8_000);
    limits.max_image_height = Some(8_000);
    reader.limits(limits);
    let picture = reader.decode().map_err(|e| e.to_string())?;
    let scale = (LOGO_PIXELS as f32 / picture.height() as f32)
        .min(LOGO_MAX_WIDTH as f32 / picture.width() as f32)
        .min(1.0);
    let picture = if scale < 1.0 {
        picture.resize(
            ((picture.width() as f32 * scale).round() as u32).max(1),
            ((picture.height() as f32 * scale).round() as u32).max(1),
            image::imageops::FilterType::Lanczos3,
        )
    } else {
        picture
    };
    let rgba = picture.to_rgba8();
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
pub fn apply(window: &AppWindow, shown: &mut Shown, brand: &Brand, logo: Option<Logo>, lang: &str) -> Option<[u8; 3]> {
    let theme = window.global::<Theme>();
    let (base_palette, base_typo) = shown
        .base
        .get_or_insert_with(|| (theme.get_palette(), theme.get_typo()))
        .clone();
    let adapter = window.global::<BrandAdapter>();
    match (&brand.logo, logo) {
        (None, _) => {
            adapter.set_has_logo(false);
            adapter.set_logo(Image::default());
            shown.logo = None;
        }
        (Some(wanted), Some(logo)) if logo.sha256 == wanted.sha256 => {
            let image = match logo.premultiplied {
                true => Image::from_rgba8_premultiplied(logo.pixels),
                false => Image::from_rgba8(logo.pixels),
            };
            adapter.set_logo(image);
            adapter.set_has_logo(true);
            shown.logo = Some(logo.sha256);
        }
        // Not fetched or not drawable yet: the name, until it is.
        (Some(wanted), _) if shown.logo.as_ref() != Some(&wanted.sha256) => {
            adapter.set_has_logo(false);
            shown.logo = None;
        }
        _ => {}
    }
    if shown.brand.as_ref() == Some(brand) {
        adapter.set_welcome(shown.welcome(lang).into());
        return None;
    }
    let scheme = match brand.check().and_then(|()| brand.colours()) {
        Ok(scheme) => scheme,
        Err(why) => {
            tracing::warn!("the brand's colours are not applied: {why}");
            None
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
    }
    theme.set_palette(palette);
    let mut typo = base_typo;
    if brand.type_pair == TypePair::Modern {
        typo.serif = typo.sans.clone();
    }
    theme.set_typo(typo);
    // A name longer than the check allows never reaches here; a blank one is none.
    adapter.set_name(brand.name.trim().into());
    shown.brand = Some(brand.clone());
    adapter.set_welcome(shown.welcome(lang).into());
    Some(paper)
}

/// Sets the welcome line for a new language.
pub fn show_welcome(window: &AppWindow, shown: &Shown, lang: &str) {
    window.global::<BrandAdapter>().set_welcome(shown.welcome(lang).into());
}
