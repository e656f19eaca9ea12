//! One frame to a QR payload.
//!
//! Frames are turned grey and shrunk to at most [`MAX_PIXELS`] (more only slows the
//! detectors, it does not help them), then read by a cascade of [`Strategy`]s, cheapest
//! and most successful first. A live camera tries one strategy per frame, in turn, since a
//! shopper holds a code up for many frames; a still tries them all. Each decoder runs
//! inside `catch_unwind`: rqrr panics on some pictures, and a panic is just "no code".
//! The numbers that chose this order are in `ARCHITECTURE.md`.

use std::panic::{AssertUnwindSafe, catch_unwind};

use image::{DynamicImage, GrayImage, imageops};

/// The most pixels a frame is decoded at.
pub const MAX_PIXELS: u32 = 1_300_000;

/// A way of reading a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// rxing's QR reader (hybrid binariser, try-harder off): reads most, in about a
    /// millisecond.
    Rxing,
    /// rqrr: a different detector, which reads some codes rxing misses.
    Rqrr,
    /// rxing on the inverted frame: light codes on a dark ground (phones in dark mode).
    Inverted,
}

impl Strategy {
    pub const ALL: [Strategy; 3] = [Strategy::Rxing, Strategy::Rqrr, Strategy::Inverted];

    pub fn name(self) -> &'static str {
        match self {
            Strategy::Rxing => "rxing",
            Strategy::Rqrr => "rqrr",
            Strategy::Inverted => "inverted",
        }
    }
}

/// A frame ready for the decoders: grey, at most [`MAX_PIXELS`].
pub struct Frame(GrayImage);

impl Frame {
    pub fn new(image: &DynamicImage) -> Frame {
        Frame::from_gray(image.to_luma8())
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
        Frame(imageops::resize(&gray, w, h, imageops::FilterType::Triangle))
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
    let text = catch_unwind(AssertUnwindSafe(|| match strategy {
        Strategy::Rxing => with_rxing(&frame.0),
        Strategy::Rqrr => with_rqrr(&frame.0),
        Strategy::Inverted => {
            let mut inverted = frame.0.clone();
            imageops::invert(&mut inverted);
            with_rxing(&inverted)
        }
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

fn with_rxing(gray: &GrayImage) -> Option<String> {
    let (w, h) = gray.dimensions();
    let mut hints = rxing::DecodeHints {
        TryHarder: Some(false),
        ..rxing::DecodeHints::default()
    };
    // The owned-buffer reader: its luminance source reads more codes here than the
    // borrowed one (`detect_in_luma_slice_*`), for one copy of at most 1.3 MB.
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
        assert_eq!(read(&frame, Strategy::Rxing).unwrap().text, "ML-DRESS-01-TERRACOTTA-M");
        assert_eq!(read(&frame, Strategy::Rqrr).unwrap().text, "ML-DRESS-01-TERRACOTTA-M");
        let mut dark = code("dark mode", 8);
        imageops::invert(&mut dark);
        let frame = Frame::from_gray(dark);
        assert_eq!(read(&frame, Strategy::Rxing), None);
        assert_eq!(read_still(&frame).unwrap().strategy, Strategy::Inverted);
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
