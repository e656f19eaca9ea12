//! `vitrine eval qr-screens`: camera frames of QR codes shown on a phone screen, with the
//! text each holds, written as a manifest `vitrine eval qr` reads.
//!
//! Shoppers show their code on a phone. The kiosk's camera sees it through the screen's
//! pixel grid (moiré where the grid and the sensor beat), under the shop's lights (glare
//! spots, a veil of reflected light), tilted, out of focus, noisy and compressed. No
//! public set has such photos with their payloads, so they are rendered here from a
//! physical model, seeded (the same seed writes the same set):
//!
//! - the phone's page is drawn at the screen's resolution (a wallet pass: header, the
//!   code in whole pixels per module, text; or a page without a code, with icons that
//!   look like finder patterns, for false reads);
//! - the phone is placed in front of a pinhole camera (1920×1080, 70° across) with a
//!   rotation and a tilt, and each camera pixel integrates 3×3 samples of the light the
//!   screen emits: red, green and blue stripes with black gaps between them, so the
//!   moiré comes from the beat between the two grids, as in a photo (point samples
//!   alias a little more than a sensor's whole-pixel area and colour filter would);
//! - glare (specular spots, a veil over the glass) is added in linear light, then lens
//!   blur (defocus, or motion), the sensor's gamma and noise, and JPEG compression.
//!
//! Each category pushes one of these to what a shop sees on a bad day; the others stay
//! at everyday levels. The ranges were set from the physics before any decoder was run on
//! the set, and are not tuned to a decoder.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use image::{ImageBuffer, Rgb, RgbImage, imageops};

use super::Rng;

/// The camera's frame, in pixels, and its horizontal field of view.
const FRAME: (u32, u32) = (1920, 1080);
const FIELD_OF_VIEW_DEG: f64 = 70.0;
/// The black glass around a phone's screen.
const BEZEL_MM: f64 = 3.5;

/// What each category pushes to its limit. `NoCode` shows a page without any code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Moire,
    Glare,
    Tilt,
    Blur,
    Dark,
    NoCode,
    /// A frame where glare left nothing to read (see [`Glare::erases`]): reported
    /// apart, as a decoder reads one only by luck.
    GlareErased,
}

impl Category {
    pub const ALL: [Category; 6] = [
        Category::Moire,
        Category::Glare,
        Category::Tilt,
        Category::Blur,
        Category::Dark,
        Category::NoCode,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Category::Moire => "screen_moire",
            Category::Glare => "screen_glare",
            Category::Tilt => "screen_tilt",
            Category::Blur => "screen_blur",
            Category::Dark => "screen_dark",
            Category::NoCode => "screen_no_code",
            Category::GlareErased => "screen_glare_erased",
        }
    }
}

/// One rendered frame and the text its code holds (`""`: no code).
pub struct Shot {
    pub picture: RgbImage,
    pub expected: String,
    pub category: Category,
}

/// Writes `count` frames as JPEG files and `manifest.tsv` into `dir`; the categories
/// take turns.
pub fn write(dir: &Path, count: usize, seed: u64) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut manifest = String::from("path\texpected\tcategory\tsource\tlicence\n");
    for index in 0..count {
        let category = Category::ALL[index % Category::ALL.len()];
        let shot = render(category, seed, index as u64);
        let name = format!("screen-{index:04}.jpg");
        let mut rng = case_rng(seed, index as u64, 1);
        let quality = if category == Category::Blur {
            rng.between(45.0, 75.0)
        } else {
            rng.between(55.0, 92.0)
        } as u8;
        let file = std::fs::File::create(dir.join(&name)).with_context(|| format!("cannot write {name}"))?;
        let mut out = std::io::BufWriter::new(file);
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
            .encode_image(&shot.picture)
            .with_context(|| format!("cannot encode {name}"))?;
        writeln!(
            manifest,
            "{name}\t{}\t{}\tvitrine eval qr-screens --seed {seed}\tCC0-1.0",
            serde_json::to_string(&shot.expected)?,
            shot.category.name()
        )?;
    }
    std::fs::write(dir.join("manifest.tsv"), manifest).context("cannot write manifest.tsv")?;
    Ok(())
}

