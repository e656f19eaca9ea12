//! The tablet's camera, through nokhwa (V4L2 on Linux), behind [`FrameSource`].
//!
//! nokhwa's `Camera` cannot move between threads, so it lives on a thread of its own
//! that hands frames over a one-place channel: a frame the scanner has not taken when
//! the next arrives is dropped, as everywhere in the pipeline. The thread opens the
//! camera (1280×720 MJPEG at 30 fps, or the closest the camera offers), and when it
//! is unplugged or fails, closes it and tries again every second: a camera plugged back
//! in is picked up without a restart.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::Duration;

use image::DynamicImage;
use nokhwa::Camera;
use nokhwa::pixel_format::LumaFormat;
use nokhwa::utils::{CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType, Resolution};

use super::source::{FrameSource, Next};

/// What the camera is asked for; the decoder never needs more.
const WANTED: (u32, u32, u32) = (1280, 720, 30);
/// Between two attempts to open a missing camera.
const RETRY: Duration = Duration::from_secs(1);
/// The longest `next_frame` waits before saying the camera is not there.
const PATIENCE: Duration = Duration::from_millis(500);

enum Message {
    Frame(DynamicImage),
    /// Opened, with what it negotiated.
    Opened(String),
    /// Not streaming, and why.
    Lost(String),
}

/// The camera at `/dev/videoN`, on its own thread.
pub struct Device {
    index: u32,
    frames: Receiver<Message>,
    status: String,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Device {
    /// `device` or `device:N`, as `vitrine scan --source` takes them.
    pub fn parse(spec: &str) -> Option<anyhow::Result<Device>> {
        let index = match spec.strip_prefix("device") {
            Some("") => 0,
            Some(rest) => match rest.strip_prefix(':').map(str::parse::<u32>) {
                Some(Ok(n)) if n < 64 => n,
                _ => {
                    return Some(Err(anyhow::anyhow!(
                        "a camera is device or device:N (N from 0 to 63), not {spec:?}"
                    )));
                }
            },
            None => return None,
        };
        Some(Device::open(index))
    }

    /// Starts the camera thread; the camera itself may come later (see the module).
    pub fn open(index: u32) -> anyhow::Result<Device> {
        let (tx, frames) = mpsc::sync_channel(1);
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::Builder::new()
            .name(format!("camera{index}"))
            .spawn(move || run(index, &tx, &stopped))?;
        Ok(Device {
            index,
            frames,
            status: "opening".to_owned(),
            stop,
            thread: Some(thread),
        })
    }
}

impl FrameSource for Device {
    fn next_frame(&mut self) -> anyhow::Result<Next> {
        loop {
            match self.frames.recv_timeout(PATIENCE) {
                Ok(Message::Frame(picture)) => return Ok(Next::Frame(picture)),
                Ok(Message::Opened(format)) => {
                    tracing::info!(camera = self.index, %format, "camera streaming");
                    self.status = format;
                }
                Ok(Message::Lost(why)) => {
                    tracing::warn!(camera = self.index, %why, "camera not streaming");
                    self.status.clone_from(&why);
                    return Ok(Next::Waiting(why));
                }
                Err(RecvTimeoutError::Timeout) => return Ok(Next::Waiting(self.status.clone())),
                Err(RecvTimeoutError::Disconnected) => anyhow::bail!("the camera thread stopped"),
            }
        }
    }

    fn describe(&self) -> String {
        format!("device:{} ({})", self.index, self.status)
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The camera thread: open, stream, and on any failure close and try again.
fn run(index: u32, tx: &SyncSender<Message>, stop: &AtomicBool) {
    let mut last_failure = String::new();
    while !stop.load(Ordering::Relaxed) {
        let failure = match connect(index) {
            Ok(mut camera) => {
                let format = camera.camera_format();
                let opened = format!(
                    "{} {}×{} {} at {} fps",
                    camera.info().human_name(),
                    format.width(),
                    format.height(),
                    format.format(),
                    format.frame_rate()
                );
                if !send(tx, stop, Message::Opened(opened)) {
                    return;
                }
                let failure = stream(&mut camera, tx, stop);
                let _ = camera.stop_stream();
                match failure {
                    Some(why) => why,
                    None => return,
                }
            }
            Err(e) => format!("no camera at /dev/video{index}: {e}"),
        };
        // Said once per outage, not every second.
        if failure != last_failure && !send(tx, stop, Message::Lost(failure.clone())) {
            return;
        }
        last_failure = failure;
        for _ in 0..10 {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            std::thread::sleep(RETRY / 10);
        }
    }
}

fn connect(index: u32) -> Result<Camera, nokhwa::NokhwaError> {
    let (width, height, fps) = WANTED;
    let wanted = CameraFormat::new(Resolution::new(width, height), FrameFormat::MJPEG, fps);
    let requested = RequestedFormat::new::<LumaFormat>(RequestedFormatType::Closest(wanted));
    let mut camera = Camera::new(CameraIndex::Index(index), requested)?;
    camera.open_stream()?;
    Ok(camera)
}

/// Streams until the camera fails (`Some(why)`) or the source is dropped (`None`).
fn stream(camera: &mut Camera, tx: &SyncSender<Message>, stop: &AtomicBool) -> Option<String> {
    while !stop.load(Ordering::Relaxed) {
        let buffer = match camera.frame() {
            Ok(buffer) => buffer,
            Err(e) => return Some(format!("the camera stopped: {e}")),
        };
        // A damaged frame (a USB hiccup) is skipped, not fatal.
        let Ok(gray) = buffer.decode_image::<LumaFormat>() else {
            continue;
        };
        if !send(tx, stop, Message::Frame(DynamicImage::ImageLuma8(gray))) {
            return None;
        }
    }
    None
}

/// Hands a message over, dropping a frame nobody took yet; `false` once the source is
/// gone or stopping.
fn send(tx: &SyncSender<Message>, stop: &AtomicBool, mut message: Message) -> bool {
    loop {
        match tx.try_send(message) {
            Ok(()) | Err(TrySendError::Full(Message::Frame(_))) => return true,
            Err(TrySendError::Disconnected(_)) => return false,
            // A status must get through: wait for the reader, unless it is going away.
            Err(TrySendError::Full(status)) if !stop.load(Ordering::Relaxed) => {
                message = status;
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(TrySendError::Full(_)) => return false,
        }
    }
}
