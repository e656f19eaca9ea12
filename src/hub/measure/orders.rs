//! The web store's side of measurement, on the writer: customers' consent, orders, and
//! refunds. An order or a refund is stored once by its id; posting it again with the same
//! content changes nothing, with different content is a conflict.

use jiff::Timestamp;
use sha2::{Digest, Sha256};

use crate::db::{self, Sql, params};
use crate::hub::store::is_erased;
use crate::protocol::measure::{
    Consent, MAX_ORDER_LINES, OrderChannel, OrderRequest, Received, RefundLine, RefundRequest,
};
use crate::protocol::valid_ref;
use crate::protocol::webhooks::{CONSENT_CHANGED, ConsentChanged};

/// The most units of one line.
pub const MAX_QUANTITY: u32 = 10_000;
/// The highest unit price, in major units.
const MAX_MAJOR: i64 = 1_000_000_000;
/// The highest order total, in minor units: reports add up a year of them without
/// overflowing.
const MAX_TOTAL_MINOR: i64 = 1_000_000_000_000_000;

/// Why an order or a refund was refused. Nothing of it was stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("{0}")]
    Invalid(String),
    #[error("{0} was already received with different content")]
    Conflict(String),
    #[error("this customer was erased")]
    Erased,
    #[error("no order {0} was received")]
    UnknownOrder(String),
    /// The database failed: the cause, for the hub's log only.
    #[error("the hub could not store this: {0}")]
    Store(String),
    /// The database is out of reach or busy: nothing was stored, try again later.
    #[error("the hub's database is unavailable: {0}")]
    Unavailable(String),
}

impl Refused {
    /// The `Problem` code the API answers with.
    pub fn code(&self) -> &'static str {
        match self {
            Refused::Invalid(_) => "invalid_order",
            Refused::Conflict(_) => "conflict",
            Refused::Erased => "customer_erased",
            Refused::UnknownOrder(_) => "unknown_order",
            Refused::Store(_) => "internal",
            Refused::Unavailable(_) => "unavailable",
        }
    }
}

/// Records what the web store says of a customer's consent. A withdrawal also removes
/// the kiosk references their orders carried.
pub fn set_consent(conn: &dyn Sql, customer: &str, measurement: bool, now: Timestamp) -> Result<Consent, Refused> {
    let stored = (|| {
        let tx = conn.begin()?;
        // On PostgreSQL, an erasure on another hub waits for this (or this for it).
        db::lock_feed(&*tx, db::FEED_LOCK_WISHLIST)?;
        if is_erased(&*tx, customer)? {
            return Ok(None);
        }
        tx.execute(
            "INSERT INTO consent (customer, measurement, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (customer) DO UPDATE SET measurement = excluded.measurement, updated_at = excluded.updated_at",
            params![customer, measurement, now.as_millisecond()],
        )?;
        if !measurement {
            tx.execute(
                "UPDATE web_order SET store = NULL, visit = NULL WHERE customer = ?1",
                params![customer],
            )?;
        }
        let changed = ConsentChanged {
            customer: customer.to_owned(),
            measurement,
        };
        crate::hub::webhooks::enqueue(&*tx, CONSENT_CHANGED, &changed, now)?;
        tx.commit()?;
        Ok::<_, db::Error>(Some(()))
    })()
    .map_err(store_failed)?;
    stored.ok_or(Refused::Erased)?;
    Ok(Consent {
        customer: customer.to_owned(),
        measurement,
        updated_at: now,
    })
}

/// What the web store last said of a customer's consent.
pub fn consent(conn: &dyn Sql, customer: &str) -> db::Result<Option<Consent>> {
    conn.query_opt(
        "SELECT measurement, updated_at FROM consent WHERE customer = ?1",
        params![customer],
        |r| {
            Ok(Consent {
                customer: customer.to_owned(),
                measurement: r.get(0)?,
                updated_at: Timestamp::from_millisecond(r.get(1)?).unwrap_or(Timestamp::UNIX_EPOCH),
            })
        },
    )
}