fn case_rng(seed: u64, index: u64, stream: u64) -> Rng {
    let mut rng = Rng(seed ^ index.wrapping_mul(0xA24B_AED4_963E_E407) ^ stream.wrapping_mul(0x9FB2_1C65_1E98_DF5E));
    rng.next();
    rng
}

/// Renders frame `index` of the set `seed`, in `category`.
pub fn render(category: Category, seed: u64, index: u64) -> Shot {
    let mut rng = case_rng(seed, index, 0);
    let (expected, code) = if category == Category::NoCode {
        (String::new(), None)
    } else {
        let (text, level) = payload(&mut rng);
        let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), level)
            .expect("payloads are sized to fit a QR code");
        (text, Some(code))
    };
    let phone = Phone::new(&mut rng, category);
    let page = phone.page(&mut rng, category, code.as_ref());
    let pose = Pose::new(&mut rng, category, &phone, &page);
    let mut light = expose(&phone, &page, &pose);
    let glare = Glare::new(&mut rng, category, &pose);
    glare.add_to(&mut light, &pose, &phone);
    let light = blur(&mut rng, category, light);
    let exposure = rng.between(0.8, 1.25) as f32;
    let picture = develop(&mut rng, category, &light, exposure);
    let category = if glare.erases(&page, &pose, &phone, exposure) {
        Category::GlareErased
    } else {
        category
    };
    Shot {
        picture,
        expected,
        category,
    }
}

/// What shoppers' codes say: mostly the hub's customer tokens (202 digits, level M),
/// then links, SKUs, and a few long texts (high versions).
fn payload(rng: &mut Rng) -> (String, qrcode::EcLevel) {
    let digits = |rng: &mut Rng, n: usize| {
        (0..n)
            .map(|_| char::from(b'0' + rng.below(10) as u8))
            .collect::<String>()
    };
    match rng.below(20) {
        0..=10 => (format!("01{}", digits(rng, 200)), qrcode::EcLevel::M),
        11..=13 => (
            format!(
                "https://shop.example/p/{}?utm_source=app&c={}",
                digits(rng, 8),
                digits(rng, 12)
            ),
            qrcode::EcLevel::M,
        ),
        14 => (
            format!("https://id.gs1.org/01/0{}/10/L{}", digits(rng, 13), digits(rng, 4)),
            qrcode::EcLevel::Q,
        ),
        15..=17 => (
            format!("ML-{}-{}", digits(rng, 5), rng.pick(&["S", "M", "L", "XL"])),
            qrcode::EcLevel::H,
        ),
        _ => {
            let words = [
                "lin",
                "robe",
                "terracotta",
                "coton",
                "bleu",
                "taille",
                "retrait",
                "boutique",
            ];
            let text = (0..rng.below(30) + 25)
                .map(|_| rng.pick(&words))
                .collect::<Vec<_>>()
                .join(" ");
            (text, qrcode::EcLevel::L)
        }
    }
}

/// A phone: its screen's size and resolution, and how bright it is.
struct Phone {
    /// Screen pixels across and down.
    columns: u32,
    rows: u32,
    /// Millimetres per screen pixel.
    pitch: f64,
    /// The light a white pixel gives, relative to the exposure.
    brightness: f64,
    dark_mode: bool,
}

impl Phone {
    fn new(rng: &mut Rng, category: Category) -> Phone {
        let columns = [1080, 1170, 1179, 1284, 1440, 750][rng.below(6)];
        let width_mm = rng.between(62.0, 71.0);
        Phone {
            columns,
            rows: columns * 216 / 100,
            pitch: width_mm / f64::from(columns),
            brightness: if category == Category::Dark {
                rng.between(0.35, 0.7)
            } else {
                rng.between(0.7, 1.0)
            },
            dark_mode: category == Category::Dark || rng.below(10) == 0,
        }
    }

