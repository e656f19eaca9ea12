//! Clients of the hub API, built on the wire types of `protocol`.
//!
//! - [`kiosk`]: the kiosk's, with its device credential (sync, pictures, pairing, staff);
//! - [`webstore`]: the web store's reference client (`vitrine webstore`), with an API key.

pub mod kiosk;
pub mod webstore;

pub use kiosk::{KioskClient, PictureError};
pub use webstore::WebStoreClient;
