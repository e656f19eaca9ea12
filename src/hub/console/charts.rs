//! Charts drawn on the hub as inline SVG, for the figures page.
//!
//! No script and no chart library: the console's CSP allows neither, and a shop's LAN
//! is enough to see them. Each chart says what it shows (`role="img"` labelled by its
//! own `<title>`), gives each mark's value as a tooltip (a `<title>` child, which screen
//! readers read too), and carries the same numbers as a visually hidden table, so the
//! figures can be read without the picture. Colours come from the stylesheet (`.chart
//! .bar`, `.chart .grid`…), never from here. Every text goes through maud, so it is
//! escaped; every coordinate goes through [`num`], so no `NaN` or `inf` reaches the
//! markup whatever the data. What to show when there is no data at all is the caller's
//! to say: these draw an empty frame.

use maud::{Markup, html};

/// Every chart's width in SVG units; the stylesheet scales it to the page.
const WIDTH: f64 = 640.0;

/// Vertical bars: the whole height, and the room around the plot for the value ticks
/// (left), the last day label (right) and the day labels (bottom).
const BARS_HEIGHT: f64 = 220.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 32.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;
const PLOT_HEIGHT: f64 = BARS_HEIGHT - TOP - BOTTOM;
/// At most this many day labels under the bars, so they never overlap.
const LABELS: usize = 6;

/// Horizontal bars: one row per item, its label above its bar, its value after it.
const ROW: f64 = 40.0;
const BAR_THICKNESS: f64 = 14.0;
/// Room kept right of the longest bar for its value.
const VALUE_ROOM: f64 = 120.0;
const LONGEST_BAR: f64 = WIDTH - VALUE_ROOM;
/// Longer labels are cut (with `…`) in the picture; the tooltip and the table keep
/// them whole.
const LONGEST_LABEL: usize = 60;

/// A coordinate as SVG reads it: one decimal, 0 for anything not finite (and never
/// `-0.0`).
fn num(v: f64) -> String {
    let v = if v.is_finite() { v } else { 0.0 };
    format!("{:.1}", v + 0.0)
}

/// A value as bars are scaled by it: what is not a finite positive number is 0.
fn clean(v: f64) -> f64 {
    if v.is_finite() && v > 0.0 { v } else { 0.0 }
}

/// The largest value, or `None` when every value is 0: then there is nothing to scale
/// by, and every bar is empty rather than divided by zero.
fn largest(values: impl Iterator<Item = f64>) -> Option<f64> {
    let max = values.map(clean).fold(0.0, f64::max);
    (max > 0.0).then_some(max)
}

/// `value` as a share of `max`, from 0 to 1.
fn share(value: f64, max: Option<f64>) -> f64 {
    match max {
        Some(max) => (clean(value) / max).min(1.0),
        None => 0.0,
    }
}

