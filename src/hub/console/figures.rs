//! The figures page (`/console/figures`): what the kiosks brought over a period (visits,
//! product views, wishlist adds, the orders and revenue attributed to them) as numbers,
//! charts and CSV downloads (`/console/figures.csv`), for the shops the account sees.
//!
//! The figures are the web store's reports ([`report`]) read on a pooled reader, drawn
//! by [`super::charts`]. Amounts in two currencies are never added: one chart each.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::civil::Date;
use maud::html;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

use super::charts;
use super::fleet::shop_name;
use super::page::{ConsoleError, Ctx, Lang, tr};
use crate::db::{self, Sql};
use crate::hub::api::AppState;
use crate::hub::measure::Settings;
use crate::hub::measure::csv as to_csv;
use crate::hub::measure::orders::format_minor;
use crate::hub::measure::report::{self, Period};
use crate::protocol::measure::{
    DayFigures, DaysReport, Figures, KioskFigures, KiosksReport, Money, ProductFigures, ProductsReport, ShopFigures,
    ShopsReport,
};

/// The period shown when none is asked for: this many days, ending today.
const DEFAULT_DAYS: i64 = 30;
/// Products in the chart of the most viewed.
const TOP_PRODUCTS: usize = 10;

/// The page's query, and the download's (which names its `report` too).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct FiguresQuery {
    report: String,
    from: Option<String>,
    to: Option<String>,
    shop: Option<String>,
}

pub type CsvQuery = FiguresQuery;

/// The reports one can download, by the name their link gives.
const REPORTS: [&str; 4] = ["shops", "days", "products", "kiosks"];

/// Whose figures a request gets: `None` for the whole chain, else these shops.
///
/// Report rows are per shop (and day, or kiosk), but the products report's are per SKU
/// over all the shops asked for: filtering a chain report's rows would not do for it.
/// So, for every report alike, an account limited to some shops gets it computed once
/// per shop it sees, through the report's own `store` filter, and the parts put
/// together ([`Merge`]). Nothing chain-wide is ever computed for such an account, so no
/// chain figure can reach it; the page's totals are sums of the rows it got
/// ([`summed`]). The cost (order credits worked out once per shop) stays small.
fn scope_of(ctx: &Ctx, shop: Option<&str>) -> Result<Option<Vec<String>>, ConsoleError> {
    Ok(match shop {
        Some(shop) => {
            ctx.see(shop)?;
            Some(vec![shop.to_owned()])
        }
        None if ctx.account.whole_chain() => None,
        None => Some(ctx.account.shops.clone()),
    })
}

/// A report, as `report::shops` and its siblings compute it.
type ReportFn<T> = fn(&dyn Sql, &Settings, Period, Option<&str>) -> db::Result<T>;

/// A report over `scope` (see [`scope_of`]).
fn scoped<T: Merge>(
    conn: &dyn Sql,
    settings: &Settings,
    period: Period,
    scope: Option<&[String]>,
    f: ReportFn<T>,
) -> db::Result<T> {
    let Some(shops) = scope else {
        return f(conn, settings, period, None);
    };
    let mut parts = shops.iter().map(|s| f(conn, settings, period, Some(s.as_str())));
    // A limited account has at least one shop; were the list empty, refuse rather than
    // fall back to the chain.
    let no_shop = || db::Error::value("no shop");
    let mut merged = parts.next().ok_or_else(no_shop)??;
    for part in parts {
        merged = merged.merge(part?);
    }
    Ok(merged)
}

/// Two reports of distinct shops as one.
trait Merge {
    fn merge(self, other: Self) -> Self;
}

/// Reports whose rows are per shop (and day, or kiosk): the rows of both, in order.
macro_rules! merge_rows {
    ($report:ty, $rows:ident, $key:expr) => {
        impl Merge for $report {
            fn merge(mut self, other: $report) -> $report {
                self.$rows.extend(other.$rows);
                self.$rows.sort_by_key($key);
                self
            }
        }
    };
}

