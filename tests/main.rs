//! Vitrine's integration tests: one binary, one module per area.

mod cli;
mod importer;
mod store;
mod tidy;
#[cfg(feature = "kiosk")]
mod ui;