/// A number for a tick or a tooltip: whole when it is, else with one decimal.
fn number(v: f64) -> String {
    let v = clean(v);
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// `part` as a percentage of `whole`; `None` when `whole` is 0 (no share to give).
/// One decimal under 10 %, so a small step does not read as 0.
fn percent(part: u64, whole: u64) -> Option<String> {
    if whole == 0 {
        return None;
    }
    let p = part as f64 * 100.0 / whole as f64;
    Some(if p < 10.0 && p.fract() != 0.0 {
        format!("{p:.1}%")
    } else {
        format!("{p:.0}%")
    })
}

/// The id of a chart's `<title>`, from the title: a page's charts have distinct titles,
/// so their ids differ, and the id says nothing the title does not.
fn chart_id(title: &str) -> String {
    format!("chart-{:016x}", xxhash_rust::xxh3::xxh3_64(title.as_bytes()))
}

/// A label cut to [`LONGEST_LABEL`] characters for the picture.
fn short(label: &str) -> String {
    if label.chars().count() <= LONGEST_LABEL {
        return label.to_owned();
    }
    let cut: String = label.chars().take(LONGEST_LABEL - 1).collect();
    format!("{cut}…")
}

/// The chart's numbers as a table only screen readers (and text browsers) see.
fn table(title: &str, rows: &[(String, String)]) -> Markup {
    html! {
        table.visually-hidden {
            caption { (title) }
            tbody {
                @for (label, value) in rows {
                    tr { th scope="row" { (label) } td { (value) } }
                }
            }
        }
    }
}

/// Vertical bars, one per point in order (a day's visits): value ticks at 0, half and
/// the largest value, a few labels under the bars, each bar's value in its tooltip as
/// `label: value unit`. The largest bar has the plot's full height.
pub fn bars(title: &str, points: &[(String, f64)], unit: &str) -> Markup {
    let id = chart_id(title);
    let max = largest(points.iter().map(|p| p.1));
    let slot = (WIDTH - LEFT - RIGHT) / points.len().max(1) as f64;
    // A gap between bars while they are wide enough to have one.
    let gap = if slot >= 4.0 { slot * 0.2 } else { 0.0 };
    let baseline = TOP + PLOT_HEIGHT;
    let ticks: Vec<f64> = match max {
        Some(max) => vec![0.0, max / 2.0, max],
        None => vec![0.0],
    };
    let every = points.len().div_ceil(LABELS).max(1);
    let cells: Vec<(String, String)> = points
        .iter()
        .map(|(label, value)| (label.clone(), format!("{} {unit}", number(*value))))
        .collect();
    html! {
        figure.chart {
            svg.bars xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {} {}", num(WIDTH), num(BARS_HEIGHT)))
                font-size="11" role="img" aria-labelledby=(id) {
                title id=(id) { (title) }
                @for tick in &ticks {
                    @let y = baseline - share(*tick, max) * PLOT_HEIGHT;
                    line.grid x1=(num(LEFT)) x2=(num(WIDTH - RIGHT)) y1=(num(y)) y2=(num(y)) {}
                    text.tick x=(num(LEFT - 6.0)) y=(num(y + 4.0)) text-anchor="end" { (number(*tick)) }
                }
                @for (i, (label, value)) in points.iter().enumerate() {
                    @let height = share(*value, max) * PLOT_HEIGHT;
                    rect.bar x=(num(LEFT + slot * i as f64 + gap / 2.0)) y=(num(baseline - height))
                        width=(num(slot - gap)) height=(num(height)) {
                        title { (label) ": " (number(*value)) " " (unit) }
                    }
                }
                line.axis x1=(num(LEFT)) x2=(num(WIDTH - RIGHT)) y1=(num(baseline)) y2=(num(baseline)) {}
                @for (i, (label, _)) in points.iter().enumerate() {
                    @if i % every == 0 {
                        text.tick x=(num(LEFT + slot * (i as f64 + 0.5))) y=(num(baseline + 18.0)) text-anchor="middle" {
                            (label)
                        }
                    }
                }
            }
            (table(title, &cells))
        }
    }
}

/// Horizontal bars, one row per `(label, value, shown value)` in the order given
/// (revenue per shop, the most viewed products): the label above the bar, the shown
/// value after it. The largest value has the longest bar.
pub fn hbars(title: &str, rows: &[(String, f64, String)]) -> Markup {
    horizontal("hbars", title, rows)
}

/// A funnel: each step's count as a bar (the largest count the longest) and as text,
/// with its share of the first step (views → wishlist adds → orders). When the first
/// step is 0 there is no share to give: `—`.
pub fn funnel(title: &str, steps: &[(String, u64)]) -> Markup {
    let first = steps.first().map_or(0, |s| s.1);
    let rows: Vec<(String, f64, String)> = steps
        .iter()
        .map(|(label, n)| {
            let share = percent(*n, first).unwrap_or_else(|| "—".to_owned());
            (label.clone(), *n as f64, format!("{n} ({share})"))
        })
        .collect();
    horizontal("funnel", title, &rows)
}

/// The horizontal bars of [`hbars`] and [`funnel`]; `kind` is the SVG's class.
fn horizontal(kind: &str, title: &str, rows: &[(String, f64, String)]) -> Markup {
    let id = chart_id(title);
    let max = largest(rows.iter().map(|r| r.1));
    let height = ROW * rows.len() as f64 + 8.0;
    let cells: Vec<(String, String)> = rows.iter().map(|r| (r.0.clone(), r.2.clone())).collect();
    html! {
        figure.chart {
            svg class=(kind) xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {} {}", num(WIDTH), num(height)))
                font-size="12" role="img" aria-labelledby=(id) {
                title id=(id) { (title) }
                @for (i, (label, value, shown)) in rows.iter().enumerate() {
                    @let top = ROW * i as f64 + 4.0;
                    @let length = share(*value, max) * LONGEST_BAR;
                    text.label x="0" y=(num(top + 12.0)) { (short(label)) }
                    rect.bar x="0" y=(num(top + 18.0)) width=(num(length)) height=(num(BAR_THICKNESS)) {
                        title { (label) ": " (shown) }
                    }
                    text.value x=(num(length + 6.0)) y=(num(top + 29.0)) { (shown) }
                }
            }
            (table(title, &cells))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(values: &[f64]) -> Vec<(String, f64)> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("2026-11-{:02}", i + 1), *v))
            .collect()
    }

    fn bar_count(svg: &str) -> usize {
        svg.matches("class=\"bar\"").count()
    }

    fn clean_numbers(svg: &str) -> bool {
        !svg.contains("NaN") && !svg.contains("inf")
    }

    #[test]
    fn all_zero_data_draws_empty_bars_and_no_nan() {
        let out = bars("Visits", &days(&[0.0, 0.0, 0.0]), "visits").into_string();
        assert!(clean_numbers(&out), "{out}");
        assert_eq!(bar_count(&out), 3);
        let out = hbars("Revenue", &[("Paris".into(), 0.0, "0.00 EUR".into())]).into_string();
        assert!(clean_numbers(&out), "{out}");
        assert_eq!(bar_count(&out), 1);
        let steps = [
            ("Views".to_owned(), 0),
            ("Adds".to_owned(), 0),
            ("Orders".to_owned(), 0),
        ];
        let out = funnel("Funnel", &steps).into_string();
        assert!(clean_numbers(&out), "{out}");
        assert!(out.contains("0 (—)"), "{out}");
    }

    #[test]
    fn numbers_that_are_not_finite_are_drawn_as_zero() {
        let out = bars("Visits", &days(&[f64::NAN, f64::INFINITY, -3.0, 2.0]), "visits").into_string();
        assert!(clean_numbers(&out), "{out}");
        assert_eq!(bar_count(&out), 4);
        let rows = [("A".to_owned(), f64::NAN, "?".to_owned())];
        assert!(clean_numbers(&hbars("Odd", &rows).into_string()));
    }

    #[test]
    fn no_data_draws_an_empty_frame() {
        let out = bars("Visits", &[], "visits").into_string();
        assert!(clean_numbers(&out) && bar_count(&out) == 0, "{out}");
        let out = hbars("Revenue", &[]).into_string();
        assert!(clean_numbers(&out) && bar_count(&out) == 0, "{out}");
        let out = funnel("Funnel", &[]).into_string();
        assert!(clean_numbers(&out) && bar_count(&out) == 0, "{out}");
    }

    #[test]
    fn one_bar_per_point_and_the_largest_has_full_height() {
        let out = bars("Visits", &days(&[1.0, 2.0, 4.0]), "visits").into_string();
        assert_eq!(bar_count(&out), 3);
        let full = format!("height=\"{}\"", num(PLOT_HEIGHT));
        assert_eq!(out.matches(&full).count(), 1, "{out}");
        assert!(out.contains(&format!("height=\"{}\"", num(PLOT_HEIGHT / 2.0))));
        assert!(out.contains("<title>2026-11-03: 4 visits</title>"), "{out}");
    }

    #[test]
    fn the_largest_row_has_the_longest_bar() {
        let rows = [
            ("Paris".to_owned(), 50.0, "50.00 EUR".to_owned()),
            ("Lyon".to_owned(), 200.0, "200.00 EUR".to_owned()),
        ];
        let out = hbars("Revenue", &rows).into_string();
        assert_eq!(bar_count(&out), 2);
        assert_eq!(out.matches(&format!("width=\"{}\"", num(LONGEST_BAR))).count(), 1);
        assert!(out.contains(&format!("width=\"{}\"", num(LONGEST_BAR / 4.0))));
    }

    #[test]
    fn a_funnel_gives_each_step_its_share_of_the_first() {
        let steps = [
            ("Views".to_owned(), 200),
            ("Adds".to_owned(), 50),
            ("Orders".to_owned(), 3),
        ];
        let out = funnel("Funnel", &steps).into_string();
        assert!(
            out.contains("200 (100%)") && out.contains("50 (25%)") && out.contains("3 (1.5%)"),
            "{out}"
        );
    }

    #[test]
    fn every_chart_is_labelled_and_has_its_numbers_as_a_table() {
        let out = bars("Visits per day", &days(&[1.0, 2.0]), "visits").into_string();
        let id = chart_id("Visits per day");
        assert!(out.contains(&format!("aria-labelledby=\"{id}\"")), "{out}");
        assert!(
            out.contains(&format!("<title id=\"{id}\">Visits per day</title>")),
            "{out}"
        );
        assert!(out.contains("role=\"img\""));
        assert!(out.contains("<table class=\"visually-hidden\">"), "{out}");
        assert_eq!(out.matches("<tr>").count(), 2);
        assert!(out.contains("<td>2 visits</td>"), "{out}");
    }

    #[test]
    fn text_is_escaped() {
        let rows = [("<b>A&B</b>".to_owned(), 1.0, "1".to_owned())];
        let out = hbars("<script>", &rows).into_string();
        assert!(!out.contains("<script>") && !out.contains("<b>"), "{out}");
        assert!(
            out.contains("&lt;script&gt;") && out.contains("&lt;b&gt;A&amp;B"),
            "{out}"
        );
    }

    #[test]
    fn long_labels_are_cut_in_the_picture_only() {
        let long = "x".repeat(100);
        let out = hbars("Products", &[(long.clone(), 1.0, "1".to_owned())]).into_string();
        assert!(out.contains(&format!("{}…", "x".repeat(LONGEST_LABEL - 1))));
        assert!(out.contains(&format!("<th scope=\"row\">{long}</th>")));
    }
}
