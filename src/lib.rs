//! Vitrine: the in-store half of a retailer's online and offline shop.
//!
//! See `ARCHITECTURE.md` for the map. In short, dependencies point one way, from the
//! edges (`kiosk`, `hub`, `bench`, `demo`, and the `vitrine` command) down to plain data
//! (`protocol`, `domain`).

pub mod bench;
pub mod brand;
pub mod catalog;
pub mod client;
pub mod db;
pub mod demo;
pub mod domain;
#[cfg(feature = "kiosk")]
pub mod health;
pub mod hlc;
#[cfg(feature = "hub")]
pub mod hub;
#[cfg(feature = "kiosk")]
pub mod kiosk;
pub mod net;
pub mod pairing;
pub mod pictures;
pub mod protocol;
#[cfg(feature = "kiosk")]
pub mod scan;
#[cfg(feature = "kiosk")]
pub mod speech;
pub mod staff;
pub mod sync;
pub mod token;
pub mod trust;
pub mod update;

// The console's French and English (`ui/console/console.yml`), for `rust_i18n::t!`.
#[cfg(feature = "hub")]
rust_i18n::i18n!("ui/console", fallback = "en");
