//! Cursors of the changes feeds: opaque to clients (base64url of a feed's tag and a
//! position), so a catalog cursor cannot be used on the wishlist feed.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Which feed a cursor belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feed {
    Wishlist,
    Snapshot,
    Catalog,
    Visits,
}

impl Feed {
    fn tag(self) -> &'static str {
        match self {
            Feed::Wishlist => "w",
            Feed::Snapshot => "s",
            Feed::Catalog => "c",
            Feed::Visits => "v",
        }
    }
}

/// Cursors are opaque to clients: a tag and a position, base64url.
pub fn encode_cursor(feed: Feed, position: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}1.{position}", feed.tag()))
}

/// The position in a cursor; an empty cursor is the start. `None` if the cursor is not
/// one of `feed`'s.
pub fn decode_cursor(feed: Feed, cursor: Option<&str>) -> Option<i64> {
    let Some(cursor) = cursor.filter(|c| !c.is_empty()) else {
        return Some(0);
    };
    if cursor.len() > 64 {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let position = text.strip_prefix(feed.tag())?.strip_prefix("1.")?;
    position.parse().ok().filter(|p| *p >= 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_do_not_cross_feeds() {
        let c = encode_cursor(Feed::Wishlist, 42);
        assert_eq!(decode_cursor(Feed::Wishlist, Some(&c)), Some(42));
        assert_eq!(decode_cursor(Feed::Catalog, Some(&c)), None);
        assert_eq!(decode_cursor(Feed::Catalog, None), Some(0));
        assert_eq!(decode_cursor(Feed::Catalog, Some("!!")), None);
    }
}
