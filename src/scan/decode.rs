//! One frame to a QR payload.
//!
//! Frames arrive grey (the camera's made so by nokhwa on the camera's thread; replayed
//! pictures and stills go through [`grey`]) and are shrunk to at most [`MAX_PIXELS`] (a
//! 1080p frame is read whole; more only slows the detectors), then read by a cascade of
//! [`Strategy`]s in the order of what each adds per millisecond: zxing-cpp first, then the others where
//! they read what it misses. A live camera tries the first two on every frame and one of
//! the others per frame, in turn, since a shopper holds a code up for many frames; a
//! still tries them all. Each decoder runs inside `catch_unwind`: rqrr panics on some
//! pictures, and a panic is just "no code". zxing-cpp is C++ behind its C API, which
//! catches its exceptions and returns no code. The numbers that chose this order are in
//! `ARCHITECTURE.md`; `vitrine eval qr` measures them again.

use std::panic::{AssertUnwindSafe, catch_unwind};

use image::{DynamicImage, GrayImage, imageops};

// A decoder's panic is "no code" only if panics unwind.
#[cfg(panic = "abort")]
compile_error!("the QR cascade relies on catch_unwind: build with panic = \"unwind\"");

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
    /// A code zxing-cpp found but could not read (blur, a steep tilt: too many modules
    /// misread), straightened onto an upright square and thresholded against its
    /// neighbourhood, then read again.
    Straightened,
    /// zxing-cpp with one threshold for the whole frame.
    ZxingGlobal,
    /// rxing's QR reader (hybrid binariser, try-harder off): another port of ZXing,
    /// whose detector reads some codes zxing-cpp misses.
    Rxing,
    /// zxing-cpp on the frame minus its smooth background: veils of reflected light.
    Flattened,
    /// zxing-cpp on the frame's local contrast, measured in linear light: a lamp's
    /// reflection adds light, which squeezes a code's contrast into a few grey levels.
    Normalized,
    /// rqrr: a different detector again (the mission's decoder, kept where it adds).
    Rqrr,
}

impl Strategy {
    /// The cascade, in the order of what each adds per millisecond (`ARCHITECTURE.md`);
    /// the variants above are listed in the same order.
    pub const ALL: [Strategy; 8] = [
        Strategy::Zxing,
        Strategy::ZxingInverted,
        Strategy::Straightened,
        Strategy::ZxingGlobal,
        Strategy::Rxing,
        Strategy::Flattened,
        Strategy::Normalized,
        Strategy::Rqrr,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Strategy::Zxing => "zxing",
            Strategy::ZxingInverted => "zxing_inverted",
            Strategy::Straightened => "straightened",
            Strategy::ZxingGlobal => "zxing_global",
            Strategy::Rxing => "rxing",
            Strategy::Flattened => "flattened",
            Strategy::Normalized => "normalized",
            Strategy::Rqrr => "rqrr",
        }
    }
}

/// A frame ready for the decoders: grey, at most [`MAX_PIXELS`].
pub struct Frame(GrayImage);

/// A picture in grey, as the decoders read it. The camera's frames arrive grey already
/// (nokhwa decodes its MJPEG and averages R, G and B on the camera's thread); replayed
/// pictures are converted here on the capture thread, stills by whoever reads them.
pub fn grey(image: DynamicImage) -> GrayImage {
    match image {
        DynamicImage::ImageLuma8(gray) => gray,
        // Integer weights (BT.709, as `to_luma8`): its float conversion took longer than
        // zxing-cpp's reading of the frame.
        DynamicImage::ImageRgb8(rgb) => {
            let (w, h) = rgb.dimensions();
            let mut luma = GrayImage::new(w, h);
            for (grey, p) in luma.iter_mut().zip(rgb.as_raw().chunks_exact(3)) {
                *grey = ((54 * u16::from(p[0]) + 183 * u16::from(p[1]) + 19 * u16::from(p[2]) + 128) >> 8) as u8;
            }
            luma
        }
        other => other.to_luma8(),
    }
}