    /// Where the glass ends, right and bottom, in millimetres from the screen's top-left
    /// corner (it starts one bezel before it).
    fn glass_mm(&self) -> (f64, f64) {
        (
            f64::from(self.columns) * self.pitch + BEZEL_MM,
            f64::from(self.rows) * self.pitch + BEZEL_MM,
        )
    }

    /// The page shown: a header, the code (or a picture), lines of text.
    fn page(&self, rng: &mut Rng, category: Category, code: Option<&qrcode::QrCode>) -> Page {
        let (w, h) = (self.columns, self.rows);
        let ground = if self.dark_mode {
            Rgb([18, 18, 20])
        } else {
            Rgb([246, 246, 244])
        };
        let ink = if self.dark_mode {
            Rgb([225, 225, 225])
        } else {
            Rgb([40, 40, 45])
        };
        let mut screen = RgbImage::from_pixel(w, h, ground);
        let brand = Rgb([
            rng.below(200) as u8 + 20,
            rng.below(160) as u8 + 20,
            rng.below(200) as u8 + 30,
        ]);
        fill(&mut screen, 0, 0, w, h * 9 / 100, brand);
        let top = h * 20 / 100;
        let mut code_box = None;
        let mut code_modules = 0;
        let mut drawn_dark = Vec::new();
        let mut restores = 0.0;
        let below;
        if let Some(code) = code {
            let modules = code.width() as u32;
            // Apps draw a code in whole pixels per module, about 55–75 % of the width.
            let scale = (((f64::from(w) * rng.between(0.55, 0.75)) / f64::from(modules + 8)).floor() as u32).max(2);
            let side = (modules + 8) * scale;
            let left = (w - side.min(w)) / 2;
            // White on black in a dark theme half the time; a white card otherwise.
            let inverted = self.dark_mode && category == Category::Dark && rng.below(2) == 0;
            let (light, dark) = if inverted {
                (Rgb([18, 18, 20]), Rgb([235, 235, 235]))
            } else {
                (Rgb([255, 255, 255]), Rgb([0, 0, 0]))
            };
            fill(&mut screen, left, top, side, side, light);
            let colors = code.to_colors();
            // The modules drawn dark, whichever colour the code says they are.
            drawn_dark = colors.iter().map(|c| (*c == qrcode::Color::Dark) != inverted).collect();
            restores = match code.error_correction_level() {
                qrcode::EcLevel::L => 0.07,
                qrcode::EcLevel::M => 0.15,
                qrcode::EcLevel::Q => 0.25,
                qrcode::EcLevel::H => 0.30,
            };
            for (i, color) in colors.iter().enumerate() {
                if *color == qrcode::Color::Dark {
                    let (x, y) = ((i as u32 % modules + 4) * scale, (i as u32 / modules + 4) * scale);
                    fill(&mut screen, left + x, top + y, scale, scale, dark);
                }
            }
            code_box = Some((left + 4 * scale, top + 4 * scale, modules * scale));
            code_modules = modules;
            below = top + side;
        } else {
            // A product picture, and icons that a detector may take for finder patterns.
            let side = w * 6 / 10;
            let left = (w - side) / 2;
            let tint = [rng.below(255) as u8, rng.below(255) as u8, rng.below(255) as u8];
            for y in top..top + side {
                for x in left..left + side {
                    let t = (x - left + y - top) as f64 / (2 * side) as f64;
                    let c = |k: usize| (f64::from(tint[k]) * (0.4 + 0.6 * t)) as u8;
                    screen.put_pixel(x, y, Rgb([c(0), c(1), c(2)]));
                }
            }
            for icon in 0..4 {
                let s = w / 12;
                let x = w / 10 + icon * w / 5;
                let y = top + side + w / 20;
                fill(&mut screen, x, y, s, s, ink);
                fill(&mut screen, x + s / 7, y + s / 7, s * 5 / 7, s * 5 / 7, ground);
                fill(&mut screen, x + s * 2 / 7, y + s * 2 / 7, s * 3 / 7, s * 3 / 7, ink);
            }
            below = top + side + w / 6;
        }
        // Lines of text, as grey bars of words.
        let line = (w / 28).max(4);
        let mut y = below + line * 2;
        while y + line < h {
            let mut x = w / 12;
            while x < w * 11 / 12 {
                let word = (rng.below(6) as u32 + 2) * line / 2;
                fill(&mut screen, x, y, word.min(w * 11 / 12 - x), line * 7 / 10, ink);
                x += word + line / 2;
            }
            y += line * 2;
        }
        Page {
            screen,
            code_box,
            modules: code_modules,
            dark: drawn_dark,
            restores,
        }
    }
}

