//! Reading QR codes from the kiosk's camera (feature `kiosk`, no Slint).
//!
//! - [`decode`]: one frame to a payload, through a cascade of decoders;
//! - [`source`]: where frames come from (`FrameSource`; the replay of pictures);
//! - [`device`]: the camera, through nokhwa, surviving unplug and replug;
//! - [`scanner`]: the capture and decode threads, latest frame only, debounced reads;
//! - [`payload`]: what a scanned code asks for (a product by SKU, link or GS1 Digital Link);
//!
//! `vitrine eval qr` (the decode rate on real photos) is `bench::qr`.

pub mod decode;
pub mod device;
pub mod payload;
pub mod scanner;
pub mod source;

/// `device[:N]`, `dir:PATH` or `file:PATH` (pictures replayed at `fps`), as `vitrine scan
/// --source` and `vitrine kiosk --camera` take them.
pub fn open_source(spec: &str, fps: f64) -> anyhow::Result<Box<dyn source::FrameSource>> {
    if let Some(device) = device::Device::parse(spec) {
        return Ok(Box::new(device?));
    }
    source::Replay::parse(spec, fps)
        .map(|r| Box::new(r) as Box<dyn source::FrameSource>)
        .map_err(|_| anyhow::anyhow!("a frame source is device[:N], dir:PATH or file:PATH, not {spec:?}"))
}
