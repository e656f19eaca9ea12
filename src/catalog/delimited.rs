//! Delimited text feeds with a header row: tab-separated as Merchant Center documents
//! them, and the comma-, semicolon- and pipe-separated files shops' platforms and
//! spreadsheets export.
//!
//! The delimiter is the one the header row uses most (or the one an Excel `sep=;` first
//! line names). The csv crate handles quoting (a field in `"…"` may hold delimiters,
//! newlines and `""`) and CRLF line ends. Header names are normalised (`store code`,
//! `g:store_code` and `Store_Code` are one column) and read under Merchant Center's names
//! ([`fields`](super::fields)). A row with the wrong number of cells is rejected on its
//! own with its line number; a header row without an id column refuses the feed.

use super::feed::{FeedError, Notice, ParsedFeed, Position, RawItem, field_name};
use super::fields;
use super::repair::Lines;

const MAX_COLUMNS: usize = 200;
const DELIMITERS: [u8; 4] = [b'\t', b',', b';', b'|'];

pub fn read(text: &str) -> Result<ParsedFeed, FeedError> {
    let (delimiter, skipped) = delimiter(text);
    let body = &text[skipped..];
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(body.as_bytes());
    let written: Vec<String> = reader
        .headers()
        .map_err(|e| csv_error(text, skipped, &e))?
        .iter()
        .map(field_name)
        .collect();
    if written.len() > MAX_COLUMNS {
        return Err(FeedError::at(
            text.as_bytes(),
            skipped,
            format!("the header row has more than {MAX_COLUMNS} columns"),
        ));
    }
    let mapping = fields::mapping(written.iter().map(String::as_str));
    let headers: Vec<&str> = written.iter().map(|h| fields::renamed(&mapping, h)).collect();
    if !headers.contains(&"id") {
        let shown: Vec<&str> = written.iter().take(12).map(String::as_str).collect();
        return Err(FeedError::at(
            text.as_bytes(),
            skipped,
            format!(
                "the header row has no id column (it has: {}); name the column of product ids 'id'",
                shown.join(", ")
            ),
        ));
    }

    let mut feed = ParsedFeed::default();
    feed.warnings.extend(fields::describe(&mapping).map(Notice::about_feed));
    let mut last: Option<(usize, usize)> = None;
    // From byte offsets: after a CRLF the csv crate places the next record at its LF.
    let mut lines = Lines::new(text.as_bytes());
    let mut record = csv::StringRecord::new();
    for index in 0.. {
        if !reader
            .read_record(&mut record)
            .map_err(|e| csv_error(text, skipped, &e))?
        {
            break;
        }
        let mut start = skipped + record.position().map_or(0, |p| p.byte() as usize);
        while text.as_bytes().get(start).is_some_and(|b| matches!(b, b'\r' | b'\n')) {
            start += 1;
        }
        let line = lines.at(start).0;
        let end = skipped + reader.position().byte() as usize;
        // A row of the wrong shape that spans lines holds a quote that never closed: it
        // swallowed the rows after it, which a full feed would then remove.
        if record.len() != headers.len() && text.get(start..end).is_some_and(|row| row.trim_end().contains('\n')) {
            return Err(FeedError::at(
                text.as_bytes(),
                start,
                format!(
                    "a quote in this row is never closed: the row runs over several lines and has {} cells, \
                     the header row {}",
                    record.len(),
                    headers.len()
                ),
            ));
        }
        last = Some((start, record.len()));
        if let Some(previous) = feed.items.last_mut() {
            previous.end_line = line.saturating_sub(1).max(previous.end_line);
        }
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        let mut item = RawItem::new(Position { item: index + 1, line });
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
    if let Some(last) = feed.items.last_mut() {
        last.end_line = usize::MAX;
    }
    // The last row cut short, or ended inside quotes: the file was cut off, and the
    // products after the cut would be removed.
    if let Some((start, cells)) = last {
        let open_quote = ends_in_quotes(text.get(start..).unwrap_or(""), delimiter);
        // A file ends with a line break or a last cell, never right after a delimiter.
        let after_delimiter = text.as_bytes().last() == Some(&delimiter);
        if cells < headers.len() || open_quote || after_delimiter {
            return Err(FeedError::at(
                text.as_bytes(),
                start,
                format!(
                    "the last row {}; the file may have been cut off",
                    if open_quote {
                        "ends inside quotes".to_owned()
                    } else if after_delimiter {
                        "ends right after a delimiter".to_owned()
                    } else {
                        format!("has {cells} cells but the header row has {}", headers.len())
                    }
                ),
            ));
        }
    }
    Ok(feed)
}

/// Whether a row, read as RFC 4180 reads it, ends inside a quoted cell (a quote in an
/// unquoted cell is a character, as the csv crate reads it).
fn ends_in_quotes(row: &str, delimiter: u8) -> bool {
    let bytes = row.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'"' {
            i += 1;
            loop {
                match bytes.get(i) {
                    None => return true,
                    Some(b'"') if bytes.get(i + 1) == Some(&b'"') => i += 2,
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    Some(_) => i += 1,
                }
            }
        }
        // The rest of the cell, to the next delimiter or line end.
        while i < bytes.len() && bytes[i] != delimiter && bytes[i] != b'\n' {
            i += 1;
        }
        i += 1;
    }
    false
}

