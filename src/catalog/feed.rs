//! Reading Merchant Center feeds: the product feed (RSS 2.0, Atom, or delimited text such
//! as TSV and CSV) and the local inventory feed (delimited text or XML).
//!
//! A feed is read in three steps. [`repair`](super::repair) decodes the bytes and repairs
//! local damage (a stray Latin-1 byte, a bare `&`), with a warning for each. A format
//! reader ([`xml`](super::xml), [`delimited`](super::delimited)) turns the text into
//! [`RawItem`]s — field names and values with their position — or refuses the whole feed
//! when its structure is broken (a feed cut short is never half-read). Then
//! [`normalise`](super::normalise) gives each item its meaning, or a reason to reject
//! that one item.

use std::fmt;

use super::repair::{self, Repairs};

/// Largest feed accepted, in bytes. A 500,000-variant TSV feed is about 250 MB.
pub const MAX_FEED_BYTES: usize = 1 << 30;
/// Largest number of items in one feed: a local inventory feed lists every SKU in every
/// shop (500,000 SKUs in 20 shops is 10 million rows).
pub const MAX_ITEMS: usize = 10_000_000;

/// Where an item stands in its feed, for messages a merchant can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// 1-based item number (data row for TSV).
    pub item: usize,
    /// 1-based line where the item starts.
    pub line: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "item {} (line {})", self.item, self.line)
    }
}

/// An item as written in the feed: normalised field names (`g:` prefix dropped,
/// lower case, spaces as `_`) and raw text values, repeated fields kept in order.
#[derive(Debug, Clone, Default)]
pub struct RawItem {
    pub position: Option<Position>,
    /// The item's last line, for warnings about damage inside it.
    pub end_line: usize,
    pub fields: Vec<(String, String)>,
}

impl RawItem {
    pub fn new(position: Position) -> RawItem {
        RawItem {
            position: Some(position),
            end_line: position.line,
            fields: Vec::new(),
        }
    }

    pub fn push(&mut self, name: &str, value: String) {
        self.fields.push((field_name(name), value));
    }

    /// The item's id, for messages.
    pub fn id(&self) -> Option<&str> {
        self.get("id")
    }

    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, v)| n == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
    }

    pub(super) fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }
}

/// `g:Item_Group_ID`, `item group id` and `item_group_id` are the same field.
pub fn field_name(name: &str) -> String {
    let name = name.trim().trim_start_matches('\u{feff}');
    let name = name.strip_prefix("g:").unwrap_or(name);
    name.chars()
        .flat_map(|c| {
            if c == ' ' || c == '-' {
                vec!['_']
            } else {
                c.to_lowercase().collect()
            }
        })
        .collect()
}

/// Why a whole feed was refused. Nothing is imported from a refused feed.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("the feed is not well-formed at {line}:{column}: {reason}")]
    Malformed { line: usize, column: usize, reason: String },
    #[error("the feed is {size} bytes, more than the {MAX_FEED_BYTES} accepted; split it")]
    TooLarge { size: u64 },
    #[error("the feed has more than {MAX_ITEMS} items; split it")]
    TooManyItems,
    #[error("the feed lists no items; an empty export is refused rather than allowed to empty the catalog")]
    Empty,
    #[error(
        "none of the feed's {listed} items can be used, so it is refused rather than allowed to empty the catalog; the first: {first}"
    )]
    NothingUsable { listed: usize, first: String },
    #[error("{0}")]
    Unsupported(String),
}

impl FeedError {
    /// A malformed-feed error at a byte offset of `text`.
    pub fn at(text: &[u8], offset: usize, reason: impl Into<String>) -> FeedError {
        let (line, column) = line_column(text, offset);
        FeedError::Malformed {
            line,
            column,
            reason: reason.into(),
        }
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &[u8], offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let line_start = before.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..]).chars().count() + 1;
    (line, column)
}

/// A feed read into items, with the language it declares if any, and what was repaired
/// or renamed to read it.
#[derive(Debug, Default)]
pub struct ParsedFeed {
    pub language: Option<String>,
    pub items: Vec<RawItem>,
    pub warnings: Vec<Notice>,
}