merge_rows!(ShopsReport, shops, |r: &ShopFigures| r.store_code.clone());
merge_rows!(DaysReport, days, |r: &DayFigures| (r.day.clone(), r.store_code.clone()));
merge_rows!(KiosksReport, kiosks, |r: &KioskFigures| (
    r.store_code.clone(),
    r.device_id
));

/// A SKU's rows added up. An order line is attributed to one shop, so attributed
/// orders, units and revenue add up across shops like views and adds.
impl Merge for ProductsReport {
    fn merge(mut self, other: ProductsReport) -> ProductsReport {
        let mut rows: BTreeMap<String, ProductFigures> = self.products.drain(..).map(|p| (p.sku.clone(), p)).collect();
        for p in other.products {
            let mut e = match rows.entry(p.sku.clone()) {
                Entry::Occupied(e) => e,
                Entry::Vacant(e) => {
                    e.insert(p);
                    continue;
                }
            };
            let row = e.get_mut();
            row.product_views += p.product_views;
            row.wishlist_adds += p.wishlist_adds;
            row.orders_attributed += p.orders_attributed;
            row.units_attributed += p.units_attributed;
            let both = [row.revenue_attributed.as_slice(), p.revenue_attributed.as_slice()];
            row.revenue_attributed = total(both);
        }
        self.products = rows.into_values().collect();
        self
    }
}

/// An amount as the reports write it (`-1234.50`), in minor units of its currency: the
/// reports write every amount of a currency with that currency's decimals.
fn minor_units(amount: &str) -> Option<i128> {
    let (negative, digits) = match amount.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, amount),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let value: i128 = digits.replace('.', "").parse().ok()?;
    Some(if negative { -value } else { value })
}

/// Amounts added up per currency, never across currencies.
fn total<'a>(amounts: impl IntoIterator<Item = &'a [Money]>) -> Vec<Money> {
    let mut sums: BTreeMap<&str, i128> = BTreeMap::new();
    for money in amounts.into_iter().flatten() {
        // An amount the reports wrote always reads; one that did not would be left out.
        if let Some(minor) = minor_units(&money.amount) {
            *sums.entry(money.currency.as_str()).or_default() += minor;
        }
    }
    sums.into_iter()
        .map(|(currency, minor)| Money {
            currency: currency.to_owned(),
            amount: format_minor(minor, currency),
        })
        .collect()
}

/// The summary: the shops' rows added up, only what adds up. An order is attributed to
/// one shop, so attributed orders and revenue add up; assisted ones do not (one order
/// may assist several shops), nor does a median: those stay at zero and are not shown.
fn summed(rows: &[ShopFigures]) -> Figures {
    let mut all = Figures::default();
    for row in rows {
        let f = &row.figures;
        all.visits += f.visits;
        all.identified_visits += f.identified_visits;
        all.product_views += f.product_views;
        all.wishlist_adds += f.wishlist_adds;
        all.orders_attributed += f.orders_attributed;
    }
    all.revenue_attributed = total(rows.iter().map(|r| r.figures.revenue_attributed.as_slice()));
    all
}

/// An amount as the page's reader writes it.
fn amount(lang: Lang, money: &Money) -> String {
    match lang {
        Lang::En => format!("{} {}", money.amount, money.currency),
        Lang::Fr => format!("{}\u{a0}{}", money.amount.replace('.', ","), money.currency),
    }
}

/// A day as the page's reader writes it.
fn day_label(lang: Lang, day: Date) -> String {
    match lang {
        Lang::En => day.to_string(),
        Lang::Fr => day.strftime("%d/%m/%Y").to_string(),
    }
}

/// The period asked for, or `Err` with the last [`DEFAULT_DAYS`] days when the dates do
/// not make one: a typed address is not worth an error page. A date not given is the
/// default's.
fn period_of(from: Option<&str>, to: Option<&str>) -> Result<Period, Period> {
    let today = jiff::Zoned::now().date();
    let span = jiff::Span::new().days(DEFAULT_DAYS - 1);
    let start = today.checked_sub(span).unwrap_or(today);
    let default = Period { from: start, to: today };
    let given = |s: Option<&str>, or: Date| {
        let s = s.map(str::trim).filter(|s| !s.is_empty());
        s.map_or_else(|| or.to_string(), str::to_owned)
    };
    let (from, to) = (given(from, default.from), given(to, default.to));
    Period::parse(&from, &to).map_err(|_| default)
}

