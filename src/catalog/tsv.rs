//! Tab-separated feeds with a header row, as Merchant Center and spreadsheets export them.
//!
//! The csv crate handles quoting (a field in `"…"` may hold tabs, newlines and `""`) and
//! CRLF line ends. Header names are normalised (`store code`, `g:store_code` and
//! `Store_Code` are one column). A row with the wrong number of cells is rejected on its
//! own with its line number; a header row without an `id` column refuses the feed.

use super::feed::{FeedError, ParsedFeed, Position, RawItem, field_name};

const MAX_COLUMNS: usize = 200;

pub fn read(text: &str) -> Result<ParsedFeed, FeedError> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .flexible(true)
        .has_headers(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| csv_error(text, &e))?
        .iter()
        .map(field_name)
        .collect();
    if headers.len() > MAX_COLUMNS {
        return Err(FeedError::at(
            text.as_bytes(),
            0,
            format!("the header row has more than {MAX_COLUMNS} columns"),
        ));
    }
    if !headers.iter().any(|h| h == "id" || h == "item_id") {
        let hint = if headers.len() == 1 && headers[0].contains([',', ';']) {
            " (the file looks comma- or semicolon-separated; Merchant feeds use tabs)"
        } else {
            ""
        };
        return Err(FeedError::at(
            text.as_bytes(),
            0,
            format!("the header row has no id column{hint}"),
        ));
    }

    let mut feed = ParsedFeed::default();
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|e| csv_error(text, &e))?;
        let line = record.position().map_or(index + 2, |p| p.line() as usize);
        let mut item = RawItem::new(Position { item: index + 1, line });
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        for (name, cell) in headers.iter().zip(record.iter()) {
            item.push(name, cell.to_owned());
        }
        if record.len() != headers.len() {
            // Kept so the normaliser rejects it with its position and id.
            item.push(
                "_shape_error",
                format!("has {} cells but the header row has {}", record.len(), headers.len()),
            );
        }
        feed.items.push(item);
        if feed.items.len() > super::feed::MAX_ITEMS {
            return Err(FeedError::TooManyItems);
        }
    }
    Ok(feed)
}

fn csv_error(text: &str, e: &csv::Error) -> FeedError {
    let offset = e.position().map_or(0, |p| p.byte() as usize);
    FeedError::at(text.as_bytes(), offset, e.to_string())
}
