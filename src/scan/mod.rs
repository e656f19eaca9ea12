//! Reading QR codes from the kiosk's camera (feature `kiosk`, no Slint).
//!
//! - [`decode`]: one frame to a payload, through a cascade of decoders;
//! - [`eval`]: the decode rate and time on a manifest of real photos (`vitrine eval qr`).

pub mod decode;
pub mod eval;
