//! RSS 2.0 and Atom product feeds, and XML local inventory feeds.
//!
//! Items are `rss/channel/item` or `feed/entry`, or, in the XML other exporters write,
//! the `<product>`, `<offer>` or `<shopitem>` elements listed up to three levels below
//! the root (`yml_catalog/shop/offers/offer`), all beside the first one. Their attributes
//! (`<offer id="12">`) and direct children are fields, in the Google namespace (`g:price`) or
//! plain (`title`, `link`, `description`, or a name [`fields`](super::fields) knows). A Google field
//! wins over a plain one of the same name: an Atom entry's own `<id>` is not its `<g:id>`. Nested groups
//! such as `g:shipping` are skipped whole, so `g:shipping/g:price` never passes for the
//! product's price. Atom's `<link href=…>` is the product link.
//!
//! Well-formedness is checked by quick-xml (tags must match, attributes must be quoted).
//! The text it reads has been through [`repair`](super::repair): bare `&` and `<` and
//! HTML entities are already text, so what is still malformed here is structure, and
//! refuses the feed.

use quick_xml::NsReader;
use quick_xml::escape::resolve_xml_entity;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

use super::feed::{FeedError, ParsedFeed, Position, RawItem};
use super::repair::Lines;

const GOOGLE_NS: &[u8] = b"http://base.google.com/ns/1.0";
const MAX_FIELD_BYTES: usize = 64 * 1024;
const MAX_DEPTH: usize = 64;

