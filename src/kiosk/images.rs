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
/// The backdrop transparent pictures are shown on (Theme.palette.paper) unless a brand
/// gives another.
pub const PAPER: [u8; 3] = [0xf7, 0xf3, 0xee];

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

/// Decodes a picture to cover `target`, flattened onto `paper`.
pub fn decode(data: &[u8], target: (u32, u32), paper: [u8; 3]) -> Result<SharedPixelBuffer<Rgb8Pixel>, ImageError> {
    if data.len() > MAX_BYTES {
        return Err(ImageError::TooLarge(data.len()));
    }
    if is_svg(data) {
        decode_svg(data, target, paper)
    } else {
        decode_raster(data, target, paper)
    }
}

/// What usvg may use beyond the picture's own bytes: nothing. Its defaults read any file
/// an `<image href>` names (an absolute path, or one relative to the working directory),
/// so a catalog picture could show a kiosk's files on screen, or hang the picture thread
/// reading `/dev/zero`. Pictures embedded as `data:` URLs still draw (the nested SVG ones
/// get no file access either: usvg ignores their external hrefs itself); the font
/// database stays empty, so no font file is read.
pub(crate) fn svg_options() -> resvg::usvg::Options<'static> {
    use resvg::usvg;
    usvg::Options {
        resources_dir: None,
        image_href_resolver: usvg::ImageHrefResolver {
            resolve_data: Box::new(|mime, data, options| {
                // A few bytes can declare a picture of 16384² pixels: measured first.
                if mime != "image/svg+xml" && !small_raster(&data) {
                    return None;
                }
                (usvg::ImageHrefResolver::default_data_resolver())(mime, data, options)
            }),
            resolve_string: Box::new(|_, _| None),
        },
        ..usvg::Options::default()
    }
}

/// The largest side of a picture embedded in an SVG.
const EMBEDDED_MAX_SIDE: u32 = 4_096;

/// Whether `data` is a raster picture we decode (PNG, JPEG, WebP) no larger than
/// [`EMBEDDED_MAX_SIDE`] on either side, read from its header alone.
fn small_raster(data: &[u8]) -> bool {
    image::ImageReader::new(std::io::Cursor::new(data))
        .with_guessed_format()
        .ok()
        .and_then(|reader| reader.into_dimensions().ok())
        .is_some_and(|(w, h)| w <= EMBEDDED_MAX_SIDE && h <= EMBEDDED_MAX_SIDE)
}

/// Reads an SVG for drawing. Filters are refused: resvg bounds neither `feTurbulence`'s
/// octaves nor `feMorphology`'s radius, so a few bytes could hold the drawing thread for
/// hours; pictures and logos do not need them.
pub(crate) fn parse_svg(data: &[u8]) -> Result<resvg::usvg::Tree, ImageError> {
    let tree = resvg::usvg::Tree::from_data(data, &svg_options()).map_err(|e| ImageError::Decode(e.to_string()))?;
    if has_filters(&tree) {
        return Err(ImageError::Decode("SVG filters are not drawn".into()));
    }
    Ok(tree)
}

fn has_filters(tree: &resvg::usvg::Tree) -> bool {
    !tree.filters().is_empty() || nested_filters(tree.root())
}

/// Filters in an SVG embedded as a picture (a tree of its own), at any depth.
fn nested_filters(group: &resvg::usvg::Group) -> bool {
    use resvg::usvg::{ImageKind, Node};
    group.children().iter().any(|node| match node {
        Node::Group(g) => nested_filters(g),
        Node::Image(image) => matches!(image.kind(), ImageKind::SVG(tree) if has_filters(tree)),
        _ => false,
    })
}