/// The screen's picture, and where the code's modules are on it (left, top, side).
struct Page {
    screen: RgbImage,
    code_box: Option<(u32, u32, u32)>,
    /// Modules across the code (0 without one).
    modules: u32,
    /// Each module (row by row), whether it is drawn dark.
    dark: Vec<bool>,
    /// The share of modules its error correction level restores.
    restores: f64,
}

fn fill(image: &mut RgbImage, x: u32, y: u32, w: u32, h: u32, color: Rgb<u8>) {
    let (iw, ih) = image.dimensions();
    for yy in y.min(ih)..(y + h).min(ih) {
        for xx in x.min(iw)..(x + w).min(iw) {
            image.put_pixel(xx, yy, color);
        }
    }
}

/// Where the phone is in front of the camera: the homography from the screen's
/// millimetres to the frame's pixels, and back.
struct Pose {
    to_frame: [[f64; 3]; 3],
    to_screen: [[f64; 3]; 3],
    /// The phone's outline in the frame, for glare: corners of the glass.
    glass: [(f64, f64); 4],
}

impl Pose {
    fn new(rng: &mut Rng, category: Category, phone: &Phone, page: &Page) -> Pose {
        let (fw, fh) = (f64::from(FRAME.0), f64::from(FRAME.1));
        let focal = fw / 2.0 / (FIELD_OF_VIEW_DEG.to_radians() / 2.0).tan();
        let (left, top, side) = page
            .code_box
            .unwrap_or((phone.columns / 5, phone.rows / 5, phone.columns * 6 / 10));
        let code_mm = f64::from(side) * phone.pitch;
        let centre = (
            (f64::from(left) + f64::from(side) / 2.0) * phone.pitch,
            (f64::from(top) + f64::from(side) / 2.0) * phone.pitch,
        );
        // How wide the code looks: in the moiré category, close enough that a camera pixel
        // sees one to two screen pixels (farther where the code would not fit the frame).
        let code_px = if category == Category::Moire {
            f64::from(side) / rng.between(0.9, 2.2)
        } else {
            // At least 4.5 pixels a module: 3 at 720p, what any reader needs (the scan
            // sheet asks shoppers to come closer below that).
            rng.between(200.0, 650.0).max(f64::from(page.modules) * 4.5)
        };
        let (tilt, roll) = if category == Category::Tilt {
            (rng.between(20.0, 40.0), rng.between(-180.0, 180.0))
        } else if rng.below(10) == 0 {
            (rng.between(0.0, 15.0), rng.between(-180.0, 180.0))
        } else {
            (rng.between(0.0, 15.0), rng.between(-25.0, 25.0))
        };
        let direction = rng.between(0.0, std::f64::consts::TAU);
        let (about_x, about_y) = (tilt * direction.cos(), tilt * direction.sin());
        let turn = rotation(about_x.to_radians(), about_y.to_radians(), roll.to_radians());
        let mut distance = focal * code_mm / code_px;
        // The code's centre somewhere in the frame, the code whole inside it; where it
        // fits nowhere, the phone is held a little farther.
        let to_frame = 'placed: loop {
            for attempt in 0..40 {
                let (x, y) = if attempt < 39 {
                    (rng.between(0.2, 0.8) * fw, rng.between(0.2, 0.8) * fh)
                } else {
                    (fw / 2.0, fh / 2.0)
                };
                let t = [
                    (x - fw / 2.0) * distance / focal,
                    (y - fh / 2.0) * distance / focal,
                    distance,
                ];
                let to_frame = homography(focal, (fw / 2.0, fh / 2.0), &turn, t, centre);
                let corners = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)].map(|(a, b)| {
                    apply(
                        &to_frame,
                        (f64::from(left) + a * f64::from(side)) * phone.pitch,
                        (f64::from(top) + b * f64::from(side)) * phone.pitch,
                    )
                });
                // The whole phone at least 3 cm in front of the lens (a steep tilt close up
                // would put a corner behind it).
                let in_front = glass_corners(phone).iter().all(|&(u, v)| depth(&to_frame, u, v) > 30.0);
                if in_front
                    && corners
                        .iter()
                        .all(|&(cx, cy)| cx > 12.0 && cy > 12.0 && cx < fw - 12.0 && cy < fh - 12.0)
                {
                    break 'placed to_frame;
                }
            }
            distance *= 1.1;
        };
        let glass = glass_corners(phone).map(|(u, v)| apply(&to_frame, u, v));
        Pose {
            to_screen: invert(&to_frame),
            to_frame,
            glass,
        }
    }
}

