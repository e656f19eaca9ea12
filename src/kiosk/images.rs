//! Turning picture bytes into pixels at the size they are shown.
//!
//! JPEG, PNG and WebP (what feeds link to) go through the `image` crate; SVG (the demo's
//! illustrations) through resvg. Pictures are scaled down to cover the box they fill,
//! never up, and flattened onto the paper colour: RGB takes a quarter less memory than
//! RGBA, which matters on a tablet holding a grid of them.

use slint::{Rgb8Pixel, SharedPixelBuffer};

/// Largest encoded picture accepted.
pub const MAX_BYTES: usize = 20 << 20;
/// Largest decoded side accepted, in pixels.
const MAX_SIDE: u32 = 8_000;
/// The backdrop transparent pictures are shown on (Theme.palette.paper).
const PAPER: [u8; 3] = [0xf7, 0xf3, 0xee];

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("the picture is {0} bytes, more than the {MAX_BYTES} accepted")]
    TooLarge(usize),
    #[error("not a picture we can read: {0}")]
    Decode(String),
}

fn is_svg(data: &[u8]) -> bool {
    let head = &data[..data.len().min(512)];
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    text.starts_with("<svg") || (text.starts_with("<?xml") && text.contains("<svg"))
}

/// Scale that makes `(w, h)` cover `target`, capped at 1 for raster pictures.
fn cover_scale(w: f32, h: f32, target: (u32, u32)) -> f32 {
    (target.0 as f32 / w).max(target.1 as f32 / h)
}

/// A grey picture (a QR code, the camera's preview) as the UI's pixels.
pub fn from_gray(picture: &image::GrayImage) -> SharedPixelBuffer<Rgb8Pixel> {
    let mut buffer = SharedPixelBuffer::<Rgb8Pixel>::new(picture.width(), picture.height());
    for (pixel, luma) in buffer.make_mut_slice().iter_mut().zip(picture.pixels()) {
        let v = luma.0[0];
        *pixel = Rgb8Pixel::new(v, v, v);
    }
    buffer
}

pub fn decode(data: &[u8], target: (u32, u32)) -> Result<SharedPixelBuffer<Rgb8Pixel>, ImageError> {
    if data.len() > MAX_BYTES {
        return Err(ImageError::TooLarge(data.len()));
    }
    if is_svg(data) {
        decode_svg(data, target)
    } else {
        decode_raster(data, target)
    }
}

fn decode_svg(data: &[u8], target: (u32, u32)) -> Result<SharedPixelBuffer<Rgb8Pixel>, ImageError> {
    use resvg::{tiny_skia, usvg};
    let tree = usvg::Tree::from_data(data, &usvg::Options::default()).map_err(|e| ImageError::Decode(e.to_string()))?;
    let size = tree.size();
    let scale = cover_scale(size.width(), size.height(), target);
    let (w, h) = (
        ((size.width() * scale).round() as u32).clamp(1, MAX_SIDE),
        ((size.height() * scale).round() as u32).clamp(1, MAX_SIDE),
    );
    let mut pixmap = tiny_skia::Pixmap::new(w, h).ok_or_else(|| ImageError::Decode("empty picture".into()))?;
    pixmap.fill(tiny_skia::Color::from_rgba8(PAPER[0], PAPER[1], PAPER[2], 255));
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    // Opaque after the fill, so premultiplied RGBA is plain RGBA: drop alpha.
    let mut buffer = SharedPixelBuffer::<Rgb8Pixel>::new(w, h);
    for (dst, src) in buffer.make_mut_slice().iter_mut().zip(pixmap.data().chunks_exact(4)) {
        *dst = Rgb8Pixel::new(src[0], src[1], src[2]);
    }
    Ok(buffer)
}

fn decode_raster(data: &[u8], target: (u32, u32)) -> Result<SharedPixelBuffer<Rgb8Pixel>, ImageError> {
    let mut reader = image::ImageReader::new(std::io::Cursor::new(data))
        .with_guessed_format()
        .map_err(|e| ImageError::Decode(e.to_string()))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    reader.limits(limits);
    let picture = reader.decode().map_err(|e| ImageError::Decode(e.to_string()))?;
    let scale = cover_scale(picture.width() as f32, picture.height() as f32, target).min(1.0);
    let picture = if scale < 1.0 {
        picture.resize(
            ((picture.width() as f32 * scale).round() as u32).max(1),
            ((picture.height() as f32 * scale).round() as u32).max(1),
            image::imageops::FilterType::Triangle,
        )
    } else {
        picture
    };
    let rgba = picture.to_rgba8();
    let mut buffer = SharedPixelBuffer::<Rgb8Pixel>::new(rgba.width(), rgba.height());
    for (dst, src) in buffer.make_mut_slice().iter_mut().zip(rgba.pixels()) {
        let [r, g, b, a] = src.0;
        let blend = |c: u8, p: u8| ((u16::from(c) * u16::from(a) + u16::from(p) * (255 - u16::from(a))) / 255) as u8;
        *dst = Rgb8Pixel::new(blend(r, PAPER[0]), blend(g, PAPER[1]), blend(b, PAPER[2]));
    }
    Ok(buffer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_is_rendered_to_cover_the_box() {
        let svg = br##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 500"><rect width="400" height="500" fill="#ff0000"/></svg>"##;
        let buffer = decode(svg, (200, 200)).unwrap();
        assert_eq!((buffer.width(), buffer.height()), (200, 250));
        assert_eq!(buffer.as_slice()[0], Rgb8Pixel::new(255, 0, 0));
    }

    #[test]
    fn png_is_scaled_down_never_up_and_flattened_on_paper() {
        let mut png = Vec::new();
        let transparent = image::RgbaImage::from_pixel(100, 50, image::Rgba([0, 0, 0, 0]));
        transparent
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let big = decode(&png, (400, 400)).unwrap();
        assert_eq!((big.width(), big.height()), (100, 50));
        assert_eq!(big.as_slice()[0], Rgb8Pixel::new(PAPER[0], PAPER[1], PAPER[2]));
        let small = decode(&png, (20, 20)).unwrap();
        assert_eq!((small.width(), small.height()), (40, 20));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(matches!(decode(b"not a picture", (10, 10)), Err(ImageError::Decode(_))));
        assert!(matches!(decode(b"<svg", (10, 10)), Err(ImageError::Decode(_))));
    }
}
