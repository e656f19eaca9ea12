//! Damage that real exports carry and that can be repaired where it stands, each repair
//! a warning at its line and column: text in another encoding than UTF-8 (declared, or
//! a stray Latin-1 byte), control characters, and in XML a bare `&` or `<` or an HTML
//! entity that XML does not define.
//!
//! Structure is never repaired. A feed cut short or with mismatched tags is still
//! refused whole by its reader, so a cut download can never remove products.

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};
use quick_xml::escape::{resolve_html5_entity, resolve_xml_entity};

/// Repairs of one kind described one by one; the others are counted in one warning.
const DETAILED: usize = 20;
/// More markup repairs than this and the file is not XML damaged here and there.
pub const MAX_MARKUP_REPAIRS: usize = 100_000;

/// One repair, where the feed's author would find it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    pub line: usize,
    pub column: Option<usize>,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Encoding,
    Control,
    Markup,
}

/// The repairs made to one feed: the first few of each kind in detail, the rest counted.
#[derive(Debug, Default)]
pub struct Repairs {
    /// Damage that is not local: where a quote opened that runs over markup.
    pub unrepairable: Option<(usize, usize)>,
    detailed: Vec<(Kind, Damage)>,
    /// Per kind: how many more, and the line of the first of them.
    more: Vec<(Kind, usize, usize)>,
}

impl Repairs {
    /// How many markup repairs were made.
    pub fn markup(&self) -> usize {
        self.detailed.iter().filter(|(k, _)| *k == Kind::Markup).count()
            + self
                .more
                .iter()
                .filter(|(k, _, _)| *k == Kind::Markup)
                .map(|(_, n, _)| n)
                .sum::<usize>()
    }

    fn add(&mut self, kind: Kind, (line, column): (usize, usize), reason: impl FnOnce() -> String) {
        if let Some(more) = self.more.iter_mut().find(|(k, _, _)| *k == kind) {
            more.1 += 1;
        } else if self.detailed.iter().filter(|(k, _)| *k == kind).count() < DETAILED {
            let damage = Damage {
                line,
                column: Some(column),
                reason: reason(),
            };
            self.detailed.push((kind, damage));
        } else {
            self.more.push((kind, 1, line));
        }
    }

    /// The repairs in the order of the feed, a summary line per kind after the detailed ones.
    pub fn finish(self) -> Vec<Damage> {
        let mut damage: Vec<Damage> = self.detailed.into_iter().map(|(_, d)| d).collect();
        for (kind, n, line) in self.more {
            let reason = match kind {
                Kind::Encoding => format!("{n} more byte sequences that are not UTF-8 were read as Windows-1252"),
                Kind::Control => format!("{n} more control characters were read as spaces"),
                Kind::Markup => format!("{n} more bare '&' or '<' or HTML entities were read as text"),
            };
            damage.push(Damage {
                line,
                column: None,
                reason,
            });
        }
        damage.sort_by_key(|d| (d.line, d.column));
        damage
    }
}

/// Line and column (1-based, in characters) of increasing byte offsets of one text, in
/// one pass over it however many are asked.
#[derive(Debug)]
pub struct Lines<'a> {
    bytes: &'a [u8],
    offset: usize,
    line: usize,
    /// Characters between the line's start and `offset`.
    column: usize,
}

impl<'a> Lines<'a> {
    pub fn new(bytes: &'a [u8]) -> Lines<'a> {
        Lines {
            bytes,
            offset: 0,
            line: 1,
            column: 0,
        }
    }

    /// The position of `offset`; offsets before the last one asked give that one's.
    pub fn at(&mut self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.bytes.len()).max(self.offset);
        let segment = &self.bytes[self.offset..offset];
        let chars = |b: &[u8]| b.iter().filter(|b| (**b & 0xC0) != 0x80).count();
        match segment.iter().rposition(|b| *b == b'\n') {
            Some(last) => {
                self.line += segment.iter().filter(|b| **b == b'\n').count();
                self.column = chars(&segment[last + 1..]);
            }
            None => self.column += chars(segment),
        }
        self.offset = offset;
        (self.line, self.column + 1)
    }
}