/// A decimal string in minor units of a currency with `exponent` decimals: digits, and
/// at most `exponent` of them after a `.`.
pub fn parse_price(text: &str, exponent: u32) -> Option<i64> {
    let (major, minor) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if major.is_empty() || major.len() > 10 || !digits(major) || !digits(minor) || minor.len() > exponent as usize {
        return None;
    }
    if text.contains('.') && minor.is_empty() {
        return None;
    }
    let major: i64 = major.parse().ok()?;
    if major > MAX_MAJOR {
        return None;
    }
    let minor: i64 = format!("{minor:0<width$}", width = exponent as usize)
        .parse()
        .unwrap_or(0);
    Some(major * 10_i64.pow(exponent) + minor)
}

/// An amount in minor units as the reports write it: `59.90`.
pub fn format_minor(minor: i128, currency: &str) -> String {
    let exponent = currency_exponent(currency).unwrap_or(2);
    if exponent == 0 {
        return minor.to_string();
    }
    let scale = 10_i128.pow(exponent);
    let sign = if minor < 0 { "-" } else { "" };
    let minor = minor.abs();
    format!(
        "{sign}{}.{:0width$}",
        minor / scale,
        minor % scale,
        width = exponent as usize
    )
}

fn currency_exponent(code: &str) -> Option<u32> {
    iso_currency::Currency::from_code(code).map(|c| u32::from(c.exponent().unwrap_or(0)))
}

fn short_ref(text: &str, what: &str) -> Result<(), Refused> {
    if valid_ref(text) {
        Ok(())
    } else {
        Err(Refused::Invalid(format!("{what} is 1 to 128 printable characters")))
    }
}

/// An order's lines in minor units, once checked; `now` bounds `placed_at`.
fn checked_lines(order: &OrderRequest, now: Timestamp) -> Result<Vec<(String, u32, i64)>, Refused> {
    short_ref(&order.order_id, "order_id")?;
    let earliest: Timestamp = "2000-01-01T00:00:00Z".parse().expect("a valid time");
    if order.placed_at < earliest || order.placed_at > now + jiff::SignedDuration::from_hours(24) {
        return Err(Refused::Invalid(
            "placed_at is a time between 2000 and a day ahead of the hub's clock".to_owned(),
        ));
    }
    short_ref(&order.customer, "customer")?;
    let exponent = currency_exponent(&order.currency)
        .ok_or_else(|| Refused::Invalid(format!("'{}' is not an ISO 4217 currency code", order.currency)))?;
    if order.lines.is_empty() || order.lines.len() > MAX_ORDER_LINES {
        return Err(Refused::Invalid(format!("an order has 1 to {MAX_ORDER_LINES} lines")));
    }
    for (name, value) in [
        ("utm_source", &order.utm_source),
        ("utm_medium", &order.utm_medium),
        ("utm_campaign", &order.utm_campaign),
        ("utm_content", &order.utm_content),
        ("utm_term", &order.utm_term),
        ("store", &order.store),
        ("visit", &order.visit),
    ] {
        if let Some(value) = value {
            short_ref(value, name)?;
        }
    }
    order
        .lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            short_ref(&line.sku, &format!("lines[{i}].sku"))?;
            if !(1..=MAX_QUANTITY).contains(&line.quantity) {
                return Err(Refused::Invalid(format!("lines[{i}].quantity is 1 to {MAX_QUANTITY}")));
            }
            let minor = parse_price(&line.unit_price, exponent).ok_or_else(|| {
                Refused::Invalid(format!(
                    "lines[{i}].unit_price '{}' is not a decimal amount in {} (e.g. \"59.90\", at most {exponent} decimals)",
                    line.unit_price, order.currency
                ))
            })?;
            Ok((line.sku.clone(), line.quantity, minor))
        })
        .collect::<Result<Vec<_>, Refused>>()
        .and_then(|lines| {
            let total = lines
                .iter()
                .try_fold(0_i64, |sum, (_, q, minor)| sum.checked_add(minor.checked_mul(i64::from(*q))?));
            match total {
                Some(total) if total <= MAX_TOTAL_MINOR => Ok(lines),
                _ => Err(Refused::Invalid("the order's total is out of range".to_owned())),
            }
        })
}