/// The glass's corners in millimetres from the screen's top-left corner, clockwise.
fn glass_corners(phone: &Phone) -> [(f64, f64); 4] {
    let (right, bottom) = phone.glass_mm();
    [
        (-BEZEL_MM, -BEZEL_MM),
        (right, -BEZEL_MM),
        (right, bottom),
        (-BEZEL_MM, bottom),
    ]
}

/// How far in front of the camera the plane's point (u, v) is, in millimetres.
fn depth(h: &[[f64; 3]; 3], u: f64, v: f64) -> f64 {
    h[2][0] * u + h[2][1] * v + h[2][2]
}

fn rotation(pitch: f64, yaw: f64, roll: f64) -> [[f64; 3]; 3] {
    let (sp, cp) = pitch.sin_cos();
    let (sy, cy) = yaw.sin_cos();
    let (sr, cr) = roll.sin_cos();
    let rx = [[1.0, 0.0, 0.0], [0.0, cp, -sp], [0.0, sp, cp]];
    let ry = [[cy, 0.0, sy], [0.0, 1.0, 0.0], [-sy, 0.0, cy]];
    let rz = [[cr, -sr, 0.0], [sr, cr, 0.0], [0.0, 0.0, 1.0]];
    multiply(&rz, &multiply(&ry, &rx))
}

