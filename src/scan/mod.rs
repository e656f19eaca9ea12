//! Reading QR codes from the kiosk's camera (feature `kiosk`, no Slint).
//!
//! - [`decode`]: one frame to a payload, through a cascade of decoders;
//! - [`source`]: where frames come from (`FrameSource`; the replay of pictures);
//! - [`scanner`]: the capture and decode threads, latest frame only, debounced reads;
//! - [`payload`]: what a scanned code asks for (a product by SKU, link or GS1 Digital Link);
//! - [`eval`]: the decode rate and time on a manifest of real photos (`vitrine eval qr`).

pub mod decode;
pub mod eval;
pub mod payload;
pub mod scanner;
pub mod source;