/// The feed's text: decoded from the encoding its byte-order mark or XML declaration
/// names, else UTF-8 with any invalid sequence read as Windows-1252 (the usual culprit:
/// one Latin-1 `é` pasted into a UTF-8 file); control characters become spaces.
pub fn decode<'a>(bytes: &'a [u8], repairs: &mut Repairs) -> Cow<'a, str> {
    let (mut encoding, body) = match Encoding::for_bom(bytes) {
        Some((encoding, bom)) => (encoding, &bytes[bom..]),
        None => (declared_encoding(bytes).unwrap_or(UTF_8), bytes),
    };
    // A feed that says Latin-1 but is written in UTF-8 (exporters copy the declaration)
    // is read as what it is.
    if encoding != UTF_8 && !body.is_ascii() && std::str::from_utf8(body).is_ok() {
        repairs.add(Kind::Encoding, (1, 1), || {
            format!(
                "the feed declares {} but is written in UTF-8; read as UTF-8",
                encoding.name()
            )
        });
        encoding = UTF_8;
    }
    let text = if encoding == UTF_8 {
        utf8_lossy(body, repairs)
    } else {
        let (text, malformed) = encoding.decode_without_bom_handling(body);
        if malformed {
            repairs.add(Kind::Encoding, (1, 1), || {
                format!(
                    "the feed is in {} but holds bytes that are not; they read as '\u{FFFD}'",
                    encoding.name()
                )
            });
        }
        text
    };
    match without_controls(&text, repairs) {
        Some(clean) => Cow::Owned(clean),
        None => text,
    }
}

/// The encoding an XML declaration names (`<?xml version="1.0" encoding="ISO-8859-1"?>`).
fn declared_encoding(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = bytes.get(..bytes.len().min(200))?;
    let head = std::str::from_utf8(head.split(|b| *b == b'>').next()?).ok()?;
    let decl = head.trim_start().strip_prefix("<?xml")?;
    let value = decl
        .split("encoding")
        .nth(1)?
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let label = value[1..].split(quote).next()?;
    // A declaration read as ASCII cannot be right about UTF-16.
    Encoding::for_label(label.as_bytes()).filter(|e| *e != encoding_rs::UTF_16LE && *e != encoding_rs::UTF_16BE)
}

fn utf8_lossy<'a>(bytes: &'a [u8], repairs: &mut Repairs) -> Cow<'a, str> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Cow::Borrowed(text);
    }
    let mut lines = Lines::new(bytes);
    let mut out = String::with_capacity(bytes.len() + 16);
    let mut offset = 0;
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        offset += chunk.valid().len();
        let invalid = chunk.invalid();
        if invalid.is_empty() {
            continue;
        }
        let read: String = invalid.iter().map(|b| windows_1252(*b)).collect();
        repairs.add(Kind::Encoding, lines.at(offset), || {
            let hex: Vec<String> = invalid.iter().map(|b| format!("{b:02X}")).collect();
            format!("the bytes {} are not UTF-8; read as '{read}'", hex.join(" "))
        });
        out.push_str(&read);
        offset += invalid.len();
    }
    Cow::Owned(out)
}

/// The Windows-1252 character of a byte (Latin-1 for most), or U+FFFD where it has none.
fn windows_1252(byte: u8) -> char {
    let bytes = [byte];
    let (text, _, _) = WINDOWS_1252.decode(&bytes);
    text.chars().next().filter(|c| !c.is_control()).unwrap_or('\u{FFFD}')
}

/// A control character (other than tab and line ends) is never text: XML forbids it and
/// a TSV cell cannot show it. `None` when there is none.
fn without_controls(text: &str, repairs: &mut Repairs) -> Option<String> {
    let is_bad = |c: char| (c.is_control() && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{FFFE}' | '\u{FFFF}');
    let first = text.find(is_bad)?;
    let mut lines = Lines::new(text.as_bytes());
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..first]);
    for (i, c) in text[first..].char_indices() {
        if !is_bad(c) {
            out.push(c);
            continue;
        }
        // U+0080–U+009F are what a Windows-1252 text read as Latin-1 leaves (’ as U+0092).
        let read = match u8::try_from(u32::from(c)) {
            Ok(byte @ 0x80..=0x9F) => Some(windows_1252(byte)).filter(|c| *c != '\u{FFFD}'),
            _ => None,
        };
        repairs.add(Kind::Control, lines.at(first + i), || match read {
            Some(r) => format!("the control character U+{:04X} was read as '{r}'", u32::from(c)),
            None => format!("the control character U+{:04X} was read as a space", u32::from(c)),
        });
        out.push(read.unwrap_or(' '));
    }
    Some(out)
}

