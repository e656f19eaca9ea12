//! Measurement (`src/db/hub_v7.sql`): what the shop brought.
//!
//! - [`events`]: kiosks' events stored once each, with the per-day counts and the
//!   per-visit summaries reports read;
//! - [`orders`]: the web store's customers' consent, orders, refunds and cancellations;
//! - [`report`]: the figures per shop, kiosk, day and product, with the orders credited
//!   under the attribution rule, and [`csv`] to write them out;
//! - [`popular`]: what is popular in a shop, from the last 30 days' views and adds, for
//!   its kiosks' home screen and search;
//! - this module: the settings they share, and retention.
//!
//! Privacy, as CNIL describes audience measurement: a kiosk's events name a random visit
//! id, never a shopper, and a search's text is kept only as a count per shop and day. A
//! visit is linked to a customer's orders only when the web store says that customer
//! consented, and only while they do: the link is made when a report is computed, from
//! the sign-ins the wishlist sync recorded, so withdrawing consent or erasing the
//! customer removes it at once.

pub mod csv;
pub mod events;
pub mod orders;
pub mod popular;
pub mod report;

use std::collections::HashMap;

use anyhow::Context;
use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::config::Config;
use crate::db::{self, Sql, params};

/// The rule's window and retention, and each shop's time zone.
#[derive(Debug, Clone)]
pub struct Settings {
    pub window_days: u32,
    pub retention_months: u32,
    default_zone: TimeZone,
    zones: HashMap<String, TimeZone>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            window_days: 30,
            retention_months: 25,
            default_zone: TimeZone::UTC,
            zones: HashMap::new(),
        }
    }
}

impl Settings {
    /// Checks the configuration's `[measurement]` and the shops' time zones.
    pub fn from_config(config: &Config) -> anyhow::Result<Settings> {
        let m = &config.measurement;
        anyhow::ensure!(
            (1..=365).contains(&m.attribution_window_days),
            "measurement.attribution_window_days must be between 1 and 365"
        );
        anyhow::ensure!(
            (1..=120).contains(&m.retention_months),
            "measurement.retention_months must be between 1 and 120"
        );
        let zone = |name: &str| {
            TimeZone::get(name)
                .with_context(|| format!("'{name}' is not a time zone this machine knows (e.g. Europe/Paris)"))
        };
        let default_zone = match &m.time_zone {
            Some(name) => zone(name).context("measurement.time_zone")?,
            None => TimeZone::try_system().unwrap_or(TimeZone::UTC),
        };
        let mut zones = HashMap::new();
        for shop in &config.shops {
            if let Some(name) = &shop.time_zone {
                zones.insert(
                    shop.code.clone(),
                    zone(name).with_context(|| format!("shop {}", shop.code))?,
                );
            }
        }
        Ok(Settings {
            window_days: m.attribution_window_days,
            retention_months: m.retention_months,
            default_zone,
            zones,
        })
    }

    /// The time zone a shop's days are counted in.
    pub fn zone(&self, store: &str) -> &TimeZone {
        self.zones.get(store).unwrap_or(&self.default_zone)
    }

    /// The shop's local day at `at`, as reports name it (`YYYY-MM-DD`).
    pub fn day(&self, store: &str, at: Timestamp) -> String {
        at.to_zoned(self.zone(store).clone()).date().to_string()
    }
}

/// Deletes what is older than the retention period: events, visits and sign-ins,
/// counts, search counts and orders (with their lines and refunds). Returns the rows
/// deleted.
pub fn prune(conn: &dyn Sql, settings: &Settings, now: Timestamp) -> db::Result<u64> {
    let cutoff = now
        .to_zoned(TimeZone::UTC)
        .checked_sub(jiff::Span::new().months(i64::from(settings.retention_months)))
        .map(|z| z.timestamp())
        .unwrap_or(Timestamp::UNIX_EPOCH);
    // Days are compared as text: a day a little before the cutoff in any time zone.
    let day = (cutoff - jiff::SignedDuration::from_hours(24))
        .to_zoned(TimeZone::UTC)
        .date()
        .to_string();
    let ms = cutoff.as_millisecond();
    let tx = conn.begin()?;
    let mut deleted = tx.execute("DELETE FROM kiosk_event WHERE at < ?1", params![ms])?;
    deleted += tx.execute("DELETE FROM kiosk_visit WHERE day < ?1", params![day])?;
    deleted += tx.execute("DELETE FROM event_count WHERE day < ?1", params![day])?;
    deleted += tx.execute("DELETE FROM search_term WHERE day < ?1", params![day])?;
    deleted += tx.execute("DELETE FROM web_order WHERE placed_at < ?1", params![ms])?;
    // Sign-ins: the visits feed's, the grants', and attribution's.
    deleted += tx.execute("DELETE FROM visit WHERE signed_in_at < ?1", params![ms])?;
    tx.commit()?;
    Ok(deleted)
}

/// Erasure: the customer's consent and orders go, and the webhook messages that name
/// them (the erasure's own notice is written after). Kiosk events never named them.
/// Runs inside the erasure's transaction.
pub fn forget(conn: &dyn Sql, customer: &str) -> db::Result<()> {
    conn.execute("DELETE FROM consent WHERE customer = ?1", params![customer])?;
    conn.execute("DELETE FROM web_order WHERE customer = ?1", params![customer])?;
    let named = format!("\"customer\":{}", serde_json::Value::from(customer));
    let delete = conn.pick(
        "DELETE FROM webhook_message WHERE instr(payload, ?1) > 0",
        "DELETE FROM webhook_message WHERE strpos(payload, ?1) > 0",
    );
    conn.execute(delete, params![named])?;
    Ok(())
}