fn decode_svg(data: &[u8], target: (u32, u32), paper: [u8; 3]) -> Result<SharedPixelBuffer<Rgb8Pixel>, ImageError> {
    use resvg::tiny_skia;
    let tree = parse_svg(data)?;
    let size = tree.size();
    let scale = cover_scale(size.width(), size.height(), target);
    let (w, h) = (
        ((size.width() * scale).round() as u32).clamp(1, MAX_SIDE),
        ((size.height() * scale).round() as u32).clamp(1, MAX_SIDE),
    );
    let mut pixmap = tiny_skia::Pixmap::new(w, h).ok_or_else(|| ImageError::Decode("empty picture".into()))?;
    pixmap.fill(tiny_skia::Color::from_rgba8(paper[0], paper[1], paper[2], 255));
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

fn decode_raster(data: &[u8], target: (u32, u32), paper: [u8; 3]) -> Result<SharedPixelBuffer<Rgb8Pixel>, ImageError> {
    let mut reader = image::ImageReader::new(std::io::Cursor::new(data))
        .with_guessed_format()
        .map_err(|e| ImageError::Decode(e.to_string()))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    reader.limits(limits);
    let picture = reader.decode().map_err(|e| ImageError::Decode(e.to_string()))?;
    let scale = cover_scale(picture.width() as f32, picture.height() as f32, target);
    let rgba = shrink(picture, scale, image::imageops::FilterType::Triangle).to_rgba8();
    let mut buffer = SharedPixelBuffer::<Rgb8Pixel>::new(rgba.width(), rgba.height());
    for (dst, src) in buffer.make_mut_slice().iter_mut().zip(rgba.pixels()) {
        let [r, g, b, a] = src.0;
        let blend = |c: u8, p: u8| ((u16::from(c) * u16::from(a) + u16::from(p) * (255 - u16::from(a))) / 255) as u8;
        *dst = Rgb8Pixel::new(blend(r, paper[0]), blend(g, paper[1]), blend(b, paper[2]));
    }
    Ok(buffer)
}

/// `picture` at `scale` when that is smaller (never larger): at least a pixel a side.
pub(crate) fn shrink(
    picture: image::DynamicImage,
    scale: f32,
    filter: image::imageops::FilterType,
) -> image::DynamicImage {
    if scale >= 1.0 {
        return picture;
    }
    let side = |n: u32| ((n as f32 * scale).round() as u32).max(1);
    picture.resize(side(picture.width()), side(picture.height()), filter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_filters_are_refused() {
        let turbulence = br#"<svg xmlns="http://www.w3.org/2000/svg" width="100" height="20"><filter id="f"><feTurbulence baseFrequency=".05" numOctaves="4000000000"/></filter><rect width="100" height="20" filter="url(#f)"/></svg>"#;
        assert!(matches!(
            decode(turbulence, (20, 20), PAPER),
            Err(ImageError::Decode(_))
        ));
        // The same, inside an SVG embedded as a picture.
        let inner = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, turbulence);
        let nested = format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10"><image width="10" height="10" xlink:href="data:image/svg+xml;base64,{inner}"/></svg>"#
        );
        assert!(matches!(
            decode(nested.as_bytes(), (20, 20), PAPER),
            Err(ImageError::Decode(_))
        ));
    }

    #[test]
    fn svg_is_rendered_to_cover_the_box() {
        let svg = br##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 500"><rect width="400" height="500" fill="#ff0000"/></svg>"##;
        let buffer = decode(svg, (200, 200), PAPER).unwrap();
        assert_eq!((buffer.width(), buffer.height()), (200, 250));
        assert_eq!(buffer.as_slice()[0], Rgb8Pixel::new(255, 0, 0));
    }

    /// An SVG whose only content is an `<image>` covering it, pointing at `href`.
    fn svg_showing(href: &str) -> Vec<u8> {
        format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><image href="{href}" x="0" y="0" width="10" height="10"/></svg>"#
        )
        .into_bytes()
    }

    #[test]
    fn svg_draws_no_file_its_image_names() {
        let dir = tempfile::tempdir().unwrap();
        let green = dir.path().join("green.svg");
        std::fs::write(
            &green,
            br##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#00ff00"/></svg>"##,
        )
        .unwrap();
        let path = green.to_str().unwrap();
        let paper = Rgb8Pixel::new(PAPER[0], PAPER[1], PAPER[2]);
        for href in [path.to_owned(), format!("file://{path}")] {
            let buffer = decode(&svg_showing(&href), (20, 20), PAPER).unwrap();
            assert!(
                buffer.as_slice().iter().all(|pixel| *pixel == paper),
                "{href} was drawn"
            );
        }
    }

    #[test]
    fn svg_image_naming_dev_zero_is_not_read() {
        // usvg's default would read /dev/zero until memory runs out; this returns at once.
        let buffer = decode(&svg_showing("/dev/zero"), (20, 20), PAPER).unwrap();
        assert_eq!(buffer.as_slice()[0], Rgb8Pixel::new(PAPER[0], PAPER[1], PAPER[2]));
    }

    #[test]
    fn svg_image_as_a_data_url_still_draws() {
        use base64::Engine;
        let inner = br##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#00ff00"/></svg>"##;
        let href = format!(
            "data:image/svg+xml;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(inner)
        );
        let buffer = decode(&svg_showing(&href), (20, 20), PAPER).unwrap();
        let middle = buffer.as_slice()[10 * 20 + 10];
        assert!(middle.g > 200 && middle.r < 50, "{middle:?}");
    }

    #[test]
    fn svg_image_declaring_a_huge_picture_is_not_decoded() {
        use base64::Engine;
        let png = |w: u32, h: u32| {
            let mut bytes = Vec::new();
            image::RgbImage::from_pixel(w, h, image::Rgb([0, 255, 0]))
                .write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)
                .unwrap();
            format!(
                "data:image/png;base64,{}",
                base64::engine::general_purpose::STANDARD.encode(bytes)
            )
        };
        let green = |href: &str| {
            // Stretched over the whole picture, whatever its shape.
            let svg = svg_showing(href);
            let svg = String::from_utf8(svg)
                .unwrap()
                .replace("<image ", r#"<image preserveAspectRatio="none" "#);
            let buffer = decode(svg.as_bytes(), (20, 20), PAPER).unwrap();
            let middle = buffer.as_slice()[10 * 20 + 10];
            middle.g > 200 && middle.r < 50
        };
        assert!(green(&png(10, 10)), "a small embedded picture draws");
        // Tiny in bytes, 5000 pixels wide: not decoded.
        assert!(!green(&png(5_000, 1)));
    }

    #[test]
    fn png_is_scaled_down_never_up_and_flattened_on_paper() {
        let mut png = Vec::new();
        let transparent = image::RgbaImage::from_pixel(100, 50, image::Rgba([0, 0, 0, 0]));
        transparent
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let big = decode(&png, (400, 400), PAPER).unwrap();
        assert_eq!((big.width(), big.height()), (100, 50));
        assert_eq!(big.as_slice()[0], Rgb8Pixel::new(PAPER[0], PAPER[1], PAPER[2]));
        let small = decode(&png, (20, 20), PAPER).unwrap();
        assert_eq!((small.width(), small.height()), (40, 20));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(matches!(
            decode(b"not a picture", (10, 10), PAPER),
            Err(ImageError::Decode(_))
        ));
        assert!(matches!(decode(b"<svg", (10, 10), PAPER), Err(ImageError::Decode(_))));
    }
}