impl Frame {
    pub fn new(image: DynamicImage) -> Frame {
        Frame::from_gray(grey(image))
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
        Strategy::Straightened => straightened(&frame.0),
        Strategy::Rqrr => with_rqrr(&frame.0),
        Strategy::Flattened => with_zxing(&flatten(&frame.0), LocalAverage),
        Strategy::Normalized => with_zxing(&normalize(&frame.0), LocalAverage),
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

/// Pixels per module of a straightened code: enough for the threshold's window to span
/// whole modules, few enough to stay under a millisecond for common versions.
const STRAIGHT_MODULE_PX: u32 = 6;
/// Quiet zone around a straightened code, in modules (the standard asks for four).
const STRAIGHT_QUIET_MODULES: u32 = 4;
/// Codes found but not read that are straightened per frame: a busy frame can show
/// several finder-like shapes.
const STRAIGHT_CANDIDATES: usize = 2;
/// The threshold's window around each pixel of a straightened code, in pixels each way:
/// one module, so the window spans a little over two.
const STRAIGHT_WINDOW_RADIUS: u32 = STRAIGHT_MODULE_PX;

/// zxing-cpp's detector places a code's corners even where too many modules read wrong
/// (it reports a checksum error). Sampled by the detector, a blurred or steeply tilted
/// code's modules fall on the wrong side of a threshold made for the whole frame; here
/// the code is mapped onto an upright square of whole pixels per module, each pixel
/// compared with the mean of the square [`STRAIGHT_WINDOW_RADIUS`] around it (13 × 13
/// pixels, a little over two modules), and read again. A flat area wider than that window turns to speckle, so the upright
/// grey square is read too when the thresholded one is not.
fn straightened(gray: &GrayImage) -> Option<String> {
    use imageproc::geometric_transformations::{Border, Interpolation, Projection, warp_into};
    let found = zxing(gray, zxingcpp::Binarizer::LocalAverage, true).ok()?;
    found
        .iter()
        .filter(|code| !code.is_valid())
        .filter_map(|code| {
            // "Version" is 1 to 40 for QR codes; the size in modules follows from it.
            let version: u32 = code
                .extra_with_key("Version")
                .parse()
                .ok()
                .filter(|v| (1..=40).contains(v))?;
            Some((code.position(), 17 + 4 * version))
        })
        .take(STRAIGHT_CANDIDATES)
        .find_map(|(corners, modules)| {
            let (px, quiet) = (
                STRAIGHT_MODULE_PX as f32,
                (STRAIGHT_QUIET_MODULES * STRAIGHT_MODULE_PX) as f32,
            );
            let side = modules as f32 * px;
            let point = |p: zxingcpp::PointI| (p.x as f32, p.y as f32);
            let from = [
                corners.top_left,
                corners.top_right,
                corners.bottom_right,
                corners.bottom_left,
            ]
            .map(point);
            if !convex(from) {
                return None;
            }
            let to = [(0.0, 0.0), (side, 0.0), (side, side), (0.0, side)].map(|(x, y)| (x + quiet, y + quiet));
            let projection = Projection::from_control_points(from, to)?;
            let out_side = (modules + 2 * STRAIGHT_QUIET_MODULES) * STRAIGHT_MODULE_PX;
            let mut upright = GrayImage::new(out_side, out_side);
            warp_into(
                gray,
                projection,
                Interpolation::Bicubic,
                Border::Replicate,
                &mut upright,
            );
            let binary = imageproc::contrast::adaptive_threshold(&upright, STRAIGHT_WINDOW_RADIUS, 0);
            with_zxing(&binary, zxingcpp::Binarizer::LocalAverage)
                .or_else(|| with_zxing(&upright, zxingcpp::Binarizer::LocalAverage))
        })
}

/// Whether four corners, in order, make a convex quadrilateral (a twisted one maps
/// pixels far outside the frame).
fn convex(corners: [(f32, f32); 4]) -> bool {
    let turn = |i: usize| {
        let (a, b, c) = (corners[i], corners[(i + 1) % 4], corners[(i + 2) % 4]);
        (b.0 - a.0) * (c.1 - b.1) - (b.1 - a.1) * (c.0 - b.0)
    };
    let turns = [turn(0), turn(1), turn(2), turn(3)];
    turns.iter().all(|t| *t > 0.0) || turns.iter().all(|t| *t < 0.0)
}

/// Each pixel's distance from its neighbourhood's mean in units of the neighbourhood's
/// spread, in linear light (a 2.2 gamma undone, near enough sRGB's curve), where
/// reflected light simply adds: the
/// few grey levels a code keeps under a lamp's reflection are stretched back to a full
/// range (zxing-cpp's binariser gives an 8 × 8 block whose range is 24 levels or less
/// its neighbours' threshold instead of its own). The spread counts as at least 2 % of
/// white, so flat, noisy areas stay flat rather than becoming high-contrast noise. The
/// neighbourhood is a Gaussian about a two-hundredth of the frame's width across: two to
/// three modules of a phone's code held at a kiosk's camera. A frame wider than the
/// kiosk's 1280 pixels is halved first (so the image returned is smaller): at full 1080p
/// the blurs took 58 ms, and `thumbnail` to 1280 wide 16 ms more than halving. The
/// result is mid-grey 128, one spread 40 levels away: a code's modules about ±40.
fn normalize(gray: &GrayImage) -> GrayImage {
    use image::{ImageBuffer, Luma};
    let (w, h) = gray.dimensions();
    if w > 1280 && h > 1 {
        return normalize(&halved(gray));
    }
    let linear: [f32; 256] = std::array::from_fn(|v| (v as f32 / 255.0).powf(2.2));
    let x: ImageBuffer<Luma<f32>, Vec<f32>> =
        ImageBuffer::from_vec(w, h, gray.as_raw().iter().map(|&v| linear[usize::from(v)]).collect())
            .expect("one value per pixel");
    let sigma = (w as f32 / 200.0).max(1.0);
    let mean = imageops::fast_blur(&x, sigma);
    let deviation: Vec<f32> = x.as_raw().iter().zip(mean.as_raw()).map(|(x, m)| x - m).collect();
    let squares = ImageBuffer::<Luma<f32>, Vec<f32>>::from_vec(w, h, deviation.iter().map(|d| d * d).collect())
        .expect("one value per pixel");
    let spread = imageops::fast_blur(&squares, sigma);
    let out = deviation
        .iter()
        .zip(spread.as_raw())
        .map(|(d, s)| (128.0 + 40.0 * d / s.max(0.0).sqrt().max(0.02)).clamp(0.0, 255.0) as u8)
        .collect();
    GrayImage::from_vec(w, h, out).expect("one byte per pixel")
}

/// Half as wide and high, each pixel the mean of a 2 × 2 block.
fn halved(gray: &GrayImage) -> GrayImage {
    let (w, h) = (gray.width() / 2, gray.height() / 2);
    GrayImage::from_fn(w, h, |x, y| {
        let at = |dx, dy| u16::from(gray.get_pixel(2 * x + dx, 2 * y + dy)[0]);
        image::Luma([((at(0, 0) + at(1, 0) + at(0, 1) + at(1, 1) + 2) / 4) as u8])
    })
}

fn with_zxing(gray: &GrayImage, binarizer: zxingcpp::Binarizer) -> Option<String> {
    zxing(gray, binarizer, false)
        .ok()?
        .into_iter()
        .find(|code| code.is_valid())
        .map(|code| code.text())
}

/// zxing-cpp's reader on a grey frame; with `errors`, also the codes it found but could
/// not read, each with its corners.
fn zxing(
    gray: &GrayImage,
    binarizer: zxingcpp::Binarizer,
    errors: bool,
) -> Result<Vec<zxingcpp::Barcode>, zxingcpp::Error> {
    let (w, h) = gray.dimensions();
    let view = zxingcpp::ImageView::from_slice(gray.as_raw(), w, h, zxingcpp::ImageFormat::Lum)?;
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
        .return_errors(errors)
        .max_number_of_symbols(if errors { 4 } else { 1 })
        .from(view)
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

    /// A code as a kiosk's 1280×720 camera shows it: small, on a light ground.
    fn in_camera_frame(code: &GrayImage) -> GrayImage {
        let mut frame = GrayImage::from_pixel(1280, 720, image::Luma([200]));
        imageops::overlay(&mut frame, code, 500, 250);
        frame
    }

    #[test]
    fn every_strategy_reads_what_it_is_made_for() {
        let frame = Frame::from_gray(in_camera_frame(&code("ML-DRESS-01-TERRACOTTA-M", 5)));
        // Not the inverted pass, nor the straightened one, which reads only codes
        // zxing-cpp found but could not read (its own test below).
        for strategy in Strategy::ALL {
            if ![Strategy::ZxingInverted, Strategy::Straightened].contains(&strategy) {
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
    fn a_code_too_blurred_for_the_detector_s_sampling_is_read_straightened() {
        // At six pixels a module, a Gaussian blur of σ 3.4 px: zxing-cpp finds the code
        // but misreads too many modules.
        let text = "ML-DRESS-01-TERRACOTTA-M https://shop.example/p/terracotta-dress";
        let frame = Frame::from_gray(imageops::blur(&code(text, 6), 3.4));
        assert_eq!(read(&frame, Strategy::Zxing), None);
        let read = read(&frame, Strategy::Straightened).map(|r| r.text);
        assert_eq!(read.as_deref(), Some(text));
    }

    #[test]
    fn a_code_under_a_lamp_s_reflection_is_read_on_its_local_contrast() {
        // The frame dimmed to 60 % in linear light, under a reflection as bright as white,
        // 40 px wide, on the code's middle.
        let text = "ML-DRESS-01-TERRACOTTA-M";
        let printed = code(text, 5);
        let frame = in_camera_frame(&printed);
        let (cx, cy) = (
            500.0 + printed.width() as f32 / 2.0,
            250.0 + printed.height() as f32 / 2.0,
        );
        let lit = GrayImage::from_fn(1280, 720, |x, y| {
            let screen = (f32::from(frame.get_pixel(x, y)[0]) / 255.0).powf(2.2) * 0.6;
            let d2 = (x as f32 - cx).powi(2) + (y as f32 - cy).powi(2);
            let light = screen + (-d2 / (2.0 * 40.0 * 40.0)).exp();
            image::Luma([(255.0 * light.min(1.0).powf(1.0 / 2.2)) as u8])
        });
        let frame = Frame::from_gray(lit);
        assert_eq!(read(&frame, Strategy::Zxing), None);
        let read = read(&frame, Strategy::Normalized).map(|r| r.text);
        assert_eq!(read.as_deref(), Some(text));
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
        assert_eq!(read_still(&Frame::from_gray(noise.clone())), None);
        assert_eq!(read_still(&Frame::from_gray(GrayImage::new(1, 1))), None);
        assert_eq!(read_still(&Frame::from_gray(GrayImage::new(0, 0))), None);
        // Our own preprocessing, outside `catch_unwind`: nothing panics or reads.
        assert_eq!(normalize(&GrayImage::new(2001, 3)).dimensions(), (1000, 1));
        for frame in [
            noise,
            GrayImage::new(0, 0),
            GrayImage::new(1, 9),
            GrayImage::new(640, 480),
        ] {
            assert_eq!(straightened(&frame), None);
            assert_eq!(normalize(&frame).dimensions(), frame.dimensions());
            assert_eq!(flatten(&frame).dimensions(), frame.dimensions());
        }
    }

    #[test]
    fn only_convex_corners_are_straightened() {
        assert!(convex([(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)]));
        assert!(convex([(0.0, 0.0), (0.0, 10.0), (10.0, 10.0), (10.0, 0.0)]));
        assert!(!convex([(0.0, 0.0), (10.0, 10.0), (10.0, 0.0), (0.0, 10.0)]));
        assert!(!convex([(0.0, 0.0), (10.0, 0.0), (20.0, 0.0), (0.0, 10.0)]));
    }
}