pub fn read(text: &str) -> Result<ParsedFeed, FeedError> {
    let bytes = text.as_bytes();
    let mut reader = NsReader::from_str(text);
    reader.config_mut().check_end_names = true;

    let mut feed = ParsedFeed::default();
    let mut stack: Vec<String> = Vec::new();
    let mut item: Option<RawItem> = None;
    // The item's plain (not Google) fields, added after its Google ones.
    let mut plain: Vec<(String, String)> = Vec::new();
    // The field being read: its name and text so far.
    let mut field: Option<(String, String)> = None;
    // Depth of the item element, and of a nested group being skipped.
    let mut item_depth = 0;
    let mut lang_element = false;
    let mut lines = Lines::new(bytes);
    let mut root: Option<String> = None;
    // Where the first item was: every other is its sibling.
    let mut item_parent: Option<Vec<String>> = None;

    let error = |reader: &NsReader<&[u8]>, e: &dyn std::fmt::Display| {
        FeedError::at(bytes, reader.error_position() as usize, e.to_string())
    };
    // quick-xml's syntax errors (but one) are a construct still open at the end of input.
    let cut = |reader: &NsReader<&[u8]>, e: &quick_xml::Error| match e {
        quick_xml::Error::Syntax(s) if !matches!(s, quick_xml::errors::SyntaxError::InvalidBangMarkup) => {
            error(reader, &format!("{e}; the feed may have been cut off"))
        }
        _ => error(reader, e),
    };

    loop {
        let offset = reader.buffer_position() as usize;
        let (in_google, event) = match reader.read_resolved_event() {
            Ok((ns, event)) => (matches!(ns, ResolveResult::Bound(n) if n.as_ref() == GOOGLE_NS), event),
            Err(e) => return Err(cut(&reader, &e)),
        };
        match event {
            Event::Start(e) => {
                let local = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                stack.push(local.clone());
                if stack.len() > MAX_DEPTH {
                    return Err(FeedError::at(bytes, offset, "elements are nested too deeply"));
                }
                if stack.len() == 1 {
                    if local.eq_ignore_ascii_case("html") {
                        return Err(FeedError::Unsupported(super::feed::WEB_PAGE.into()));
                    }
                    // Only Atom declares its language there; an RSS feed in <language>.
                    if local == "feed" {
                        feed.language = xml_lang(&e);
                    }
                    root = Some(local.clone());
                }
                if item.is_none() && is_item(&stack, &mut item_parent) {
                    item_depth = stack.len();
                    let line = lines.at(offset).0;
                    item = Some(RawItem::new(Position {
                        item: feed.items.len() + 1,
                        line,
                    }));
                    for a in e.attributes().flatten() {
                        if let Ok(value) = a.normalized_value(quick_xml::XmlVersion::Implicit1_0) {
                            let name = String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned();
                            plain.push((name, value.into_owned()));
                        }
                    }
                } else if item.is_some() && stack.len() == item_depth + 1 {
                    let name = if in_google { format!("g:{local}") } else { local.clone() };
                    if local == "link"
                        && let Some(href) = attribute(&e, "href")
                    {
                        field = Some((name, href));
                    } else {
                        field = Some((name, String::new()));
                    }
                } else if item.is_none() && stack == ["rss", "channel", "language"] {
                    lang_element = true;
                    field = Some(("language".into(), String::new()));
                }
            }
            Event::Empty(e) => {
                if item.is_some()
                    && stack.len() == item_depth
                    && e.local_name().as_ref() == b"link"
                    && let Some(href) = attribute(&e, "href")
                {
                    plain.push(("link".to_owned(), href));
                }
            }
            Event::Text(t) => {
                if let Some((_, value)) = field.as_mut() {
                    value.push_str(&t.xml10_content().map_err(|e| error(&reader, &e))?);
                }
            }
            Event::CData(t) => {
                if let Some((_, value)) = field.as_mut() {
                    value.push_str(&t.decode().map_err(|e| error(&reader, &e))?);
                }
            }
            Event::GeneralRef(r) => {
                if let Some((_, value)) = field.as_mut() {
                    let name = r.decode().map_err(|e| error(&reader, &e))?;
                    if let Some(c) = r.resolve_char_ref().map_err(|e| error(&reader, &e))? {
                        value.push(c);
                    } else if let Some(s) = resolve_xml_entity(&name) {
                        value.push_str(s);
                    } else {
                        return Err(error(&reader, &format!("'&{name};' is not an XML entity")));
                    }
                }
            }
            Event::End(_) => {
                let depth = stack.len();
                stack.pop();
                if let Some((name, value)) = field.take_if(|_| lang_element || depth == item_depth + 1) {
                    if value.len() > MAX_FIELD_BYTES {
                        return Err(FeedError::at(
                            bytes,
                            offset,
                            format!("<{name}> is longer than {MAX_FIELD_BYTES} bytes"),
                        ));
                    }
                    if lang_element {
                        lang_element = false;
                        feed.language = Some(value.trim().to_owned());
                    } else if let Some(item) = item.as_mut() {
                        if name.starts_with("g:") {
                            item.push(&name, value);
                        } else {
                            plain.push((name, value));
                        }
                    }
                }
                if depth == item_depth
                    && let Some(mut done) = item.take()
                {
                    done.end_line = lines.at(reader.buffer_position() as usize).0;
                    for (name, value) in plain.drain(..) {
                        done.push(&name, value);
                    }
                    feed.items.push(done);
                    if feed.items.len() > super::feed::MAX_ITEMS {
                        return Err(FeedError::TooManyItems);
                    }
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(FeedError::at(
            bytes,
            bytes.len(),
            format!("the feed ends before </{open}>; it may have been cut off"),
        ));
    }
    if feed.items.is_empty()
        && let Some(root) = root.filter(|r| r != "rss" && r != "feed")
    {
        return Err(FeedError::Unsupported(format!(
            "<{root}> lists no <item>, <entry>, <product>, <offer> or <shopitem> elements: \
             not a product feed Vitrine reads (Merchant Center's RSS 2.0 or Atom, or one element per product)"
        )));
    }
    Ok(feed)
}

/// The names of the elements read as one product each, compared without case.
const ITEM_NAMES: &[&str] = &["item", "entry", "product", "offer", "shopitem"];

/// Whether the element at the top of `stack` is a product: an item name, up to three
/// levels below the root (`feed/entry`, `rss/channel/item`, `yml_catalog/shop/offers/offer`),
/// beside the first one (`parent`, set by the first): `catalog/accessories/product` is
/// not an item of a `catalog/products/product` feed.
fn is_item(stack: &[String], parent: &mut Option<Vec<String>>) -> bool {
    let (name, above) = match stack {
        [_, item] | [_, _, item] | [_, _, _, item] => (item, &stack[..stack.len() - 1]),
        _ => return false,
    };
    match parent {
        Some(parent) => parent.as_slice() == above && ITEM_NAMES.iter().any(|n| name.eq_ignore_ascii_case(n)),
        None if ITEM_NAMES.iter().any(|n| name.eq_ignore_ascii_case(n)) => {
            *parent = Some(above.to_vec());
            true
        }
        None => false,
    }
}

fn attribute(e: &quick_xml::events::BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name.as_bytes())
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

fn xml_lang(e: &quick_xml::events::BytesStart<'_>) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == b"xml:lang")
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}