/// Reads a feed in whichever format its first bytes announce.
pub fn read(bytes: &[u8]) -> Result<ParsedFeed, FeedError> {
    if bytes.len() > MAX_FEED_BYTES {
        return Err(FeedError::TooLarge {
            size: bytes.len() as u64,
        });
    }
    let mut repairs = Repairs::default();
    let text = repair::decode(bytes, &mut repairs);
    let text = text.trim_start_matches('\u{feff}');
    if text.trim().is_empty() {
        return Err(FeedError::Empty);
    }
    if is_web_page(text) {
        return Err(FeedError::Unsupported(WEB_PAGE.into()));
    }
    let mut feed = if text.trim_start().starts_with('<') {
        let text = repair::xml_markup(text, &mut repairs);
        if let Some((line, column)) = repairs.unrepairable {
            return Err(FeedError::Malformed {
                line,
                column,
                reason: "a quote opened in this tag runs over the elements after it; close it".into(),
            });
        }
        if repairs.markup() > repair::MAX_MARKUP_REPAIRS {
            return Err(FeedError::Unsupported(format!(
                "the feed holds more than {} bare '&' or '<': it is not XML damaged here and there; export it again",
                repair::MAX_MARKUP_REPAIRS
            )));
        }
        let mut feed = super::xml::read(&text)?;
        rename_fields(&mut feed);
        feed
    } else {
        super::delimited::read(text)?
    };
    if feed.items.len() > MAX_ITEMS {
        return Err(FeedError::TooManyItems);
    }
    // An empty full feed would remove the whole catalog: far more likely a broken export.
    if feed.items.is_empty() {
        return Err(FeedError::Empty);
    }
    let damage = repairs.finish();
    let mut warnings = Vec::with_capacity(damage.len() + feed.warnings.len());
    for d in damage {
        // The item the damage is in, if any: the last one starting at or before it.
        let after = feed
            .items
            .partition_point(|i| i.position.is_some_and(|p| p.line <= d.line));
        let item = after
            .checked_sub(1)
            .map(|i| &feed.items[i])
            .filter(|i| d.line <= i.end_line);
        warnings.push(Notice {
            item: item.and_then(|i| i.position).map(|p| p.item),
            line: Some(d.line),
            column: d.column,
            id: item.and_then(RawItem::id).map(str::to_owned),
            reason: d.reason,
        });
    }
    warnings.append(&mut feed.warnings);
    feed.warnings = warnings;
    Ok(feed)
}

/// Why a web page is refused.
pub const WEB_PAGE: &str =
    "this is a web page (HTML), not a product feed: check the feed's address, and that it needs no sign-in";

/// Whether `text` is an HTML page, such as the error or sign-in page a server answers
/// instead of the feed.
fn is_web_page(text: &str) -> bool {
    let start: String = text
        .trim_start()
        .chars()
        .take(512)
        .collect::<String>()
        .to_ascii_lowercase();
    let start = match start.strip_prefix("<?xml") {
        Some(rest) => rest.split_once("?>").map_or("", |(_, after)| after).trim_start(),
        None => start.as_str(),
    };
    start.starts_with("<!doctype html") || start.starts_with("<html")
}

/// XML elements by another name than Merchant Center's (`<image>`, `<sku>`) are read as
/// its attributes, as delimited feeds' columns are.
fn rename_fields(feed: &mut ParsedFeed) {
    let names: std::collections::BTreeSet<&str> = feed
        .items
        .iter()
        .flat_map(|i| i.fields.iter().map(|(n, _)| n.as_str()))
        .collect();
    let mapping = super::fields::mapping(names);
    if let Some(report) = super::fields::describe(&mapping) {
        for item in &mut feed.items {
            for (name, _) in &mut item.fields {
                let to = super::fields::renamed(&mapping, name);
                if to != name {
                    *name = to.to_owned();
                }
            }
        }
        feed.warnings.push(Notice::about_feed(report));
    }
}

