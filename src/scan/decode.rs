//! One frame to a QR payload.
//!
//! Frames are turned grey and shrunk to at most [`MAX_PIXELS`] (a 1080p frame is read
//! whole; more only slows the detectors), then read by a cascade of [`Strategy`]s in the
//! order of what each adds per millisecond: zxing-cpp first, then the others where they
//! read what it misses. A live camera tries the first two on every frame and one of the
//! others per frame, in turn, since a shopper holds a code up for many frames; a still
//! tries them all. Each decoder runs inside `catch_unwind`: rqrr panics on some pictures,
//! and a panic is just "no code". zxing-cpp is C++ behind its C API, which catches its
//! exceptions and returns no code. The numbers that chose this order are in
//! `ARCHITECTURE.md`; `vitrine eval qr` measures them again.

use std::panic::{AssertUnwindSafe, catch_unwind};

use image::{DynamicImage, GrayImage, imageops};

/// The most pixels a frame is decoded at.
pub const MAX_PIXELS: u32 = 2_100_000;

/// A way of reading a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// zxing-cpp (try-harder, with its own downscaled pyramid, local-average
    /// binariser): the most reads per millisecond, about two milliseconds a frame.
    Zxing,
    /// zxing-cpp on the inverted frame: light codes on a dark ground (dark themes).
    ZxingInverted,
    /// zxing-cpp with one threshold for the whole frame.
    ZxingGlobal,
    /// rxing's QR reader (hybrid binariser, try-harder off): another port of ZXing,
    /// whose detector reads some codes zxing-cpp misses.
    Rxing,
    /// zxing-cpp on the frame minus its smooth background: veils of reflected light.
    Flattened,
    /// rqrr: a different detector again (the mission's decoder, kept where it adds).
    Rqrr,
}

impl Strategy {
    /// The cascade, in the order of what each adds per millisecond (`ARCHITECTURE.md`).
    pub const ALL: [Strategy; 6] = [
        Strategy::Zxing,
        Strategy::ZxingInverted,
        Strategy::ZxingGlobal,
        Strategy::Rxing,
        Strategy::Flattened,
        Strategy::Rqrr,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Strategy::Zxing => "zxing",
            Strategy::ZxingInverted => "zxing_inverted",
            Strategy::Rxing => "rxing",
            Strategy::ZxingGlobal => "zxing_global",
            Strategy::Rqrr => "rqrr",
            Strategy::Flattened => "flattened",
        }
    }
}

/// A frame ready for the decoders: grey, at most [`MAX_PIXELS`].
pub struct Frame(GrayImage);

impl Frame {
    pub fn new(image: &DynamicImage) -> Frame {
        let gray = match image {
            // What cameras give. Integer weights (BT.709, as `to_luma8`): its float
            // conversion took longer than zxing-cpp's reading of the frame.
            DynamicImage::ImageRgb8(rgb) => {
                let (w, h) = rgb.dimensions();
                let luma = rgb
                    .as_raw()
                    .chunks_exact(3)
                    .map(|p| ((54 * u32::from(p[0]) + 183 * u32::from(p[1]) + 19 * u32::from(p[2]) + 128) >> 8) as u8);
                GrayImage::from_vec(w, h, luma.collect()).expect("one byte per pixel")
            }
            other => other.to_luma8(),
        };
        Frame::from_gray(gray)
    }

    pub fn from_gray(gray: GrayImage) -> Frame {
        let (w, h) = gray.dimensions();
        let pixels = u64::from(w) * u64::from(h);
        if pixels <= u64::from(MAX_PIXELS) {
            return Frame(gray);
        }
        let scale = (f64::from(MAX_PIXELS) / pixels as f64).sqrt();
        let (w, h) = (
            ((f64::from(w) * scale) as u32).max(1),
            ((f64::from(h) * scale) as u32).max(1),
        );
        Frame(imageops::thumbnail(&gray, w, h))
    }

    pub fn dimensions(&self) -> (u32, u32) {
        self.0.dimensions()
    }

    /// A small copy for the on-screen preview, `width` pixels across.
    pub fn thumbnail(&self, width: u32) -> GrayImage {
        let (w, h) = self.0.dimensions();
        let height = (u64::from(h) * u64::from(width) / u64::from(w.max(1))).max(1) as u32;
        imageops::thumbnail(&self.0, width, height)
    }
}

/// What a frame said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    pub text: String,
    pub strategy: Strategy,
}

/// Reads `frame` with one strategy.
pub fn read(frame: &Frame, strategy: Strategy) -> Option<Read> {
    use zxingcpp::Binarizer::{GlobalHistogram, LocalAverage};
    let text = catch_unwind(AssertUnwindSafe(|| match strategy {
        Strategy::Zxing => with_zxing(&frame.0, LocalAverage),
        Strategy::ZxingInverted => {
            let mut inverted = frame.0.clone();
            imageops::invert(&mut inverted);
            with_zxing(&inverted, LocalAverage)
        }
        Strategy::Rxing => with_rxing(&frame.0),
        Strategy::ZxingGlobal => with_zxing(&frame.0, GlobalHistogram),
        Strategy::Rqrr => with_rqrr(&frame.0),
        Strategy::Flattened => with_zxing(&flatten(&frame.0), LocalAverage),
    }))
    .ok()
    .flatten()?;
    // A QR code holds at most 7,089 characters, so the text is bounded already; what a
    // payload may say is checked where it is understood.
    (!text.is_empty()).then_some(Read { text, strategy })
}