/// The delimiter, and how many bytes of `sep=` line precede the header row.
fn delimiter(text: &str) -> (u8, usize) {
    let first = text.split('\n').next().unwrap_or_default();
    if let Some(sep) = first.trim_end_matches('\r').strip_prefix("sep=")
        && let [d] = sep.as_bytes()
    {
        return (*d, (first.len() + 1).min(text.len()));
    }
    // Counted outside quotes: a quoted header may hold any character.
    let mut counts = [0usize; DELIMITERS.len()];
    let mut quoted = false;
    for b in first.bytes() {
        match b {
            b'"' => quoted = !quoted,
            _ if quoted => {}
            _ => {
                if let Some(i) = DELIMITERS.iter().position(|d| *d == b) {
                    counts[i] += 1;
                }
            }
        }
    }
    // Ties go to the earlier one: tab, as Merchant Center's own format.
    let best = (0..DELIMITERS.len()).fold(0, |best, i| if counts[i] > counts[best] { i } else { best });
    (DELIMITERS[best], 0)
}

fn csv_error(text: &str, skipped: usize, e: &csv::Error) -> FeedError {
    let offset = e.position().map_or(0, |p| p.byte() as usize);
    FeedError::at(text.as_bytes(), skipped + offset, e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_row_names_the_delimiter() {
        assert_eq!(delimiter("id\ttitle\tprice\n1\ta,b\t2"), (b'\t', 0));
        assert_eq!(delimiter("id,title,\"price;tax\"\r\n"), (b',', 0));
        assert_eq!(delimiter("id;title;price\n"), (b';', 0));
        assert_eq!(delimiter("id|title|price\n"), (b'|', 0));
        assert_eq!(delimiter("sep=;\nid;title\n"), (b';', 6));
        assert_eq!(delimiter("sep=;"), (b';', 5));
        assert!(read("sep=;").is_err());
    }

    #[test]
    fn a_file_cut_off_or_with_a_runaway_quote_is_refused_whole() {
        let full = "id,title,price\nA,\"Robe, lin\",10 EUR\nB,Jupe,12 EUR\nC,\"Pull\nrayé\",15 EUR\n";
        assert_eq!(read(full).unwrap().items.len(), 3);
        for cut in (1..full.len() - 1).filter(|c| full.is_char_boundary(*c)) {
            let part = &full[..cut];
            // Read only when cut between rows, or inside a last row's last cell (which
            // the cell's own check, a price here, then rejects): never inside quotes,
            // never with the last row short of cells.
            if let Ok(feed) = read(part) {
                let between_rows = part.ends_with('\n');
                let in_last_cell = !ends_in_quotes(part.rsplit_once("\nC,").map_or(part, |(_, row)| row), b',')
                    && !part.ends_with(',');
                let cells = feed.items.last().map_or(0, |i| i.fields.len());
                assert!(
                    feed.items.is_empty() || between_rows || (in_last_cell && cells == 3),
                    "cut at {cut} read as {} items: {part:?}",
                    feed.items.len()
                );
            }
        }
        let runaway = "id,title,price\nA,\"Robe,10 EUR\nB,Jupe,12 EUR\nC,Pull,15 EUR\n";
        let error = read(runaway).unwrap_err().to_string();
        assert!(error.contains("never closed"), "{error}");
        assert!(ends_in_quotes("A,\"x\ny", b','));
        assert!(!ends_in_quotes("A,5\" screen,\"a \"\"b\"\"\"", b','));
    }
}
