//! The figures: per shop, kiosk, day and product, over a period of the shops' local
//! days, from the counts and visit summaries `events` keeps and the orders credited
//! under the rule below. Read-only; runs on a pooled reader.
//!
//! **The rule.** A kiosk *touches* an order when, within the window before the order
//! (30 days by default), its customer signed in to a visit there (saving a product at a
//! kiosk needs a signed-in visit to be linked, so it is such a touch), or when the order
//! was placed in a session that landed through a kiosk's link (its `visit` reference, of a
//! visit that started within the window, or its `store` alone). Only customers who
//! consented are linked at all. The latest touch gets the order's net revenue
//! (*attributed*, a landing being later than any sign-in it follows); every touched
//! shop, kiosk and visit counts it as *assisted*. Net means less what was refunded; an
//! order refunded whole counts nowhere. An order falls on its credited shop's local day.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};

use super::Settings;
use super::orders::format_minor;
use crate::db::{self, Sql, params};
use crate::protocol::measure::{
    Attribution, DayFigures, DaysReport, Figures, KioskFigures, KiosksReport, Money, OrderCredit, ProductFigures,
    ProductsReport, SearchTerm, SearchesReport, ShopFigures, ShopSearches, ShopsReport, Touch as WireTouch,
};

/// The longest period a report covers, in days.
pub const MAX_DAYS: i32 = 400;

/// A report's first and last day, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: Date,
    pub to: Date,
}

impl Period {
    /// `from` and `to` as `YYYY-MM-DD`, `to` not before `from`, at most [`MAX_DAYS`].
    pub fn parse(from: &str, to: &str) -> Result<Period, String> {
        let day = |name: &str, text: &str| {
            text.parse::<Date>()
                .ok()
                .filter(|_| text.len() == 10)
                .ok_or_else(|| format!("{name} must be a day written YYYY-MM-DD, not '{text}'"))
        };
        let (from, to) = (day("from", from)?, day("to", to)?);
        if from.year() < 2000 || to.year() > 2100 {
            return Err("a report covers days between 2000 and 2100".to_owned());
        }
        if to < from {
            return Err("to must not be before from".to_owned());
        }
        if (to - from).get_days() >= MAX_DAYS {
            return Err(format!("a report covers at most {MAX_DAYS} days"));
        }
        Ok(Period { from, to })
    }

    fn contains(&self, day: &str) -> bool {
        (self.from.to_string().as_str()..=self.to.to_string().as_str()).contains(&day)
    }
}

/// The rule, as every report states it.
pub fn attribution(settings: &Settings) -> Attribution {
    Attribution {
        rule: "last_touch".to_owned(),
        window_days: settings.window_days,
        description: format!(
            "An order is credited to the latest kiosk touch within {} days before it: a visit its customer signed \
             in to, or a kiosk link the order's session landed through; only customers who consented are linked. \
             Assisted figures count every touch. Revenue is net of refunds, per currency.",
            settings.window_days
        ),
    }
}

/// Where a kiosk touched an order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Touch {
    pub store: String,
    pub device: Option<i64>,
    pub visit: Option<String>,
    pub at: Timestamp,
}

/// An order with kiosk touches, and its net lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credit {
    pub order_id: String,
    pub placed_at: Timestamp,
    pub currency: String,
    /// `(sku, units, minor units)` net of refunds, lines with nothing left dropped.
    pub lines: Vec<(String, u64, i128)>,
    pub attributed: Touch,
    /// Every touch, one per shop, kiosk and visit.
    pub assisted: Vec<Touch>,
}

impl Credit {
    fn revenue(&self) -> i128 {
        self.lines.iter().map(|l| l.2).sum()
    }
}

