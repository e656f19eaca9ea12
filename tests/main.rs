//! Vitrine's integration tests: one binary, one module per area.

#[cfg(feature = "kiosk")]
mod appliance;
mod cli;
mod hub;
mod identify;
mod importer;
mod pairing;
mod pictures;
mod proxy;
mod scan;
mod session;
mod staff;
mod store;
mod sync;
mod tidy;
#[cfg(feature = "kiosk")]
mod ui;
mod world;