fn hash_of<T: serde::Serialize>(body: &T) -> Vec<u8> {
    Sha256::digest(serde_json::to_vec(body).unwrap_or_default()).to_vec()
}

/// Stores an order (see the module documentation).
pub fn record_order(conn: &dyn Sql, order: &OrderRequest, now: Timestamp) -> Result<Received, Refused> {
    let lines = checked_lines(order, now)?;
    let hash = hash_of(order);
    let tx = conn.begin().map_err(store_failed)?;
    // On PostgreSQL: one hub at a time records an order (the same one posted to two
    // hubs is recorded once), and never beside an erasure.
    db::lock_feed(&*tx, db::FEED_LOCK_WISHLIST).map_err(store_failed)?;
    let known: Option<Vec<u8>> = tx
        .query_opt(
            "SELECT body_hash FROM web_order WHERE order_id = ?1",
            params![order.order_id],
            |r| r.get(0),
        )
        .map_err(store_failed)?;
    match known {
        Some(h) if h == hash => return Ok(Received::Duplicate),
        Some(_) => return Err(Refused::Conflict(format!("order {}", order.order_id))),
        None => {}
    }
    if is_erased(&*tx, &order.customer).map_err(store_failed)? {
        return Err(Refused::Erased);
    }
    let (store, visit) = landing(&*tx, order).map_err(store_failed)?;
    (|| {
        tx.execute(
            "INSERT INTO web_order (order_id, customer, placed_at, currency, channel, utm_source, utm_medium,
                 utm_campaign, utm_content, utm_term, store, visit, body_hash, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                order.order_id,
                order.customer,
                order.placed_at.as_millisecond(),
                order.currency,
                match order.channel {
                    OrderChannel::Online => "online",
                    OrderChannel::Shop => "shop",
                },
                order.utm_source,
                order.utm_medium,
                order.utm_campaign,
                order.utm_content,
                order.utm_term,
                store,
                visit,
                hash,
                now.as_millisecond()
            ],
        )?;
        for (i, (sku, quantity, minor)) in lines.iter().enumerate() {
            tx.execute(
                "INSERT INTO web_order_line (order_id, line, sku, quantity, unit_minor) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![order.order_id, i as i64, sku, quantity, minor],
            )?;
        }
        Ok::<_, db::Error>(())
    })()
    .map_err(store_failed)?;
    tx.commit().map_err(store_failed)?;
    Ok(Received::Created)
}

/// What is kept of the landing's kiosk references: a `store` only if kiosks are enrolled
/// there (not whatever a link was edited to say), and a `visit` only if the customer
/// consents now (the link to a kiosk visit is theirs to give).
fn landing(tx: &dyn Sql, order: &OrderRequest) -> db::Result<(Option<String>, Option<String>)> {
    let store = match &order.store {
        Some(store) if crate::hub::store::devices::has_kiosks(tx, store)? => Some(store.clone()),
        _ => None,
    };
    let consents = consent(tx, &order.customer)?.is_some_and(|c| c.measurement);
    Ok((store, order.visit.clone().filter(|_| consents)))
}