fn multiply(a: &[[f64; 3]; 3], b: &[[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let mut m = [[0.0; 3]; 3];
    for (i, row) in m.iter_mut().enumerate() {
        for (j, cell) in row.iter_mut().enumerate() {
            *cell = (0..3).map(|k| a[i][k] * b[k][j]).sum();
        }
    }
    m
}

/// The plane's point (u, v) mm, `centre` at the origin of the phone's frame, rotated
/// and moved by `t`, seen through a pinhole of focal length `focal` pixels.
fn homography(focal: f64, principal: (f64, f64), r: &[[f64; 3]; 3], t: [f64; 3], centre: (f64, f64)) -> [[f64; 3]; 3] {
    // [r1 r2 t'] with t' = t - r1·cu - r2·cv, so that (cu, cv) lands on t.
    let t2 = [0, 1, 2].map(|i| t[i] - r[i][0] * centre.0 - r[i][1] * centre.1);
    let rt = [
        [r[0][0], r[0][1], t2[0]],
        [r[1][0], r[1][1], t2[1]],
        [r[2][0], r[2][1], t2[2]],
    ];
    let k = [[focal, 0.0, principal.0], [0.0, focal, principal.1], [0.0, 0.0, 1.0]];
    multiply(&k, &rt)
}

fn apply(h: &[[f64; 3]; 3], x: f64, y: f64) -> (f64, f64) {
    let w = h[2][0] * x + h[2][1] * y + h[2][2];
    (
        (h[0][0] * x + h[0][1] * y + h[0][2]) / w,
        (h[1][0] * x + h[1][1] * y + h[1][2]) / w,
    )
}

fn invert(m: &[[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let c = |row: usize, column: usize| m[row % 3][column % 3];
    let mut adj = [[0.0; 3]; 3];
    for (i, row) in adj.iter_mut().enumerate() {
        for (j, cell) in row.iter_mut().enumerate() {
            // The cofactor of (j, i): the transpose of the cofactor matrix.
            *cell = c(j + 1, i + 1) * c(j + 2, i + 2) - c(j + 1, i + 2) * c(j + 2, i + 1);
        }
    }
    let det: f64 = (0..3).map(|k| m[0][k] * adj[k][0]).sum();
    adj.map(|row| row.map(|v| v / det))
}

/// Linear light arriving on the sensor, red, green and blue per pixel.
type Light = ImageBuffer<Rgb<f32>, Vec<f32>>;

/// The light each camera pixel gathers: the shop behind, the phone's body, and the
/// screen's subpixels, 3×3 samples per pixel.
fn expose(phone: &Phone, page: &Page, pose: &Pose) -> Light {
    let lut: Vec<f32> = (0..=255u8).map(|v| (f64::from(v) / 255.0).powf(2.2) as f32).collect();
    let (screen_w, screen_h) = (f64::from(phone.columns), f64::from(phone.rows));
    let bezel = BEZEL_MM / phone.pitch;
    // A stripe lights 76 % of its third, 88 % of the pixel's height: white averages to
    // the phone's brightness.
    let gain = (phone.brightness / (0.76 * 0.88)) as f32;
    let (min_x, max_x, min_y, max_y) = pose
        .glass
        .iter()
        .fold((f64::MAX, f64::MIN, f64::MAX, f64::MIN), |(a, b, c, d), &(x, y)| {
            (a.min(x), b.max(x), c.min(y), d.max(y))
        });
    Light::from_fn(FRAME.0, FRAME.1, |x, y| {
        let (xf, yf) = (f64::from(x), f64::from(y));
        let shop = Rgb([
            0.18 + 0.10 * (yf / f64::from(FRAME.1)) as f32,
            0.16 + 0.06 * (xf / f64::from(FRAME.0)) as f32,
            0.13,
        ]);
        if xf + 1.0 < min_x || xf > max_x || yf + 1.0 < min_y || yf > max_y {
            return shop;
        }
        let mut sum = [0.0f32; 3];
        for s in 0..3 {
            for t in 0..3 {
                let (u, v) = apply(
                    &pose.to_screen,
                    xf + (f64::from(s) + 0.5) / 3.0,
                    yf + (f64::from(t) + 0.5) / 3.0,
                );
                let (px, py) = (u / phone.pitch, v / phone.pitch);
                if px < -bezel || py < -bezel || px >= screen_w + bezel || py >= screen_h + bezel {
                    for (k, value) in sum.iter_mut().enumerate() {
                        *value += shop[k];
                    }
                    continue;
                }
                if px < 0.0 || py < 0.0 || px >= screen_w || py >= screen_h {
                    // The glass over the bezel: black.
                    continue;
                }
                let (col, row) = (px as u32, py as u32);
                let third = px.fract() * 3.0;
                let channel = third as usize;
                let inside = third.fract();
                if (0.12..0.88).contains(&inside) && (0.06..0.94).contains(&py.fract()) {
                    let value = page.screen.get_pixel(col, row)[channel.min(2)];
                    sum[channel.min(2)] += lut[usize::from(value)] * gain * 3.0;
                }
            }
        }
        Rgb(sum.map(|v| v / 9.0))
    })
}

/// The shop's lights on the glass: a veil everywhere on it (brighter towards the phone's
/// bottom, where a ceiling's light reflects), and lamps' specular spots.
struct Glare {
    veil: f32,
    /// Centre x, y (frame pixels), long and short radius, angle, peak.
    spots: Vec<(f64, f64, f64, f64, f64, f32)>,
}

impl Glare {
    fn new(rng: &mut Rng, category: Category, pose: &Pose) -> Glare {
        let strong = category == Category::Glare;
        let veil = if strong {
            rng.between(0.08, 0.3)
        } else {
            rng.between(0.0, 0.06)
        } as f32;
        let spots = if strong {
            1 + rng.below(2)
        } else {
            usize::from(rng.below(4) == 0)
        };
        let centre = pose
            .glass
            .iter()
            .fold((0.0, 0.0), |(a, b), &(x, y)| (a + x / 4.0, b + y / 4.0));
        let reach = ((pose.glass[0].0 - pose.glass[2].0).hypot(pose.glass[0].1 - pose.glass[2].1)) / 2.0;
        let spots = (0..spots)
            .map(|_| {
                let (x, y) = (
                    centre.0 + rng.between(-0.35, 0.35) * reach,
                    centre.1 + rng.between(-0.35, 0.35) * reach,
                );
                let long = rng.between(0.04, 0.14) * reach;
                let short = long * rng.between(0.25, 1.0);
                let angle = rng.between(0.0, std::f64::consts::PI);
                let peak = if strong {
                    rng.between(0.6, 2.0)
                } else {
                    rng.between(0.3, 0.8)
                } as f32;
                (x, y, long, short, angle, peak)
            })
            .collect();
        Glare { veil, spots }
    }

    /// The light added at frame pixel (x, y), `down` of the way from the glass's top.
    fn at(&self, x: f64, y: f64, down: f64) -> f32 {
        let mut add = self.veil * (0.6 + 0.8 * down as f32);
        for &(sx, sy, long, short, angle, peak) in &self.spots {
            let (dx, dy) = (x - sx, y - sy);
            let (sin, cos) = angle.sin_cos();
            let (a, b) = ((dx * cos + dy * sin) / long, (-dx * sin + dy * cos) / short);
            add += peak * (-(a * a + b * b) / 2.0).exp() as f32;
        }
        add
    }

    fn add_to(&self, light: &mut Light, pose: &Pose, phone: &Phone) {
        let (width_mm, height_mm) = phone.glass_mm();
        for (x, y, pixel) in light.enumerate_pixels_mut() {
            let (xf, yf) = (f64::from(x) + 0.5, f64::from(y) + 0.5);
            let (u, v) = apply(&pose.to_screen, xf, yf);
            if u < -BEZEL_MM || v < -BEZEL_MM || u > width_mm || v > height_mm {
                continue;
            }
            let add = self.at(xf, yf, v / height_mm);
            for value in &mut pixel.0 {
                *value += add;
            }
        }
    }

    /// Whether the glare leaves nothing to read: a finder pattern's centre, or more of
    /// the code's dark modules than its error correction restores, lit to within a tenth
    /// of white after the sensor's gamma (no decoder can tell them from light ones).
    fn erases(&self, page: &Page, pose: &Pose, phone: &Phone, exposure: f32) -> bool {
        let Some((left, top, side)) = page.code_box else {
            return false;
        };
        let n = page.modules;
        let scale = f64::from(side) / f64::from(n.max(1));
        let (_, height_mm) = phone.glass_mm();
        let erased = |i: u32, j: u32| {
            let (u, v) = (
                (f64::from(left) + (f64::from(i) + 0.5) * scale) * phone.pitch,
                (f64::from(top) + (f64::from(j) + 0.5) * scale) * phone.pitch,
            );
            let (x, y) = apply(&pose.to_frame, u, v);
            // 0.8 in linear light is 0.9 after the sensor's gamma (0.9^2.2 ≈ 0.8).
            exposure * self.at(x, y, v / height_mm) >= 0.8
        };
        // A finder is gone when its dark core is (or, drawn inverted, its dark ring).
        let drawn_dark = |i: u32, j: u32| page.dark[(j * n + i) as usize];
        for (i, j) in [(3, 3), (n - 4, 3), (3, n - 4)] {
            let marks = [(i, j), (i - 2, j), (i + 2, j), (i, j - 2), (i, j + 2)];
            if marks.into_iter().any(|(x, y)| drawn_dark(x, y) && erased(x, y)) {
                return true;
            }
        }
        let (mut dark, mut lost) = (0, 0);
        for (k, &is_dark) in page.dark.iter().enumerate() {
            if is_dark {
                dark += 1;
                lost += usize::from(erased(k as u32 % n, k as u32 / n));
            }
        }
        lost as f64 > page.restores * dark as f64
    }
}

/// The lens: out of focus (a Gaussian), or the phone moving (a streak).
fn blur(rng: &mut Rng, category: Category, light: Light) -> Light {
    let strong = category == Category::Blur;
    if strong && rng.below(3) == 0 {
        let length = rng.between(4.0, 12.0);
        let angle = rng.between(0.0, std::f64::consts::PI);
        let steps = length.ceil() as i32;
        let (w, h) = light.dimensions();
        return Light::from_fn(w, h, |x, y| {
            let mut sum = [0.0f32; 3];
            for step in 0..=steps {
                let d = f64::from(step) / f64::from(steps) * length - length / 2.0;
                let sx = (f64::from(x) + d * angle.cos()).round().clamp(0.0, f64::from(w - 1)) as u32;
                let sy = (f64::from(y) + d * angle.sin()).round().clamp(0.0, f64::from(h - 1)) as u32;
                for (k, value) in sum.iter_mut().enumerate() {
                    *value += light.get_pixel(sx, sy)[k];
                }
            }
            Rgb(sum.map(|v| v / (steps + 1) as f32))
        });
    }
    let sigma = if strong {
        rng.between(1.5, 3.2)
    } else {
        rng.between(0.4, 1.2)
    };
    imageops::fast_blur(&light, sigma as f32)
}

/// The sensor: exposure, gamma, noise, 8 bits.
fn develop(rng: &mut Rng, category: Category, light: &Light, exposure: f32) -> RgbImage {
    let noise = if category == Category::Dark {
        rng.between(3.0, 9.0)
    } else {
        rng.between(1.0, 4.0)
    };
    let mut state = rng.next() | 1;
    let mut gaussian = move || {
        // Irwin–Hall: the sum of four uniforms, close enough to a normal for noise.
        let mut sum = 0.0;
        for _ in 0..4 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            sum += (state >> 11) as f64 / (1u64 << 53) as f64;
        }
        (sum - 2.0) * 3.0f64.sqrt()
    };
    RgbImage::from_fn(light.width(), light.height(), |x, y| {
        let pixel = light.get_pixel(x, y);
        Rgb(pixel.0.map(|v| {
            let v = (v * exposure).clamp(0.0, 1.0).powf(1.0 / 2.2) * 255.0;
            (f64::from(v) + gaussian() * noise).round().clamp(0.0, 255.0) as u8
        }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::decode::{Frame, read_still};

    #[test]
    fn homographies_invert() {
        let r = rotation(0.3, -0.2, 1.0);
        let h = homography(1371.0, (960.0, 540.0), &r, [10.0, -5.0, 300.0], (30.0, 40.0));
        let back = invert(&h);
        let (x, y) = apply(&h, 12.0, 34.0);
        let (u, v) = apply(&back, x, y);
        assert!((u - 12.0).abs() < 1e-6 && (v - 34.0).abs() < 1e-6, "{u} {v}");
        // The centre lands where t points.
        let (cx, cy) = apply(&h, 30.0, 40.0);
        assert!((cx - (960.0 + 1371.0 * 10.0 / 300.0)).abs() < 1e-6, "{cx} {cy}");
    }

    #[test]
    fn the_same_seed_renders_the_same_frame_and_the_cascade_reads_it() {
        let a = render(Category::Moire, 7, 0);
        let b = render(Category::Moire, 7, 0);
        assert!(a.picture == b.picture);
        assert!(a.expected == b.expected && !a.expected.is_empty());
        let frame = Frame::new(image::DynamicImage::ImageRgb8(a.picture));
        assert_eq!(read_still(&frame).map(|r| r.text), Some(a.expected));
    }

    #[test]
    fn a_page_without_a_code_reads_nothing() {
        let shot = render(Category::NoCode, 7, 5);
        assert!(shot.expected.is_empty());
        let frame = Frame::new(image::DynamicImage::ImageRgb8(shot.picture));
        assert_eq!(read_still(&frame), None);
    }
}