/// Orders placed between `lo` and `hi` with at least one kiosk touch and something not
/// refunded.
pub fn credits(conn: &dyn Sql, settings: &Settings, lo: Timestamp, hi: Timestamp) -> db::Result<Vec<Credit>> {
    let rows = conn.query_map(
        "SELECT o.order_id, o.customer, o.placed_at, o.currency, o.store, o.visit FROM web_order o
         JOIN consent c ON c.customer = o.customer AND c.measurement <> 0
         WHERE o.placed_at BETWEEN ?1 AND ?2",
        params![lo.as_millisecond(), hi.as_millisecond()],
        |r| {
            Ok((
                r.get::<String>(0)?,
                r.get::<String>(1)?,
                r.get::<i64>(2)?,
                r.get::<String>(3)?,
                r.get::<Option<String>>(4)?,
                r.get::<Option<String>>(5)?,
            ))
        },
    )?;
    let mut credits = Vec::new();
    for (order_id, customer, placed_ms, currency, store, visit) in rows {
        let placed_at = Timestamp::from_millisecond(placed_ms).unwrap_or(Timestamp::UNIX_EPOCH);
        let touches = touches(conn, settings, &customer, placed_at, store, visit)?;
        let Some(attributed) = touches.iter().max_by_key(|t| t.at).cloned() else {
            continue;
        };
        let lines = net_lines(conn, &order_id)?;
        if lines.is_empty() {
            continue;
        }
        let mut assisted = touches;
        assisted.sort_by(|a, b| (&a.store, a.device, &a.visit).cmp(&(&b.store, b.device, &b.visit)));
        assisted.dedup_by(|a, b| (&a.store, a.device, &a.visit) == (&b.store, b.device, &b.visit));
        credits.push(Credit {
            order_id,
            placed_at,
            currency,
            lines,
            attributed,
            assisted,
        });
    }
    Ok(credits)
}