/// XML text with the damage hand-made exports leave repaired: a bare `&` (`Tom & Jerry`,
/// a URL's `?a=1&b=2`) becomes `&amp;`, a bare `<` (`< 20 €`) becomes `&lt;`, an HTML
/// entity (`&eacute;`) becomes its character reference, and a character reference to
/// no character becomes U+FFFD. Comments, CDATA sections, processing instructions and
/// the DOCTYPE are left as they are.
pub fn xml_markup<'a>(text: &'a str, repairs: &mut Repairs) -> Cow<'a, str> {
    let bytes = text.as_bytes();
    let mut edit = Edit::new(text);
    let mut lines = Lines::new(bytes);
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'<' => {
                let rest = &bytes[i..];
                let skip_to = |end: &[u8]| find(rest, end).map_or(bytes.len(), |at| i + at + end.len());
                i = if rest.starts_with(b"<!--") {
                    skip_to(b"-->")
                } else if rest.starts_with(b"<![CDATA[") {
                    skip_to(b"]]>")
                } else if rest.starts_with(b"<?") {
                    skip_to(b"?>")
                } else if rest.starts_with(b"<!") {
                    skip_to(b">")
                } else if rest.get(1).is_some_and(|b| *b == b'/' || is_name_start(*b)) {
                    tag(bytes, i, &mut edit, &mut lines, repairs)
                } else {
                    repairs.add(Kind::Markup, lines.at(i), || "a bare '<' was read as text".into());
                    edit.replace(i, 1, "&lt;");
                    i + 1
                };
            }
            b'&' => i = reference(bytes, i, &mut edit, &mut lines, repairs),
            _ => i += 1,
        }
    }
    edit.finish()
}