/// Something said about an item, or about the whole feed: why it was rejected, or what
/// was dropped, repaired or read differently so it could land.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// 1-based item number (data row of a delimited feed).
    pub item: Option<usize>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub id: Option<String>,
    pub reason: String,
}

/// Longest reason kept: a reason quotes the feed, whose cells may be long.
const MAX_REASON_CHARS: usize = 300;

fn shortened(reason: String) -> String {
    if reason.chars().count() <= MAX_REASON_CHARS {
        return reason;
    }
    let mut short: String = reason.chars().take(MAX_REASON_CHARS - 1).collect();
    short.push('…');
    short
}

impl Notice {
    pub fn about(item: &RawItem, reason: impl Into<String>) -> Notice {
        Notice {
            item: item.position.map(|p| p.item),
            line: item.position.map(|p| p.line),
            column: None,
            id: item.id().map(|id| shortened(id.to_owned())),
            reason: shortened(reason.into()),
        }
    }

    pub fn about_feed(reason: impl Into<String>) -> Notice {
        Notice {
            item: None,
            line: None,
            column: None,
            id: None,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = match (self.line, self.column) {
            (Some(line), Some(column)) => Some(format!("line {line}:{column}")),
            (Some(line), None) => Some(format!("line {line}")),
            _ => None,
        };
        match (self.item, at) {
            (Some(item), Some(at)) => write!(f, "item {item} ({at})")?,
            (Some(item), None) => write!(f, "item {item}")?,
            (None, Some(at)) => f.write_str(&at)?,
            (None, None) => f.write_str("feed")?,
        }
        if let Some(id) = &self.id {
            write!(f, " id={id}")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// Text as a shopper should read it: HTML tags dropped, entities decoded, white space
/// collapsed. Feeds carry descriptions as escaped HTML, CDATA HTML, or plain text.
pub fn clean_text(raw: &str) -> String {
    let text = if raw.contains(['<', '&']) {
        html2text::config::plain_no_decorate()
            .string_from_read(raw.as_bytes(), 100_000)
            .unwrap_or_else(|_| raw.to_owned())
    } else {
        raw.to_owned()
    };
    // Paragraphs stay apart, list items get a bullet, other white space collapses.
    let mut out = String::with_capacity(text.len());
    for paragraph in text.split("\n\n") {
        let mut lines: Vec<String> = Vec::new();
        for line in paragraph.lines() {
            let line = line.trim();
            let (bullet, rest) = match line.strip_prefix("* ").or_else(|| line.strip_prefix("- ")) {
                Some(rest) => (true, rest),
                None => (false, line),
            };
            let words = rest.split_whitespace().collect::<Vec<_>>().join(" ");
            if words.is_empty() {
                continue;
            }
            match lines.last_mut() {
                Some(last) if !bullet && !last_is_bullet(last) => {
                    *last = format!("{last} {words}");
                }
                _ => lines.push(if bullet { format!("• {words}") } else { words }),
            }
        }
        if lines.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\n\n");
        }
        out.push_str(&lines.join("\n"));
    }
    out
}

fn last_is_bullet(line: &str) -> bool {
    line.starts_with("• ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_descriptions_become_clean_text() {
        assert_eq!(
            clean_text("<p>Robe d&#39;&eacute;t&eacute; en <b>lin</b>.</p><ul><li>Coupe droite</li></ul>"),
            "Robe d'été en lin.\n• Coupe droite"
        );
        assert_eq!(clean_text("  plain\n text  "), "plain text");
        assert_eq!(clean_text("Tom &amp; Jerry"), "Tom & Jerry");
    }

    #[test]
    fn line_and_column_count_characters() {
        assert_eq!(line_column(b"ab\ncd\xC3\xA9f", 8), (2, 5));
        assert_eq!(line_column(b"abc", 0), (1, 1));
    }

    #[test]
    fn field_names_are_normalised() {
        assert_eq!(field_name("g:item_group_id"), "item_group_id");
        assert_eq!(field_name("Store Code"), "store_code");
        assert_eq!(field_name("\u{feff}id"), "id");
    }
}