/// Applies a refund or a cancellation to an order (see the module documentation). A
/// refund of more units than a SKU has left is refused whole.
pub fn refund(conn: &dyn Sql, order_id: &str, refund: &RefundRequest, now: Timestamp) -> Result<Received, Refused> {
    short_ref(&refund.refund_id, "refund_id")?;
    if let Some(lines) = &refund.lines {
        if lines.is_empty() || lines.len() > MAX_ORDER_LINES {
            return Err(Refused::Invalid(format!(
                "a refund names 1 to {MAX_ORDER_LINES} lines, or none for the whole order"
            )));
        }
        for line in lines {
            short_ref(&line.sku, "sku")?;
        }
    }
    let hash = hash_of(refund);
    let tx = conn.begin().map_err(store_failed)?;
    // On PostgreSQL: one refund at a time, so two hubs cannot both give back the last item.
    db::lock_feed(&*tx, db::FEED_LOCK_WISHLIST).map_err(store_failed)?;
    let exists: bool = tx
        .one(
            "SELECT EXISTS (SELECT 1 FROM web_order WHERE order_id = ?1)",
            params![order_id],
        )
        .map_err(store_failed)?;
    if !exists {
        return Err(Refused::UnknownOrder(order_id.to_owned()));
    }
    let known: Option<Vec<u8>> = tx
        .query_opt(
            "SELECT body_hash FROM web_refund WHERE order_id = ?1 AND refund_id = ?2",
            params![order_id, refund.refund_id],
            |r| r.get(0),
        )
        .map_err(store_failed)?;
    match known {
        Some(h) if h == hash => return Ok(Received::Duplicate),
        Some(_) => return Err(Refused::Conflict(format!("refund {}", refund.refund_id))),
        None => {}
    }
    match &refund.lines {
        None => {
            tx.execute(
                "UPDATE web_order_line SET refunded = quantity WHERE order_id = ?1",
                params![order_id],
            )
            .map_err(store_failed)?;
        }
        Some(lines) => {
            for line in lines {
                give_back(&*tx, order_id, line)?;
            }
        }
    }
    tx.execute(
        "INSERT INTO web_refund (order_id, refund_id, body_hash, received_at) VALUES (?1, ?2, ?3, ?4)",
        params![order_id, refund.refund_id, hash, now.as_millisecond()],
    )
    .map_err(store_failed)?;
    tx.commit().map_err(store_failed)?;
    Ok(Received::Created)
}

/// Refunds `line.quantity` units of a SKU, from the order's first lines of it on.
fn give_back(tx: &dyn Sql, order_id: &str, line: &RefundLine) -> Result<(), Refused> {
    let rows: Vec<(i64, u32, u32)> = tx
        .query_map(
            "SELECT line, quantity, refunded FROM web_order_line WHERE order_id = ?1 AND sku = ?2 ORDER BY line",
            params![order_id, line.sku],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .map_err(store_failed)?;
    let left: u32 = rows.iter().map(|(_, q, r)| q.saturating_sub(*r)).sum();
    if rows.is_empty() || line.quantity == 0 || line.quantity > left {
        return Err(Refused::Invalid(format!(
            "the order has {left} unit(s) of {} left to refund, not {}",
            line.sku, line.quantity
        )));
    }
    let mut wanted = line.quantity;
    for (number, quantity, refunded) in rows {
        let take = wanted.min(quantity.saturating_sub(refunded));
        if take > 0 {
            tx.execute(
                "UPDATE web_order_line SET refunded = refunded + ?1 WHERE order_id = ?2 AND line = ?3",
                params![take, order_id, number],
            )
            .map_err(store_failed)?;
            wanted -= take;
        }
    }
    Ok(())
}

fn store_failed(e: db::Error) -> Refused {
    if e.is_unavailable() {
        Refused::Unavailable(e.to_string())
    } else {
        Refused::Store(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_decimal_strings_within_the_currencys_precision() {
        assert_eq!(parse_price("59.90", 2), Some(5990));
        assert_eq!(parse_price("59.9", 2), Some(5990));
        assert_eq!(parse_price("59", 2), Some(5900));
        assert_eq!(parse_price("0", 2), Some(0));
        assert_eq!(parse_price("12490", 0), Some(12490));
        for bad in ["59.999", "-1", "1e3", "59,90", "", ".5", "5.", " 5", "99999999999"] {
            assert_eq!(parse_price(bad, 2), None, "{bad}");
        }
        assert_eq!(parse_price("1.5", 0), None);
        assert_eq!(format_minor(5990, "EUR"), "59.90");
        assert_eq!(format_minor(12490, "JPY"), "12490");
        assert_eq!(format_minor(5, "EUR"), "0.05");
    }
}