/// Walks a start or end tag from its `<`; returns the offset after its `>`. Inside
/// quoted attribute values, `&` and `<` are repaired as in text.
fn tag(bytes: &[u8], start: usize, edit: &mut Edit<'_>, lines: &mut Lines<'_>, repairs: &mut Repairs) -> usize {
    let mut quote = None;
    let mut i = start + 1;
    while i < bytes.len() {
        match (bytes[i], quote) {
            (b'>', None) => return i + 1,
            (b'"' | b'\'', None) => quote = Some(bytes[i]),
            (q, Some(open)) if q == open => quote = None,
            (b'&', Some(_)) => {
                i = reference(bytes, i, edit, lines, repairs);
                continue;
            }
            (b'<', Some(_)) => {
                // Markup inside a value: its quote never closed and swallowed what
                // follows, which no repair can give back.
                if bytes
                    .get(i + 1)
                    .is_some_and(|b| is_name_start(*b) || matches!(b, b'/' | b'!' | b'?'))
                {
                    repairs.unrepairable.get_or_insert(lines.at(start));
                    return bytes.len();
                }
                repairs.add(Kind::Markup, lines.at(i), || {
                    "a bare '<' in an attribute was read as text".into()
                });
                edit.replace(i, 1, "&lt;");
            }
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

/// Checks the reference starting at the `&` at `start`; returns the offset after it.
fn reference(bytes: &[u8], start: usize, edit: &mut Edit<'_>, lines: &mut Lines<'_>, repairs: &mut Repairs) -> usize {
    const LONGEST: usize = 40;
    let rest = &bytes[start + 1..bytes.len().min(start + 2 + LONGEST)];
    let Some(semi) = rest.iter().position(|b| *b == b';') else {
        repairs.add(Kind::Markup, lines.at(start), || "a bare '&' was read as text".into());
        edit.replace(start, 1, "&amp;");
        return start + 1;
    };
    let name = std::str::from_utf8(&rest[..semi]).unwrap_or("");
    let end = start + semi + 2;
    if let Some(number) = name.strip_prefix('#') {
        let (digits, radix) = match number.strip_prefix(['x', 'X']) {
            Some(hex) => (hex, 16),
            None => (number, 10),
        };
        if !digits.is_empty() && digits.len() <= 8 && digits.chars().all(|c| c.is_digit(radix)) {
            let code = u32::from_str_radix(digits, radix).unwrap_or(u32::MAX);
            // &#146; and friends: Windows-1252 bytes written as character numbers.
            let read = match u8::try_from(code) {
                Ok(byte @ 0x80..=0x9F) => Some(windows_1252(byte)),
                _ if char::from_u32(code).is_some_and(is_xml_char) => None,
                _ => Some('\u{FFFD}'),
            };
            if let Some(c) = read {
                repairs.add(Kind::Markup, lines.at(start), || {
                    format!("'&{name};' names no character; read as '{c}'")
                });
                edit.replace(start, end - start, &format!("&#{};", u32::from(c)));
            }
            return end;
        }
    }
    if !name.is_empty() && name.bytes().all(is_name_byte) {
        if resolve_xml_entity(name).is_some() {
            return end;
        }
        if let Some(chars) = resolve_html5_entity(name) {
            repairs.add(Kind::Markup, lines.at(start), || {
                format!("'&{name};' is an HTML entity, not XML; read as '{chars}'")
            });
            let refs: String = chars.chars().map(|c| format!("&#{};", u32::from(c))).collect();
            edit.replace(start, end - start, &refs);
            return end;
        }
    }
    repairs.add(Kind::Markup, lines.at(start), || "a bare '&' was read as text".into());
    edit.replace(start, 1, "&amp;");
    start + 1
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (!c.is_control() && !matches!(c, '\u{FFFE}' | '\u{FFFF}'))
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b':' || b >= 0x80
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b':' | b'.' | b'-')
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A text with replacements made in order, copied only when there is one.
struct Edit<'a> {
    text: &'a str,
    out: Option<String>,
    copied: usize,
}

impl<'a> Edit<'a> {
    fn new(text: &'a str) -> Edit<'a> {
        Edit {
            text,
            out: None,
            copied: 0,
        }
    }

    fn replace(&mut self, at: usize, len: usize, with: &str) {
        let out = self
            .out
            .get_or_insert_with(|| String::with_capacity(self.text.len() + 64));
        out.push_str(&self.text[self.copied..at]);
        out.push_str(with);
        self.copied = at + len;
    }

    fn finish(self) -> Cow<'a, str> {
        match self.out {
            None => Cow::Borrowed(self.text),
            Some(mut out) => {
                out.push_str(&self.text[self.copied..]);
                Cow::Owned(out)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn markup(text: &str) -> (String, Vec<Damage>) {
        let mut repairs = Repairs::default();
        let out = xml_markup(text, &mut repairs).into_owned();
        (out, repairs.finish())
    }

    #[test]
    fn bare_ampersands_and_html_entities_are_read_as_text() {
        let (out, damage) = markup("<t>Tom & Jerry &eacute;t&eacute; &amp; &#233; &#0; &bogus</t>");
        let (quote, _) = markup("<t>&#146;&#x2019;&#12a;</t>");
        assert_eq!(
            quote, "<t>&#8217;&#x2019;&amp;#12a;</t>",
            "Windows-1252 numbers read as their characters"
        );
        assert_eq!(
            out,
            "<t>Tom &amp; Jerry &#233;t&#233; &amp; &#233; &#65533; &amp;bogus</t>"
        );
        assert_eq!(damage.len(), 5);
        assert_eq!((damage[0].line, damage[0].column), (1, Some(8)));
        assert!(damage[1].reason.contains("HTML entity"), "{damage:?}");
    }

    #[test]
    fn attributes_and_bare_angles_are_repaired_but_cdata_and_comments_are_not() {
        let (out, damage) = markup("<a href=\"x?a=1&b=2\">< 20 €<![CDATA[a & b < c]]><!-- & --></a>");
        assert_eq!(
            out,
            "<a href=\"x?a=1&amp;b=2\">&lt; 20 €<![CDATA[a & b < c]]><!-- & --></a>"
        );
        assert_eq!(damage.len(), 2);
    }

    #[test]
    fn a_quote_that_runs_over_markup_is_not_repaired() {
        let mut repairs = Repairs::default();
        xml_markup(
            "<rss><item><link href=\"x></item>\n<item><g:id>B</g:id></item>\"/></rss>",
            &mut repairs,
        );
        assert_eq!(repairs.unrepairable, Some((1, 12)));
    }

    #[test]
    fn clean_xml_is_borrowed() {
        let mut repairs = Repairs::default();
        assert!(matches!(
            xml_markup("<a b='1'>x &amp; y</a>", &mut repairs),
            Cow::Borrowed(_)
        ));
        assert!(matches!(decode(b"<a/>", &mut repairs), Cow::Borrowed(_)));
        assert!(repairs.finish().is_empty());
    }

    #[test]
    fn a_stray_latin1_byte_is_read_as_windows_1252() {
        let mut repairs = Repairs::default();
        let text = decode(b"ab\ncaf\xE9 cr\xC3\xA8me \x81", &mut repairs);
        assert_eq!(text, "ab\ncafé crème \u{FFFD}");
        let damage = repairs.finish();
        assert_eq!((damage[0].line, damage[0].column), (2, Some(4)));
        assert!(damage[0].reason.contains("E9"), "{damage:?}");
    }

    #[test]
    fn declared_and_bom_encodings_are_decoded() {
        let mut repairs = Repairs::default();
        let latin1 = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><t>\xE9t\xE9</t>";
        assert!(decode(latin1, &mut repairs).ends_with("<t>été</t>"));
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("id\ttitle\n".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(decode(&utf16, &mut repairs), "id\ttitle\n");
        assert!(repairs.finish().is_empty());
    }

    #[test]
    fn control_characters_become_spaces_or_their_windows_1252_reading() {
        let mut repairs = Repairs::default();
        assert_eq!(decode("a\u{b}b\u{92}s\tc\n".as_bytes(), &mut repairs), "a b’s\tc\n");
        assert_eq!(repairs.finish().len(), 2);
    }

    #[test]
    fn many_repairs_of_a_kind_are_summarised() {
        let mut repairs = Repairs::default();
        let text = "&".repeat(50);
        markup_into(&text, &mut repairs);
        let damage = repairs.finish();
        assert_eq!(damage.len(), DETAILED + 1);
        assert!(damage.iter().any(|d| d.reason.starts_with("30 more")), "{damage:?}");
    }

    fn markup_into(text: &str, repairs: &mut Repairs) {
        xml_markup(text, repairs);
    }
}
