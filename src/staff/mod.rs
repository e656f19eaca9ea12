//! Staff mode below the UI.
//!
//! - [`pin`]: PINs (Argon2id hash and check), badges, the keypad's lock. No I/O; takes
//!   `now`.
//! - [`roster`]: the kiosk's copy of its shop's assistants, the keypad's lock as saved,
//!   and the audit events kept until the hub has them.
//!
//! The hub's side (assistants per shop, their badges, the audit log) is `hub::staff`.

pub mod pin;
pub mod roster;
