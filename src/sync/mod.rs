//! Offline-first sync, kiosk side: wishlist edits out, catalog changes in.
//!
//! - [`engine`]: the sender's decisions, without I/O (time and randomness are inputs);
//! - [`outbox`]: the local wishlist view, the outbox and the sender's state in SQLite;
//! - [`events`]: measurement events (visits, views, scans, searches) kept in SQLite
//!   until the hub has them, within a bound;
//! - [`driver`]: the network thread around the engine: pushes (ops, staff and
//!   measurement events), catalog pulls (with the keys, pages and staff that come with
//!   them), enrollment, the heartbeat, and the UI's questions;
//! - [`heartbeat`]: what the kiosk tells the hub of its health every minute, built from
//!   its database, its disk and the camera's health the UI reports.
//!
//! The clock that orders edits is `crate::hlc`; the HTTP client is `crate::client`.

pub mod driver;
pub mod engine;
pub mod events;
pub mod heartbeat;
pub mod outbox;