/// Reads a still picture: every strategy in turn until one reads it.
pub fn read_still(frame: &Frame) -> Option<Read> {
    Strategy::ALL.into_iter().find_map(|s| read(frame, s))
}

/// The frame minus its smooth background (a veil of reflected light, a lamp's spot
/// spreading over the code), its contrast doubled around mid-grey. The background is
/// smooth, so it is measured on a frame a quarter as wide and high (sixteen times cheaper
/// to blur), blurred over a fortieth of its size: wider than a code's modules, narrower
/// than a glare spot.
fn flatten(gray: &GrayImage) -> GrayImage {
    let (w, h) = gray.dimensions();
    let (sw, sh) = ((w / 4).max(1), (h / 4).max(1));
    let small = imageops::thumbnail(gray, sw, sh);
    let background = imageops::fast_blur(&small, (sw.max(sh) as f32 / 40.0).max(1.0));
    GrayImage::from_fn(w, h, |x, y| {
        let scaled =
            |v: u32, to: u32, from: u32| (u64::from(v) * u64::from(to) / u64::from(from)).min(u64::from(to - 1)) as u32;
        let b = background.get_pixel(scaled(x, sw, w), scaled(y, sh, h))[0];
        let d = i32::from(gray.get_pixel(x, y)[0]) - i32::from(b);
        image::Luma([(128 + 2 * d).clamp(0, 255) as u8])
    })
}

fn with_zxing(gray: &GrayImage, binarizer: zxingcpp::Binarizer) -> Option<String> {
    let (w, h) = gray.dimensions();
    let view = zxingcpp::ImageView::from_slice(gray.as_raw(), w, h, zxingcpp::ImageFormat::Lum).ok()?;
    zxingcpp::read()
        // Not Micro QR nor rMQR, which `QRCode` also names: no shopper shows one, and
        // their detectors trust a single finder pattern (false reads on busy frames).
        .formats([
            zxingcpp::BarcodeFormat::QRCodeModel1,
            zxingcpp::BarcodeFormat::QRCodeModel2,
        ])
        .try_harder(true)
        .try_downscale(true)
        .try_rotate(false)
        .try_invert(false)
        .binarizer(binarizer)
        .text_mode(zxingcpp::TextMode::Plain)
        .max_number_of_symbols(1)
        .from(view)
        .ok()?
        .into_iter()
        .find(|code| code.is_valid())
        .map(|code| code.text())
}

fn with_rxing(gray: &GrayImage) -> Option<String> {
    let (w, h) = gray.dimensions();
    let mut hints = rxing::DecodeHints {
        TryHarder: Some(false),
        ..rxing::DecodeHints::default()
    };
    // The owned-buffer reader: its luminance source reads more codes here than the
    // borrowed one (`detect_in_luma_slice_*`), for one copy of at most 2.1 MB.
    rxing::helpers::detect_in_luma_with_hints(gray.to_vec(), w, h, Some(rxing::BarcodeFormat::QR_CODE), &mut hints)
        .ok()
        .map(|r| r.getText().to_owned())
}

/// Grids rqrr decodes at most per frame: noisy frames can show dozens of false ones.
const RQRR_GRIDS: usize = 4;

fn with_rqrr(gray: &GrayImage) -> Option<String> {
    let (w, h) = gray.dimensions();
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w as usize, h as usize, |x, y| {
        gray.get_pixel(x as u32, y as u32)[0]
    });
    prepared
        .detect_grids()
        .into_iter()
        .take(RQRR_GRIDS)
        .find_map(|grid| grid.decode().ok().map(|(_, text)| text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(text: &str, module_px: u32) -> GrayImage {
        qrcode::QrCode::new(text.as_bytes())
            .unwrap()
            .render::<image::Luma<u8>>()
            .module_dimensions(module_px, module_px)
            .build()
    }

    #[test]
    fn every_strategy_reads_what_it_is_made_for() {
        let frame = Frame::from_gray(code("ML-DRESS-01-TERRACOTTA-M", 8));
        for strategy in Strategy::ALL {
            if strategy != Strategy::ZxingInverted {
                let read = read(&frame, strategy).map(|r| r.text);
                assert_eq!(read.as_deref(), Some("ML-DRESS-01-TERRACOTTA-M"), "{strategy:?}");
            }
        }
        let mut dark = code("dark mode", 8);
        imageops::invert(&mut dark);
        let frame = Frame::from_gray(dark);
        assert_eq!(read(&frame, Strategy::Zxing), None);
        assert_eq!(read_still(&frame).unwrap().strategy, Strategy::ZxingInverted);
    }

    #[test]
    fn big_frames_are_shrunk_and_still_read() {
        let frame = Frame::from_gray(code("https://shop.example/p/1", 90));
        let (w, h) = frame.dimensions();
        assert!(w * h <= MAX_PIXELS, "{w}x{h}");
        assert_eq!(read_still(&frame).unwrap().text, "https://shop.example/p/1");
    }

    #[test]
    fn noise_and_blank_frames_read_nothing() {
        let mut state = 0x2545_f491_u32;
        let noise = GrayImage::from_fn(640, 480, |_, _| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            image::Luma([state as u8])
        });
        assert_eq!(read_still(&Frame::from_gray(noise)), None);
        assert_eq!(read_still(&Frame::from_gray(GrayImage::new(1, 1))), None);
        assert_eq!(read_still(&Frame::from_gray(GrayImage::new(0, 0))), None);
    }
}
