//! Offline-first sync, kiosk side: wishlist edits out, catalog changes in.
//!
//! - [`engine`]: the sender's decisions, without I/O (time and randomness are inputs);
//! - [`outbox`]: the local wishlist view, the outbox and the sender's state in SQLite;
//! - [`driver`]: the network thread around the engine: pushes, catalog pulls (with the
//!   keys, pages and staff that come with them), enrollment, and the UI's questions.
//!
//! The clock that orders edits is `crate::hlc`; the HTTP client is `crate::client`.

pub mod driver;
pub mod engine;
pub mod outbox;
