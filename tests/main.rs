//! Vitrine's integration tests: one binary, one module per area. The kiosk's (its
//! screens, the camera) need the `kiosk` feature; the rest also runs on a hub-only build
//! (`cargo test --no-default-features --features hub`).

#[cfg(feature = "kiosk")]
mod a11y;
#[cfg(feature = "kiosk")]
mod appliance;
#[cfg(feature = "kiosk")]
mod brand;
mod browser;
mod chaos;
mod cli;
mod console;
mod console_brand;
mod console_catalog;
mod export;
mod generated_client;
mod group_commit;
mod hardening;
mod hub;
mod identify;
mod importer;
mod instances;
mod limits;
mod measurement;
mod migrate;
mod pairing;
mod pictures;
#[cfg(feature = "kiosk")]
mod scan;
mod search;
#[cfg(feature = "kiosk")]
mod session;
#[cfg(feature = "kiosk")]
mod setup_screen;
mod shops_feeds;
mod signed_in;
mod staff;
#[cfg(feature = "kiosk")]
mod staff_mode;
mod store;
mod sync;
mod tidy;
#[cfg(feature = "kiosk")]
mod ui;
mod webhooks;
mod world;
