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
    Erasures,
}

impl Feed {
    fn tag(self) -> &'static str {
        match self {
            Feed::Wishlist => "w",
            Feed::Snapshot => "s",
            Feed::Catalog => "c",
            Feed::Visits => "v",
            Feed::Erasures => "e",
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

/// A snapshot's cursor carries where it is and where the changes feed was when the
/// snapshot began (its `end`): the snapshot covers changes up to `end`, and its last
/// page hands over to the changes feed at `end`, so nothing changed meanwhile is missed.
pub fn encode_snapshot_cursor(position: i64, end: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}2.{position}.{end}", Feed::Snapshot.tag()))
}

/// A snapshot cursor's position and end; `(0, None)` for the first page. `None` if the
/// cursor is not a snapshot's.
pub fn decode_snapshot_cursor(cursor: Option<&str>) -> Option<(i64, Option<i64>)> {
    let Some(cursor) = cursor.filter(|c| !c.is_empty()) else {
        return Some((0, None));
    };
    if cursor.len() > 64 {
        return None;
    }
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
    let (position, end) = text
        .strip_prefix(Feed::Snapshot.tag())?
        .strip_prefix("2.")?
        .split_once('.')?;
    let (position, end) = (position.parse().ok()?, end.parse().ok()?);
    (0 <= position && position <= end).then_some((position, Some(end)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_cursors_carry_their_end() {
        let c = encode_snapshot_cursor(5, 9);
        assert_eq!(decode_snapshot_cursor(Some(&c)), Some((5, Some(9))));
        assert_eq!(decode_snapshot_cursor(None), Some((0, None)));
        assert_eq!(decode_snapshot_cursor(Some(&encode_cursor(Feed::Snapshot, 5))), None);
        assert_eq!(decode_snapshot_cursor(Some(&encode_cursor(Feed::Wishlist, 5))), None);
        assert_eq!(decode_snapshot_cursor(Some(&encode_snapshot_cursor(9, 5))), None);
        assert_eq!(decode_cursor(Feed::Snapshot, Some(&c)), None);
    }

    #[test]
    fn cursors_round_trip_and_do_not_cross_feeds() {
        let c = encode_cursor(Feed::Wishlist, 42);
        assert_eq!(decode_cursor(Feed::Wishlist, Some(&c)), Some(42));
        assert_eq!(decode_cursor(Feed::Catalog, Some(&c)), None);
        assert_eq!(decode_cursor(Feed::Catalog, None), Some(0));
        assert_eq!(decode_cursor(Feed::Catalog, Some("!!")), None);
    }
}
