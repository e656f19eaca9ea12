//! The reports as CSV (RFC 4180): a header row, one row per shop, kiosk, day or product,
//! amounts as `59.90 EUR` (`;` between currencies), and the rule in a last column. A cell
//! a spreadsheet would read as a formula (from a store code or a SKU) is quoted with a
//! leading `'`.

use crate::protocol::measure::{Attribution, DaysReport, Figures, KiosksReport, Money, ProductsReport, ShopsReport};

/// Amounts in a CSV cell: `59.90 EUR` (`;` between currencies).
fn cell(money: &[Money]) -> String {
    money
        .iter()
        .map(|m| format!("{} {}", m.amount, m.currency))
        .collect::<Vec<_>>()
        .join(";")
}

const FIGURE_COLUMNS: [&str; 12] = [
    "visits",
    "identified_visits",
    "median_visit_seconds",
    "product_views",
    "scans",
    "wishlist_adds",
    "lists_taken",
    "searches",
    "orders_attributed",
    "revenue_attributed",
    "orders_assisted",
    "revenue_assisted",
];

fn figure_cells(f: &Figures) -> Vec<String> {
    vec![
        f.visits.to_string(),
        f.identified_visits.to_string(),
        f.median_visit_seconds.to_string(),
        f.product_views.to_string(),
        f.scans.to_string(),
        f.wishlist_adds.to_string(),
        f.lists_taken.to_string(),
        f.searches.to_string(),
        f.orders_attributed.to_string(),
        cell(&f.revenue_attributed),
        f.orders_assisted.to_string(),
        cell(&f.revenue_assisted),
    ]
}

/// Writes rows as CSV (RFC 4180) with a header, the rule in a last column.
fn csv(head: &[&str], rows: impl Iterator<Item = Vec<String>>, attribution: &Attribution) -> String {
    let mut out = ::csv::Writer::from_writer(Vec::new());
    let rule = format!("{} {} days", attribution.rule, attribution.window_days);
    let mut header: Vec<&str> = head.to_vec();
    header.push("attribution");
    // Writing to a Vec cannot fail.
    let _ = out.write_record(&header);
    for row in rows {
        let mut row: Vec<String> = row.into_iter().map(|cell| defused(&cell)).collect();
        row.push(rule.clone());
        let _ = out.write_record(&row);
    }
    String::from_utf8(out.into_inner().unwrap_or_default()).unwrap_or_default()
}

fn columns(first: &[&'static str]) -> Vec<&'static str> {
    first.iter().copied().chain(FIGURE_COLUMNS).collect()
}

pub fn shops_csv(report: &ShopsReport) -> String {
    let rows = report.shops.iter().map(|s| {
        let mut row = vec![s.store_code.clone()];
        row.extend(figure_cells(&s.figures));
        row
    });
    csv(&columns(&["store_code"]), rows, &report.attribution)
}

pub fn kiosks_csv(report: &KiosksReport) -> String {
    let rows = report.kiosks.iter().map(|k| {
        let mut row = vec![k.store_code.clone(), k.device_id.to_string()];
        row.extend(figure_cells(&k.figures));
        row.push(k.events_dropped.to_string());
        row
    });
    let mut head = columns(&["store_code", "device_id"]);
    head.push("events_dropped");
    csv(&head, rows, &report.attribution)
}

pub fn days_csv(report: &DaysReport) -> String {
    let rows = report.days.iter().map(|d| {
        let mut row = vec![d.day.clone(), d.store_code.clone()];
        row.extend(figure_cells(&d.figures));
        row
    });
    csv(&columns(&["day", "store_code"]), rows, &report.attribution)
}

pub fn products_csv(report: &ProductsReport) -> String {
    let rows = report.products.iter().map(|p| {
        vec![
            p.sku.clone(),
            p.product_views.to_string(),
            p.wishlist_adds.to_string(),
            p.orders_attributed.to_string(),
            p.units_attributed.to_string(),
            cell(&p.revenue_attributed),
        ]
    });
    csv(
        &[
            "sku",
            "product_views",
            "wishlist_adds",
            "orders_attributed",
            "units_attributed",
            "revenue_attributed",
        ],
        rows,
        &report.attribution,
    )
}

/// A cell a spreadsheet would take for a formula (`=`, `+`, `-`, `@`, a tab or a carriage
/// return first), made text with a leading `'` (OWASP's advice for CSV injection). A
/// number, negative or not, is left alone.
fn defused(cell: &str) -> String {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && cell.parse::<f64>().is_err() {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_formula_in_a_cell_is_made_text() {
        assert_eq!(defused("=HYPERLINK(\"http://x\")"), "'=HYPERLINK(\"http://x\")");
        assert_eq!(defused("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(defused("-12.5"), "-12.5");
        assert_eq!(defused("PARIS-MARAIS"), "PARIS-MARAIS");
    }
}
