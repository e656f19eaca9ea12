//! A month of kiosk visits for the demo hub, so that its reports and the kiosks' "popular
//! in this shop" show something from the first start: a few visits a day in each shop,
//! each viewing and sometimes saving pieces of the demo catalog, all anonymous and
//! reported by a kiosk numbered 0 that no tablet is. Deterministic: the same every run.

use crate::db::{Sql, params};
use jiff::{SignedDuration, Timestamp};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::hub::measure::{self, Settings};
use crate::protocol::measure::{EventDetail, KioskEvent, KioskEvents, ViewSource, VisitEnd};

/// The device id the history is reported under.
pub const HISTORY_DEVICE: i64 = 0;

/// Records the history unless the hub already has events (a demo directory reused).
pub fn seed(conn: &dyn Sql, settings: &Settings, now: Timestamp) -> anyhow::Result<usize> {
    let any: bool = conn.one("SELECT EXISTS (SELECT 1 FROM kiosk_event)", params![])?;
    let skus: Vec<String> = crate::catalog::variant_codes(conn, "fr")?
        .into_iter()
        .map(|(sku, _)| sku)
        .collect();
    if any || skus.is_empty() {
        return Ok(0);
    }
    // A few favourites per shop, so that popularity differs from one shop to the next.
    let mut rng = StdRng::seed_from_u64(7);
    let mut stored = 0;
    for (s, (store, _)) in super::STORES.iter().enumerate() {
        let favourites: Vec<&String> = (0..6).map(|i| &skus[(s * 7 + i * 11) % skus.len()]).collect();
        let mut events = Vec::new();
        for day in 1..=30 {
            for v in 0..(3 + rng.random_range(0..5)) {
                let start = now - SignedDuration::from_hours(24 * day) + SignedDuration::from_mins(60 * (9 + v as i64));
                let visit = format!("demo-{store}-{day}-{v}");
                let mut details = vec![EventDetail::VisitStarted];
                for _ in 0..(1 + rng.random_range(0..4)) {
                    let sku = if rng.random_range(0..3) == 0 {
                        &skus[rng.random_range(0..skus.len())]
                    } else {
                        favourites[rng.random_range(0..favourites.len())]
                    };
                    details.push(EventDetail::ProductViewed {
                        sku: sku.clone(),
                        source: [ViewSource::Browse, ViewSource::Search, ViewSource::Featured][rng.random_range(0..3)],
                    });
                    if rng.random_range(0..4) == 0 {
                        details.push(EventDetail::WishlistAdded { sku: sku.clone() });
                    }
                }
                let seconds = 40 + rng.random_range(0..300) as u32;
                details.push(EventDetail::VisitEnded {
                    seconds,
                    reason: [VisitEnd::Done, VisitEnd::Idle][rng.random_range(0..2)],
                });
                let step = i64::from(seconds) * 1000 / details.len() as i64;
                events.extend(details.into_iter().enumerate().map(|(i, detail)| KioskEvent {
                    id: format!("{visit}-{i}"),
                    at: start + SignedDuration::from_millis(step * i as i64),
                    visit: Some(visit.clone()),
                    detail,
                }));
            }
        }
        for batch in events.chunks(crate::protocol::measure::MAX_EVENTS) {
            let batch = KioskEvents {
                events: batch.to_vec(),
                dropped: 0,
            };
            stored += measure::events::record(conn, settings, HISTORY_DEVICE, store, &batch, now)?.stored;
        }
    }
    Ok(stored)
}

/// What a kiosk of `store` is told is popular there once the history is in: for a demo
/// catalog made without a hub (`vitrine snapshot`, the UI tests).
pub fn popular(store: &str, now: Timestamp) -> anyhow::Result<Vec<crate::protocol::measure::PopularGroup>> {
    let dir = tempfile::tempdir()?;
    let conn = crate::db::open(&dir.path().join("hub.sqlite"), crate::db::Schema::Hub)?;
    let mut catalog = crate::catalog::Catalog::with_connection(conn, true);
    super::import_into(&mut catalog, now)?;
    let settings = Settings::default();
    seed(catalog.connection(), &settings, now)?;
    Ok(measure::popular::popular(
        catalog.connection(),
        &settings,
        store,
        now,
        crate::protocol::measure::MAX_POPULAR,
    )?)
}