/// What a query's value may hold unencoded: a date or a shop code stays readable.
const VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// `path` with the parameters that have a value, encoded.
fn href(path: &str, params: &[(&str, Option<&str>)]) -> String {
    let mut out = path.to_owned();
    for (name, value) in params.iter().filter_map(|(name, value)| Some((name, (*value)?))) {
        out.push(if out.contains('?') { '&' } else { '?' });
        out.push_str(&format!("{name}={}", utf8_percent_encode(value, VALUE)));
    }
    out
}

/// The figures over a period (the last 30 days by default), for one shop or all the
/// account sees: the summary, visits per day, the funnel from views to orders, revenue
/// per shop (one chart per currency), the most viewed products, and the downloads.
pub async fn page(
    ctx: Ctx,
    State(state): State<AppState>,
    Query(q): Query<FiguresQuery>,
) -> Result<Response, ConsoleError> {
    let lang = ctx.lang;
    let shop = q.shop.filter(|s| !s.is_empty());
    let scope = scope_of(&ctx, shop.as_deref())?;
    let asked = period_of(q.from.as_deref(), q.to.as_deref());
    let (period, refused) = asked.map_or_else(|default| (default, true), |period| (period, false));
    let settings = state.measure.clone();
    let (shops, days, products) = state
        .store
        .read(move |c| {
            let scope = scope.as_deref();
            Ok((
                scoped(c, &settings, period, scope, report::shops)?,
                scoped(c, &settings, period, scope, report::days)?,
                scoped(c, &settings, period, scope, report::products)?,
            ))
        })
        .await?;
    let all = summed(&shops.shops);

    // The shops to choose from: the chain's, the account's and any with figures, if seen.
    let codes = ctx.shops_seen(&state, shops.shops.iter().map(|s| s.store_code.clone()));

    // Visits per day, every day of the period, the shops' rows of a day added up.
    let mut per_day: BTreeMap<&str, u64> = BTreeMap::new();
    for row in &days.days {
        *per_day.entry(row.day.as_str()).or_default() += row.figures.visits;
    }
    let visits: Vec<(String, f64)> = period
        .from
        .series(jiff::Span::new().days(1))
        .take_while(|d| *d <= period.to)
        .map(|d| {
            let n = per_day.get(d.to_string().as_str()).copied().unwrap_or(0);
            (day_label(lang, d), n as f64)
        })
        .collect();

    let steps = [
        (tr!(lang, "Product views").into_owned(), all.product_views),
        (tr!(lang, "Wishlist adds").into_owned(), all.wishlist_adds),
        (tr!(lang, "Orders attributed").into_owned(), all.orders_attributed),
    ];

    // Revenue attributed per shop, one chart per currency, largest first.
    let mut revenue: BTreeMap<&str, Vec<(String, f64, String)>> = BTreeMap::new();
    for row in &shops.shops {
        for money in &row.figures.revenue_attributed {
            let value = money.amount.parse::<f64>().unwrap_or(0.0);
            let shown = (shop_name(&state, &row.store_code), value, amount(lang, money));
            revenue.entry(money.currency.as_str()).or_default().push(shown);
        }
    }
    for rows in revenue.values_mut() {
        rows.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    }

    let mut viewed: Vec<&ProductFigures> = products.products.iter().filter(|p| p.product_views > 0).collect();
    viewed.sort_by(|a, b| b.product_views.cmp(&a.product_views).then_with(|| a.sku.cmp(&b.sku)));
    let top: Vec<(String, f64, String)> = viewed
        .iter()
        .take(TOP_PRODUCTS)
        .map(|p| (p.sku.clone(), p.product_views as f64, p.product_views.to_string()))
        .collect();

    let (from, to) = (day_label(lang, period.from), day_label(lang, period.to));
    let (from_iso, to_iso) = (period.from.to_string(), period.to.to_string());
    let no_data = shops.shops.is_empty() && products.products.is_empty();
    let body = html! {
        @if refused {
            p.flash.refused role="alert" {
                (tr!(lang, "These dates do not make a period: give a first and a last day, the last not before the first, at most %{max} days apart. Here are the last %{days} days.", max = report::MAX_DAYS, days = DEFAULT_DAYS))
            }
        }
        form.filters method="get" action="/console/figures" {
            label for="from" { (tr!(lang, "From")) }
            input #from type="date" name="from" value=(period.from.to_string()) required;
            label for="to" { (tr!(lang, "To")) }
            input #to type="date" name="to" value=(period.to.to_string()) required;
            label for="shop" { (tr!(lang, "Shop")) }
            select #shop name="shop" {
                option value="" { @if ctx.account.whole_chain() { (tr!(lang, "All shops")) } @else { (tr!(lang, "All my shops")) } }
                @for code in &codes {
                    option value=(code) selected[shop.as_deref() == Some(code.as_str())] { (shop_name(&state, code)) }
                }
            }
            button type="submit" { (tr!(lang, "Show")) }
        }
        p.hint { (tr!(lang, "From %{from} to %{to}, in each shop's local days.", from = from, to = to)) }
        ul.stats aria-label=(tr!(lang, "Summary")) {
            li { strong { (all.visits) } span { (tr!(lang, "visits")) } }
            li { strong { (all.identified_visits) } span { (tr!(lang, "identified visits")) } }
            li { strong { (all.product_views) } span { (tr!(lang, "product views")) } }
            li { strong { (all.wishlist_adds) } span { (tr!(lang, "wishlist adds")) } }
            li { strong { (all.orders_attributed) } span { (tr!(lang, "orders attributed")) } }
            @for money in &all.revenue_attributed {
                li { strong { (amount(lang, money)) } span { (tr!(lang, "revenue attributed")) } }
            }
            @if all.revenue_attributed.is_empty() {
                li { strong { "—" } span { (tr!(lang, "revenue attributed")) } }
            }
        }
        @if no_data {
            p.empty { (tr!(lang, "No data for this period.")) }
        } @else {
            h2 { (tr!(lang, "Visits per day")) }
            @if all.visits == 0 {
                p.empty { (tr!(lang, "No visit in this period.")) }
            } @else {
                (charts::bars(&tr!(lang, "Visits per day from %{from} to %{to}", from = from, to = to), &visits, &tr!(lang, "visits")))
            }
            h2 { (tr!(lang, "From views to orders")) }
            (charts::funnel(&tr!(lang, "Product views, wishlist adds and orders attributed, as a share of product views"), &steps))
            h2 { (tr!(lang, "Revenue attributed per shop")) }
            @if revenue.is_empty() {
                p.empty { (tr!(lang, "No order was attributed to a kiosk in this period.")) }
            }
            @for (currency, rows) in &revenue {
                (charts::hbars(&tr!(lang, "Revenue attributed per shop, in %{currency}", currency = currency), rows))
            }
            h2 { (tr!(lang, "Most viewed products")) }
            @if top.is_empty() {
                p.empty { (tr!(lang, "No product was viewed in this period.")) }
            } @else {
                (charts::hbars(&tr!(lang, "The %{n} most viewed products, by product views", n = top.len()), &top))
            }
        }
        p.hint {
            (tr!(lang, "An order is credited to the last kiosk touch in the %{days} days before it: a visit its customer signed in to, or a kiosk link the order came through. Only customers who agreed are linked. Revenue is net of refunds, per currency.", days = shops.attribution.window_days))
        }
        h2 { (tr!(lang, "Downloads (CSV)")) }
        ul.plain {
            @for which in REPORTS {
                @let params = [("report", Some(which)), ("from", Some(&*from_iso)), ("to", Some(&*to_iso)), ("shop", shop.as_deref())];
                li { a href=(href("/console/figures.csv", &params)) {
                    @match which {
                        "shops" => (tr!(lang, "Per shop")),
                        "days" => (tr!(lang, "Per shop and day")),
                        "products" => (tr!(lang, "Per product")),
                        _ => (tr!(lang, "Per kiosk")),
                    }
                } }
            }
        }
    };
    Ok(ctx.render(&tr!(lang, "Figures"), body).await)
}

