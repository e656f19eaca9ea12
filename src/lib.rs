//! Vitrine: the in-store half of a retailer's online and offline shop.
//!
//! See `ARCHITECTURE.md` for the map. In short, dependencies point one way:
//! `cli` → `kiosk` (UI, feature `kiosk`) → `catalog` → `db`, `domain`.

pub mod bench;
pub mod catalog;
pub mod db;
pub mod demo;
pub mod domain;
#[cfg(feature = "hub")]
pub mod hub;
#[cfg(feature = "kiosk")]
pub mod kiosk;
pub mod pin;
pub mod protocol;
#[cfg(feature = "kiosk")]
pub mod scan;
pub mod sync;
pub mod token;
pub mod update;
