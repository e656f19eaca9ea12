//! Where frames come from: the camera (`super::device`), or a replay of pictures behind
//! the same trait.
//!
//! A replay plays a folder of pictures (in name order) or one file (a picture, or an
//! MJPEG stream: JPEG frames one after another) at a given rate, the way a camera
//! would deliver them. Tests, evals and the demo use it when no camera is present.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use image::DynamicImage;

/// The largest picture file a replay reads.
const MAX_FILE_BYTES: u64 = 64 << 20;
/// The most frames a replay holds.
const MAX_FRAMES: usize = 10_000;

/// What a source has next.
pub enum Next {
    Frame(DynamicImage),
    /// No frame for now (a camera unplugged, or not there yet), and why; ask again.
    Waiting(String),
    /// A replay played its last frame.
    Ended,
}

/// A source of camera frames.
pub trait FrameSource: Send {
    /// The next frame, waiting for it as a camera would (up to about a second).
    fn next_frame(&mut self) -> anyhow::Result<Next>;
    /// What it is, for logs and the staff health screen.
    fn describe(&self) -> String;
}

/// Frames from pictures, at a fixed rate.
pub struct Replay {
    name: String,
    frames: Vec<Frame>,
    next: usize,
    every: Duration,
    due: Option<Instant>,
}

enum Frame {
    File(PathBuf),
    Jpeg(Vec<u8>),
}

impl Replay {
    /// `dir:PATH` or `file:PATH`, as `vitrine scan --source` takes them.
    pub fn parse(spec: &str, fps: f64) -> anyhow::Result<Replay> {
        match spec.split_once(':') {
            Some(("dir", path)) => Replay::dir(Path::new(path), fps),
            Some(("file", path)) => Replay::file(Path::new(path), fps),
            _ => bail!("a replay source is dir:PATH or file:PATH, not {spec:?}"),
        }
    }

    /// Every picture in `dir`, in name order.
    pub fn dir(dir: &Path, fps: f64) -> anyhow::Result<Replay> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read the folder {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "png" | "jpg" | "jpeg" | "webp"))
            })
            .collect();
        paths.sort();
        if paths.is_empty() {
            bail!("{} holds no PNG, JPEG or WebP picture", dir.display());
        }
        paths.truncate(MAX_FRAMES);
        Replay::new(
            format!("dir:{}", dir.display()),
            paths.into_iter().map(Frame::File).collect(),
            fps,
        )
    }

    /// One picture, or an MJPEG stream (JPEG frames one after another).
    pub fn file(path: &Path, fps: f64) -> anyhow::Result<Replay> {
        let size = std::fs::metadata(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .len();
        if size > MAX_FILE_BYTES {
            bail!("{} is larger than {MAX_FILE_BYTES} bytes", path.display());
        }
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let jpegs = split_mjpeg(&bytes);
        let frames = if jpegs.len() > 1 {
            jpegs
                .into_iter()
                .take(MAX_FRAMES)
                .map(|j| Frame::Jpeg(j.to_vec()))
                .collect()
        } else {
            vec![Frame::File(path.to_owned())]
        };
        Replay::new(format!("file:{}", path.display()), frames, fps)
    }

    fn new(name: String, frames: Vec<Frame>, fps: f64) -> anyhow::Result<Replay> {
        if !(fps.is_finite() && (0.1..=240.0).contains(&fps)) {
            bail!("the frame rate is between 0.1 and 240 per second, not {fps}");
        }
        Ok(Replay {
            name,
            frames,
            next: 0,
            every: Duration::from_secs_f64(1.0 / fps),
            due: None,
        })
    }

    /// How many frames it plays.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }
}

impl FrameSource for Replay {
    fn next_frame(&mut self) -> anyhow::Result<Next> {
        let Some(frame) = self.frames.get(self.next) else {
            return Ok(Next::Ended);
        };
        self.next += 1;
        // Paced like a camera: a frame every 1/fps, however fast the reader.
        let now = Instant::now();
        let due = self.due.unwrap_or(now);
        if due > now {
            std::thread::sleep(due - now);
        }
        self.due = Some(due.max(now) + self.every);
        let picture = match frame {
            Frame::File(path) => image::ImageReader::open(path)?.with_guessed_format()?.decode(),
            Frame::Jpeg(bytes) => image::load_from_memory_with_format(bytes, image::ImageFormat::Jpeg),
        };
        Ok(Next::Frame(
            picture.with_context(|| format!("frame {} of {}", self.next, self.name))?,
        ))
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}

/// Splits a stream of concatenated JPEGs at each end-of-image marker followed by a
/// start-of-image marker (inside a JPEG's entropy-coded data 0xFF is always stuffed, so
/// the pair cannot occur there).
fn split_mjpeg(bytes: &[u8]) -> Vec<&[u8]> {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return vec![bytes];
    }
    let mut frames = Vec::new();
    let mut start = 0;
    let mut i = 2;
    while i + 3 < bytes.len() {
        if bytes[i..i + 4] == [0xFF, 0xD9, 0xFF, 0xD8] {
            frames.push(&bytes[start..i + 2]);
            start = i + 2;
            i += 4;
        } else {
            i += 1;
        }
    }
    frames.push(&bytes[start..]);
    frames
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_mjpeg_stream_splits_into_its_frames() {
        let jpeg = |shade: u8| {
            let mut out = std::io::Cursor::new(Vec::new());
            image::GrayImage::from_pixel(16, 16, image::Luma([shade]))
                .write_to(&mut out, image::ImageFormat::Jpeg)
                .unwrap();
            out.into_inner()
        };
        let stream: Vec<u8> = [jpeg(10), jpeg(128), jpeg(250)].concat();
        let frames = split_mjpeg(&stream);
        assert_eq!(frames.len(), 3);
        let shades: Vec<u8> = frames
            .iter()
            .map(|f| image::load_from_memory(f).unwrap().to_luma8().get_pixel(8, 8)[0])
            .collect();
        assert!(
            shades[0] < 40 && (100..160).contains(&shades[1]) && shades[2] > 220,
            "{shades:?}"
        );
        assert_eq!(split_mjpeg(b"not a jpeg").len(), 1);
    }
}