/// How one order is credited now; `None` if the hub has no such order.
pub fn order_credit(conn: &dyn Sql, settings: &Settings, order_id: &str) -> db::Result<Option<OrderCredit>> {
    let order: Option<(i64, String)> = conn.query_opt(
        "SELECT placed_at, currency FROM web_order WHERE order_id = ?1",
        params![order_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let Some((placed, currency)) = order else {
        return Ok(None);
    };
    let placed = Timestamp::from_millisecond(placed).unwrap_or(Timestamp::UNIX_EPOCH);
    let net: i128 = net_lines(conn, order_id)?.iter().map(|l| l.2).sum();
    let credit = credits(conn, settings, placed, placed)?
        .into_iter()
        .find(|c| c.order_id == order_id);
    let wire = |t: &Touch| WireTouch {
        store_code: t.store.clone(),
        device_id: t.device,
        visit: t.visit.clone(),
        at: t.at,
    };
    Ok(Some(OrderCredit {
        order_id: order_id.to_owned(),
        revenue: Money {
            amount: format_minor(net, &currency),
            currency,
        },
        attributed: credit.as_ref().map(|c| wire(&c.attributed)),
        assisted: credit
            .as_ref()
            .map_or_else(Vec::new, |c| c.assisted.iter().map(wire).collect()),
        attribution: attribution(settings),
    }))
}

fn touches(
    conn: &dyn Sql,
    settings: &Settings,
    customer: &str,
    placed_at: Timestamp,
    store: Option<String>,
    visit: Option<String>,
) -> db::Result<Vec<Touch>> {
    let since = placed_at - SignedDuration::from_hours(24 * i64::from(settings.window_days));
    let mut touches = conn.query_map(
        "SELECT store_code, device_id, session, signed_in_at FROM visit
         WHERE customer = ?1 AND signed_in_at BETWEEN ?2 AND ?3",
        params![customer, since.as_millisecond(), placed_at.as_millisecond()],
        |r| {
            Ok(Touch {
                store: r.get(0)?,
                device: r.get(1)?,
                visit: r.get(2)?,
                at: Timestamp::from_millisecond(r.get(3)?).unwrap_or(Timestamp::UNIX_EPOCH),
            })
        },
    )?;
    let landed = match &visit {
        Some(visit) => conn.query_opt(
            "SELECT store_code, device_id FROM kiosk_visit WHERE visit = ?1 AND started_at BETWEEN ?2 AND ?3",
            params![visit, since.as_millisecond(), placed_at.as_millisecond()],
            |r| {
                Ok(Touch {
                    store: r.get(0)?,
                    device: r.get(1)?,
                    visit: Some(visit.clone()),
                    at: placed_at,
                })
            },
        )?,
        None => None,
    };
    match (landed, store) {
        (Some(touch), _) => touches.push(touch),
        (None, Some(store)) => touches.push(Touch {
            store,
            device: None,
            visit: None,
            at: placed_at,
        }),
        (None, None) => {}
    }
    Ok(touches)
}

fn net_lines(conn: &dyn Sql, order_id: &str) -> db::Result<Vec<(String, u64, i128)>> {
    conn.query_map(
        "SELECT sku, SUM(quantity - refunded), SUM((quantity - refunded) * unit_minor) FROM web_order_line
         WHERE order_id = ?1 AND quantity > refunded GROUP BY sku ORDER BY MIN(line)",
        params![order_id],
        |r| Ok((r.get(0)?, r.get(1)?, i128::from(r.get::<i64>(2)?))),
    )
}

/// What one row of a report adds up, before it is written out.
#[derive(Debug, Default)]
struct Tally {
    figures: Figures,
    seconds: Vec<u32>,
    attributed: BTreeMap<String, i128>,
    assisted: BTreeMap<String, i128>,
}

impl Tally {
    fn count(&mut self, kind: &str, n: u64) {
        let f = &mut self.figures;
        match kind {
            "product_viewed" => f.product_views += n,
            "code_scanned" => f.scans += n,
            "wishlist_added" => f.wishlist_adds += n,
            "list_code_shown" => f.lists_taken += n,
            "searched" => f.searches += n,
            _ => {}
        }
    }

    fn finish(mut self) -> Figures {
        self.seconds.sort_unstable();
        self.figures.median_visit_seconds = match self.seconds.len() {
            0 => 0,
            n => self.seconds[(n - 1) / 2],
        };
        self.figures.revenue_attributed = money(&self.attributed);
        self.figures.revenue_assisted = money(&self.assisted);
        self.figures
    }
}

fn money(amounts: &BTreeMap<String, i128>) -> Vec<Money> {
    amounts
        .iter()
        .map(|(currency, minor)| Money {
            currency: currency.clone(),
            amount: format_minor(*minor, currency),
        })
        .collect()
}

/// What a report's rows are keyed by, from a day, a shop and a kiosk (`None`: a
/// landing that named the shop alone).
type KeyOf<K> = fn(&str, &str, Option<i64>) -> Option<K>;

/// Adds up counts, visits and credits over `period` into rows keyed by `key`.
fn tally<K: Ord + Clone>(
    conn: &dyn Sql,
    settings: &Settings,
    period: Period,
    store: Option<&str>,
    key: KeyOf<K>,
) -> db::Result<BTreeMap<K, Tally>> {
    let (from, to) = (period.from.to_string(), period.to.to_string());
    let mut rows: BTreeMap<K, Tally> = BTreeMap::new();
    conn.each(
        "SELECT day, store_code, device_id, kind, SUM(n) FROM event_count
         WHERE day BETWEEN ?1 AND ?2 AND (CAST(?3 AS TEXT) IS NULL OR store_code = ?3)
         GROUP BY day, store_code, device_id, kind",
        params![from, to, store],
        &mut |r| {
            let (day, shop, device, kind, n): (String, String, i64, String, u64) =
                (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?);
            if let Some(k) = key(&day, &shop, Some(device)) {
                rows.entry(k).or_default().count(&kind, n);
            }
            Ok(())
        },
    )?;
    conn.each(
        "SELECT day, store_code, device_id, seconds, signed_in FROM kiosk_visit
         WHERE day BETWEEN ?1 AND ?2 AND (CAST(?3 AS TEXT) IS NULL OR store_code = ?3)",
        params![from, to, store],
        &mut |r| {
            let (day, shop, device, seconds, signed_in): (String, String, i64, Option<u32>, bool) =
                (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?);
            if let Some(k) = key(&day, &shop, Some(device)) {
                let row = rows.entry(k).or_default();
                row.figures.visits += 1;
                row.figures.identified_visits += u64::from(signed_in);
                row.seconds.extend(seconds);
            }
            Ok(())
        },
    )?;
    for credit in credits_in(conn, settings, period)? {
        let revenue = credit.revenue();
        let mut credit_to = |touch: &Touch, attributed: bool| {
            if store.is_some_and(|s| s != touch.store) {
                return;
            }
            let day = settings.day(&touch.store, credit.placed_at);
            if !period.contains(&day) {
                return;
            }
            let Some(k) = key(&day, &touch.store, touch.device) else {
                return;
            };
            let row = rows.entry(k).or_default();
            if attributed {
                row.figures.orders_attributed += 1;
                *row.attributed.entry(credit.currency.clone()).or_default() += revenue;
            } else {
                row.figures.orders_assisted += 1;
                *row.assisted.entry(credit.currency.clone()).or_default() += revenue;
            }
        };
        credit_to(&credit.attributed, true);
        // Assisted once per row: two visits at one shop are one assist to the shop.
        let mut seen = BTreeSet::new();
        for touch in &credit.assisted {
            let day = settings.day(&touch.store, credit.placed_at);
            if seen.insert(key(&day, &touch.store, touch.device)) {
                credit_to(touch, false);
            }
        }
    }
    Ok(rows)
}

/// Orders that may fall in `period` in some shop's time zone (a day either side).
fn credits_in(conn: &dyn Sql, settings: &Settings, period: Period) -> db::Result<Vec<Credit>> {
    let utc = |d: Date| {
        d.to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp())
            .unwrap_or(Timestamp::UNIX_EPOCH)
    };
    let lo = utc(period.from) - SignedDuration::from_hours(48);
    let hi = utc(period.to) + SignedDuration::from_hours(72);
    credits(conn, settings, lo, hi)
}

pub fn shops(conn: &dyn Sql, settings: &Settings, period: Period, store: Option<&str>) -> db::Result<ShopsReport> {
    let rows = tally(conn, settings, period, store, |_, shop, _| Some(shop.to_owned()))?;
    Ok(ShopsReport {
        from: period.from.to_string(),
        to: period.to.to_string(),
        attribution: attribution(settings),
        shops: rows
            .into_iter()
            .map(|(store_code, t)| ShopFigures {
                store_code,
                figures: t.finish(),
            })
            .collect(),
    })
}

pub fn kiosks(conn: &dyn Sql, settings: &Settings, period: Period, store: Option<&str>) -> db::Result<KiosksReport> {
    let rows = tally(conn, settings, period, store, |_, shop, device| {
        device.map(|d| (shop.to_owned(), d))
    })?;
    Ok(KiosksReport {
        from: period.from.to_string(),
        to: period.to.to_string(),
        attribution: attribution(settings),
        kiosks: rows
            .into_iter()
            .map(|((store_code, device_id), t)| {
                let events_dropped = dropped(conn, device_id)?;
                Ok(KioskFigures {
                    store_code,
                    device_id,
                    events_dropped,
                    figures: t.finish(),
                })
            })
            .collect::<db::Result<_>>()?,
    })
}

pub fn days(conn: &dyn Sql, settings: &Settings, period: Period, store: Option<&str>) -> db::Result<DaysReport> {
    let rows = tally(conn, settings, period, store, |day, shop, _| {
        Some((day.to_owned(), shop.to_owned()))
    })?;
    Ok(DaysReport {
        from: period.from.to_string(),
        to: period.to.to_string(),
        attribution: attribution(settings),
        days: rows
            .into_iter()
            .map(|((day, store_code), t)| DayFigures {
                day,
                store_code,
                figures: t.finish(),
            })
            .collect(),
    })
}

/// How many events a kiosk said it dropped unsent, ever.
fn dropped(conn: &dyn Sql, device_id: i64) -> db::Result<u64> {
    conn.query_opt(
        "SELECT n FROM events_dropped WHERE device_id = ?1",
        params![device_id],
        |r| r.get(0),
    )
    .map(Option::unwrap_or_default)
}

/// Per SKU: views and saves at the kiosks, and the lines of the orders attributed to
/// them.
pub fn products(
    conn: &dyn Sql,
    settings: &Settings,
    period: Period,
    store: Option<&str>,
) -> db::Result<ProductsReport> {
    #[derive(Default)]
    struct Row {
        figures: ProductFigures,
        revenue: BTreeMap<String, i128>,
    }
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    conn.each(
        "SELECT sku, kind, SUM(n) FROM event_count
         WHERE day BETWEEN ?1 AND ?2 AND (CAST(?3 AS TEXT) IS NULL OR store_code = ?3)
             AND kind IN ('product_viewed', 'wishlist_added') AND sku <> ''
         GROUP BY sku, kind",
        params![period.from.to_string(), period.to.to_string(), store],
        &mut |r| {
            let (sku, kind, n): (String, String, u64) = (r.get(0)?, r.get(1)?, r.get(2)?);
            let row = rows.entry(sku).or_default();
            match kind.as_str() {
                "product_viewed" => row.figures.product_views += n,
                _ => row.figures.wishlist_adds += n,
            }
            Ok(())
        },
    )?;
    for credit in credits_in(conn, settings, period)? {
        let touch = &credit.attributed;
        let day = settings.day(&touch.store, credit.placed_at);
        if store.is_some_and(|s| s != touch.store) || !period.contains(&day) {
            continue;
        }
        for (sku, units, minor) in &credit.lines {
            let row = rows.entry(sku.clone()).or_default();
            row.figures.orders_attributed += 1;
            row.figures.units_attributed += units;
            *row.revenue.entry(credit.currency.clone()).or_default() += minor;
        }
    }
    Ok(ProductsReport {
        from: period.from.to_string(),
        to: period.to.to_string(),
        attribution: attribution(settings),
        products: rows
            .into_iter()
            .map(|(sku, row)| ProductFigures {
                sku,
                revenue_attributed: money(&row.revenue),
                ..row.figures
            })
            .collect(),
    })
}

/// A search text must be this common in a shop over a period to be reported.
pub const MIN_SEARCHES: u64 = 3;
/// Texts reported per shop.
const TOP_SEARCHES: usize = 50;

/// Per shop, its most searched texts over `period`, those searched at least
/// [`MIN_SEARCHES`] times.
pub fn searches(
    conn: &dyn Sql,
    _settings: &Settings,
    period: Period,
    store: Option<&str>,
) -> db::Result<SearchesReport> {
    let mut shops: Vec<ShopSearches> = Vec::new();
    conn.each(
        "SELECT store_code, query, SUM(n) AS total FROM search_term
         WHERE day BETWEEN ?1 AND ?2 AND (CAST(?3 AS TEXT) IS NULL OR store_code = ?3)
         GROUP BY store_code, query HAVING SUM(n) >= CAST(?4 AS BIGINT)
         ORDER BY store_code, total DESC, query",
        params![
            period.from.to_string(),
            period.to.to_string(),
            store,
            MIN_SEARCHES as i64
        ],
        &mut |r| {
            let (shop, query, searches): (String, String, u64) = (r.get(0)?, r.get(1)?, r.get(2)?);
            if shops.last().is_none_or(|s| s.store_code != shop) {
                shops.push(ShopSearches {
                    store_code: shop,
                    terms: Vec::new(),
                });
            }
            let terms = &mut shops.last_mut().expect("pushed above").terms;
            if terms.len() < TOP_SEARCHES {
                terms.push(SearchTerm { query, searches });
            }
            Ok(())
        },
    )?;
    Ok(SearchesReport {
        from: period.from.to_string(),
        to: period.to.to_string(),
        min_searches: MIN_SEARCHES,
        shops,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_is_two_days_in_order_and_not_too_long() {
        let p = Period::parse("2026-11-01", "2026-11-30").unwrap();
        assert!(p.contains("2026-11-01") && p.contains("2026-11-30") && !p.contains("2026-12-01"));
        assert!(Period::parse("2026-11-30", "2026-11-01").is_err());
        assert!(Period::parse("2026-1-1", "2026-11-01").is_err());
        assert!(Period::parse("2025-01-01", "2026-11-01").is_err());
        assert!(Period::parse("yesterday", "2026-11-01").is_err());
    }
}
