//! Offline-first wishlist sync, kiosk side.
//!
//! - [`hlc`]: the hybrid logical clock that orders edits;
//! - [`engine`]: the sender's decisions, without I/O (time and randomness are inputs);
//! - [`outbox`]: the local wishlist view, the outbox and the sender's state in SQLite;
//! - [`driver`]: reqwest and tokio around the engine, and enrollment;
//! - [`pictures`]: catalog pictures fetched through the hub into a capped disk cache;
//! - [`pairing`]: sign-in with the phone, from the kiosk's side;
//! - [`trust`]: the customer-token keys, web store pages and shops the hub published;
//! - [`staff`]: the shop's assistants, the keypad's lock and its audit events.

pub mod driver;
pub mod engine;
pub mod hlc;
pub mod outbox;
pub mod pairing;
pub mod pictures;
pub mod staff;
pub mod trust;

/// The kiosk's database file inside its data directory.
pub const KIOSK_DB: &str = "kiosk.sqlite";
/// The kiosk's picture cache inside its data directory.
pub const PICTURES_DIR: &str = "pictures";