/// A report as CSV (`report=shops|days|products|kiosks`), over the same period and
/// shops as the page, as a file to save. Dates that do not make a period go back to
/// the page, with the message, rather than to a file of another period.
pub async fn csv(ctx: Ctx, State(state): State<AppState>, Query(q): Query<CsvQuery>) -> Result<Response, ConsoleError> {
    let Some(which) = REPORTS.into_iter().find(|r| *r == q.report) else {
        return Err(ConsoleError::NotFound);
    };
    let shop = q.shop.filter(|s| !s.is_empty());
    let scope = scope_of(&ctx, shop.as_deref())?;
    let (from, to) = (q.from.as_deref(), q.to.as_deref());
    let Ok(period) = period_of(from, to) else {
        // Back to the page, which says what is wrong with them.
        let back = href(
            "/console/figures",
            &[("from", from), ("to", to), ("shop", shop.as_deref())],
        );
        return Ok(Redirect::to(&back).into_response());
    };
    let settings = state.measure.clone();
    let body = state
        .store
        .read(move |c| {
            let scope = scope.as_deref();
            Ok(match which {
                "shops" => to_csv::shops_csv(&scoped(c, &settings, period, scope, report::shops)?),
                "days" => to_csv::days_csv(&scoped(c, &settings, period, scope, report::days)?),
                "products" => to_csv::products_csv(&scoped(c, &settings, period, scope, report::products)?),
                _ => to_csv::kiosks_csv(&scoped(c, &settings, period, scope, report::kiosks)?),
            })
        })
        .await?;
    // The name is made of a fixed word and two dates that parsed: nothing to escape.
    let (from, to) = (period.from, period.to);
    let disposition = format!("attachment; filename=\"vitrine-{which}-{from}-{to}.csv\"");
    let headers = [
        (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
        (header::CONTENT_DISPOSITION, disposition),
    ];
    Ok((headers, body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(amount: &str, currency: &str) -> Money {
        Money {
            currency: currency.to_owned(),
            amount: amount.to_owned(),
        }
    }

    #[test]
    fn amounts_add_up_per_currency_only() {
        let a = [money("10.50", "EUR"), money("1000", "JPY")];
        let b = [money("0.75", "EUR"), money("-2.00", "USD")];
        let sum = total([a.as_slice(), b.as_slice()]);
        assert_eq!(
            sum,
            vec![money("11.25", "EUR"), money("1000", "JPY"), money("-2.00", "USD")]
        );
    }

    #[test]
    fn a_products_report_of_two_shops_adds_up_per_sku() {
        let of = |products: Vec<ProductFigures>| ProductsReport {
            from: "2026-11-01".to_owned(),
            to: "2026-11-30".to_owned(),
            attribution: report::attribution(&Settings::default()),
            products,
        };
        let sku = |sku: &str, views: u64, revenue: Vec<Money>| ProductFigures {
            sku: sku.to_owned(),
            product_views: views,
            orders_attributed: u64::from(!revenue.is_empty()),
            revenue_attributed: revenue,
            ..ProductFigures::default()
        };
        let paris = of(vec![sku("A", 3, vec![money("5.00", "EUR")]), sku("B", 1, vec![])]);
        let lyon = of(vec![sku("A", 2, vec![money("7.50", "EUR")]), sku("C", 4, vec![])]);
        let merged = paris.merge(lyon);
        let skus: Vec<&str> = merged.products.iter().map(|p| p.sku.as_str()).collect();
        assert_eq!(skus, ["A", "B", "C"]);
        assert_eq!(merged.products[0].product_views, 5);
        assert_eq!(merged.products[0].orders_attributed, 2);
        assert_eq!(merged.products[0].revenue_attributed, vec![money("12.50", "EUR")]);
    }

    #[test]
    fn links_encode_their_values() {
        assert_eq!(
            href(
                "/console/figures",
                &[("from", Some("2026-11-01")), ("to", None), ("shop", Some("A&B"))]
            ),
            "/console/figures?from=2026-11-01&shop=A%26B"
        );
    }
}
